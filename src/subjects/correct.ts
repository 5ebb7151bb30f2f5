/**
 * `steward subject correct`: rectification (GDPR Art. 16). One category's value
 * (`contact.email`, `contact.phone`, `identity.person_name`, …) is set on every row
 * of the person that holds it, in every source, as jobs of the shared batch-job
 * engine: bounded batches, one short transaction each, idempotent writes (set the
 * column to the new value), resumable after a kill from a manifest found by a keyed
 * hash of the identifiers and the new value. Encrypted columns are encrypted again
 * (and their blind index recomputed) through the `encrypt` hook the caller gives
 * (the CLI builds it from the keyring); without it they are a problem of the plan,
 * never written in plain.
 *
 * The dry run lists per table the columns and rows it would change and tries the
 * writes in a transaction rolled back (a unique column that another row already holds
 * the new value in is named before anything is written). Mentions of the old value in
 * free text are listed, not rewritten: prose is the person's or a colleague's words.
 * The certificate (`subject.correction-certificate`, one per source) gives per table
 * the columns, the rows and the SHA-256 of their keys; never the old or the new value.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { StewardConfig } from '../config/index.js';
import { UsageError } from '../errors.js';
import { runJob, type CrashHook, type JobProgress } from '../jobs/engine.js';
import { tableRef } from '../sources/column-writer.js';
import { toSourceError } from '../sources/errors.js';
import type { Source, TableInfo } from '../sources/types.js';
import type { Job } from '../state/jobs.js';
import type { StateStore } from '../state/store.js';
import { keysDigest } from './erase-plan.js';
import { abandonManifest, withSubjectLease, type AbandonedStep } from './lease.js';
import { SubjectDecryptor, type SubjectKeyring } from './decrypt.js';
import { findSubject, type FindResult } from './find.js';
import { IDENTIFIER_CATEGORIES, parseIdentifiers, type Identifier } from './identifiers.js';
import { tableKey, type QualifiedTable, type SourceSchema, type SubjectMap } from './map.js';
import { certificateKey, chunk, groupBy, jsonSafe, keyEquals, requestHash, requestKey, reviveKey, seal, tampered, unseal } from './rows.js';

/** `email` → `contact.email`: the identifier kinds as categories. */
const ALIASES: Readonly<Record<string, string>> = { email: 'contact.email', phone: 'contact.phone', nationalId: 'identity.government_id', 'national-id': 'identity.government_id' };

/** What an encrypted column is written as: the ciphertext, and the blind index when the column has one (column → value). */
export type EncryptHook = (at: { readonly source: string; readonly table: TableInfo; readonly column: string; readonly key: Readonly<Record<string, unknown>> }, value: string) => Promise<Readonly<Record<string, unknown>>>;

export interface CorrectOptions {
  readonly config: StewardConfig;
  readonly map: SubjectMap;
  readonly schemas: ReadonlyMap<string, SourceSchema>;
  readonly sources: ReadonlyMap<string, Source>;
  readonly store: StateStore;
  readonly identifiers: readonly Identifier[];
  readonly defaultCountry?: string | undefined;
  /** The keyring (decrypt.ts `openSubjectKeyring`): encrypted identifier columns are searched through their blind index. */
  readonly keyring?: SubjectKeyring | undefined;
  /** `contact.email=alice@new.example` parsed: the category and the new value. */
  readonly set: { readonly category: string; readonly value: string };
  readonly dryRun: boolean;
  /** Give up the unfinished correction of these identifiers and this value (see erase.ts `abandon`). */
  readonly abandon?: boolean;
  readonly actor: string;
  readonly batchSize?: number;
  readonly encrypt?: EncryptHook | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((p: JobProgress & { readonly source: string }) => void | Promise<void>) | undefined;
  readonly crashAt?: CrashHook | undefined;
}

export interface CorrectionTable extends QualifiedTable {
  readonly columns: readonly string[];
  /** Of those, encrypted by Steward (written through the encrypt hook). */
  readonly encrypted: readonly string[];
  readonly rows: number;
}

export interface CorrectionCertificate {
  readonly correctionId: string;
  readonly source: string;
  readonly category: string;
  readonly tables: readonly (QualifiedTable & { readonly columns: readonly string[]; readonly rows: number; readonly keysHmacSha256: string })[];
  readonly finishedAt: string;
}

export interface CorrectResult {
  readonly correctionId: string | null;
  readonly dryRun: boolean;
  readonly resumed: boolean;
  readonly category: string;
  readonly tables: readonly CorrectionTable[];
  /** Free-text values that quote the subject: listed, not rewritten. */
  readonly mentions: number;
  readonly problems: readonly string[];
  readonly ambiguous: FindResult['ambiguous'];
  readonly notFound: boolean;
  readonly certificates: readonly CorrectionCertificate[];
  /** With `abandon`: what the abandoned run had done, per source. */
  readonly abandoned?: readonly AbandonedStep[];
}

const SECRET = 'subject-correction';
const MANIFEST_SOURCE = '(subjects)';
const TABLE = 'correction';

/** `contact.email=alice@new.example` → the category and value; the value checked for the identifier kinds. */
export function parseSet(text: string, defaultCountry?: string): { category: string; value: string } {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError('--set takes CATEGORY=VALUE (the value is not repeated here: it is personal data)', { hint: 'e.g. --set contact.email=alice@new.example (or email=…, phone=…, identity.person_name=…)' });
  const raw = text.slice(0, at).trim();
  const category = ALIASES[raw] ?? raw;
  const value = text.slice(at + 1).trim();
  if (!/^[a-z_]+\.[a-z_]+$/.test(category)) throw new UsageError(`--set names a category such as contact.email, not "${raw.slice(0, 40)}"`, { hint: 'The categories are those of the audit inventory (steward audit --json | jq ".sources[].inventory[].category")' });
  if (value === '') throw new UsageError('--set gives no value', { hint: 'To remove a value, erase it (steward subject erase); correct sets a new one' });
  const kind = IDENTIFIER_CATEGORIES[category];
  if (kind) parseIdentifiers({ [kind === 'nationalId' ? 'nationalId' : kind]: [value] } as never, defaultCountry ? { defaultCountry: defaultCountry as never } : {}); // throws on a malformed email or phone
  return { category, value };
}

interface Target {
  readonly t: TableInfo;
  readonly source: string;
  readonly columns: readonly string[];
  readonly encrypted: readonly string[];
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

/** Corrects (or plans to correct) one category of one person's data; a run that writes holds the subject lease (lease.ts). */
export async function correctSubject(options: CorrectOptions): Promise<CorrectResult> {
  if (options.abandon) return withSubjectLease(options.store, 'Abandoning the correction', () => abandonCorrection(options));
  if (options.dryRun) return correctNow(options);
  return withSubjectLease(options.store, 'The correction', () => correctNow(options));
}

async function abandonCorrection(o: CorrectOptions): Promise<CorrectResult> {
  const category = ALIASES[o.set.category] ?? o.set.category;
  const hash = await requestHash(o.store, SECRET, o.identifiers, `${category}\0${o.set.value}`);
  const manifest = await o.store.jobs.open({ source: MANIFEST_SOURCE, table: TABLE, target: `subject:${hash}` }, 'subject-correct');
  if (!manifest) throw new UsageError('There is no unfinished correction for these identifiers and this value: nothing to abandon', { hint: 'A correction is found by the identifiers and the --set it was started with: give the same ones' });
  const correctionId = String(manifest.options.correctionId);
  const names = [...new Set([...o.config.sources.map((s) => s.name), ...o.sources.keys()])].sort();
  const abandoned = await abandonManifest(o.store, manifest, names.map((source) => ({ id: `${manifest.id}:${source}`, source, stage: 'rows' })), { actor: o.actor, action: 'subject.correct.abandoned', subject: { correctionId }, what: `The correction ${correctionId.slice(0, 8)}` });
  return { correctionId, dryRun: false, resumed: true, category, tables: [], mentions: 0, problems: [], ambiguous: null, notFound: false, certificates: [], abandoned: abandoned.filter((x) => x.status !== 'not started') };
}

async function correctNow(options: CorrectOptions): Promise<CorrectResult> {
  // Encrypted columns: through the given hook, or the keyring when it is open.
  let o = options;
  if (!o.encrypt && o.keyring?.fields) {
    const d = new SubjectDecryptor(o.keyring, (source) => o.schemas.get(source)?.tables ?? []);
    const map = o.map;
    o = {
      ...o,
      encrypt: (at, value) => {
        const t = { source: at.source, schema: at.table.schema, name: at.table.name };
        const bidx = map.tables.find((m) => tableKey(m) === tableKey(t))?.identifiers.find((i) => i.column === at.column)?.blindIndex;
        return d.encryptFor(t, at.column, at.key, value, bidx);
      },
    };
  }
  const category = ALIASES[o.set.category] ?? o.set.category;
  const hash = await requestHash(o.store, SECRET, o.identifiers, `${category}\0${o.set.value}`);
  const key = await requestKey(o.store, SECRET, o.identifiers, `${category}\0${o.set.value}`);
  const target = { source: MANIFEST_SOURCE, table: TABLE, target: `subject:${hash}` };
  const info = (t: QualifiedTable): TableInfo | undefined => o.schemas.get(t.source)?.tables.find((x) => x.schema === t.schema && x.name === t.name);
  const base = { dryRun: o.dryRun, category, ambiguous: null, notFound: false, certificates: [] as CorrectionCertificate[] };
  const manifest = await o.store.jobs.open(target, 'subject-correct');
  let targets: Target[];
  let mentions = 0;
  if (manifest) {
    // The tables and keys a run sealed (see rows.ts): an edited manifest does not open.
    const stored = unseal(key, `${manifest.id}\0${String(manifest.options.correctionId)}`, manifest.options.sealed);
    if (!Array.isArray(stored)) return { ...base, correctionId: String(manifest.options.correctionId), resumed: true, tables: [], mentions: 0, problems: [tampered(`correction ${String(manifest.options.correctionId).slice(0, 8)}`)] };
    targets = (stored as { src: string; s: string; t: string; c: string[]; e: string[]; k: unknown[][] }[]).flatMap((x) => {
      const t = info({ source: x.src, schema: x.s, name: x.t });
      return t ? [{ t, source: x.src, columns: x.c, encrypted: x.e, keys: x.k.map((k) => Object.fromEntries(t.primaryKey.map((c, i) => [c, reviveKey(t, k)[i]]))) }] : [];
    });
  } else {
    const found = await findSubject({ map: o.map, schemas: o.schemas, sources: o.sources as Map<string, Source>, identifiers: o.identifiers, ...(o.keyring ? { keyring: o.keyring } : {}), ...(o.defaultCountry ? { defaultCountry: o.defaultCountry } : {}) });
    if (found.ambiguous) return { ...base, correctionId: null, resumed: false, tables: [], mentions: 0, problems: [], ambiguous: found.ambiguous };
    if (found.rows.length === 0) return { ...base, correctionId: null, resumed: false, tables: [], mentions: found.mentions.length, problems: [], notFound: true };
    mentions = found.mentions.length;
    targets = targetsOf(o, found, category, info);
  }
  const tables: CorrectionTable[] = targets.map((x) => ({ source: x.source, schema: x.t.schema, name: x.t.name, columns: x.columns, encrypted: x.encrypted, rows: x.keys.length }));
  const problems: string[] = [];
  if (targets.length === 0) problems.push(`no row of the subject holds ${category} (per the audit inventory): nothing to correct; check the category (steward subject map lists the identifying columns)`);
  for (const x of targets) if (x.encrypted.length > 0 && !o.encrypt) problems.push(`${x.source}:${x.t.schema}.${x.t.name}.${x.encrypted.join(', ')} is encrypted by Steward and the keyring is not open: open it (encryption.masterKey) so the new value is encrypted and indexed; nothing is written in plain`);
  if (problems.length === 0) problems.push(...(await preflight(o, targets)));
  if (o.dryRun || problems.length > 0) return { ...base, correctionId: manifest ? String(manifest.options.correctionId) : null, resumed: manifest !== null, tables, mentions, problems };

  let job = manifest;
  if (!job) {
    const correctionId = randomUUID();
    const at = new Date().toISOString();
    const id = `correct-${correctionId}`;
    job = {
      id,
      ...target,
      operation: 'subject-correct',
      status: 'running',
      pass: 1,
      lastKey: null,
      counts: {},
      options: { correctionId, category, sealed: seal(key, `${id}\0${correctionId}`, targets.map((x) => ({ src: x.source, s: x.t.schema, t: x.t.name, c: x.columns, e: x.encrypted, k: x.keys.map((k) => x.t.primaryKey.map((c) => jsonSafe(k[c]))) }))) },
      owner: null,
      startedAt: at,
      updatedAt: at,
      finishedAt: null,
    } satisfies Job;
    await o.store.jobs.create(job);
  }
  const correctionId = String(job.options.correctionId);
  const certificates: CorrectionCertificate[] = [];
  const digestKey = await certificateKey(o.store);
  for (const [source, ts] of [...groupBy(targets, (x) => x.source)].sort(([a], [b]) => a.localeCompare(b))) {
    const src = o.sources.get(source)!;
    const batches = ts.flatMap((x) => chunk(x.keys, o.batchSize ?? 200).map((keys) => ({ ...x, keys })));
    const jobId = `${job.id}:${source}`;
    const existing = await o.store.jobs.get(jobId);
    const certOf = (finishedAt: string): CorrectionCertificate => ({ correctionId, source, category, tables: ts.map((x) => ({ source, schema: x.t.schema, name: x.t.name, columns: x.columns, rows: x.keys.length, keysHmacSha256: keysDigest(x.keys.map((k) => Object.fromEntries(x.t.primaryKey.map((c) => [c, jsonSafe(k[c])]))), digestKey) })), finishedAt });
    if (existing?.status === 'done') {
      certificates.push(certOf(existing.finishedAt ?? new Date().toISOString()));
      continue;
    }
    let done = Number(existing?.lastKey?.[0] ?? 0);
    const counts: Record<string, number> = { ...(existing?.counts ?? {}) };
    certificates.push(
      await runJob<CorrectionCertificate>(
        {
          source: src,
          store: o.store,
          actor: o.actor,
          existing: existing ?? null,
          create: () => ({ id: jobId, source, table: TABLE, target: `rows:${correctionId}`, operation: 'subject-correct', pass: 1, lastKey: [0], counts: {}, options: { correctionId } }),
          action: 'subject.correct',
          finishedAction: 'subject.correction-certificate',
          subject: { correctionId, source },
          alreadyDone: async (j) => {
            for await (const entries of o.store.activityBatches({ action: 'subject.correction-certificate' })) {
              const e = entries.find((x) => (x.subject as { jobId?: string }).jobId === j.id);
              if (e) return { result: e.details as unknown as CorrectionCertificate, counts: j.counts, finishedAt: e.at };
            }
            return undefined;
          },
          counts: () => counts,
          what: `the correction ${correctionId.slice(0, 8)} in ${source}`,
          progressText: () => `${done} of ${batches.length} batch(es) done`,
          progress: () => ({ done, total: batches.length }),
          ...(o.onProgress ? { onProgress: (p: JobProgress) => o.onProgress!({ ...p, source }) } : {}),
          signal: o.signal,
          errorContext: () => ({ action: 'correct the subject in', command: 'subject' }),
          crashAt: o.crashAt,
        },
        async (run) => {
          await run.batches<number, (typeof batches)[number], { b: (typeof batches)[number]; sets: Readonly<Record<string, unknown>>[] }, number>({
            from: done,
            select: async (i) => {
              const at = i ?? 0;
              const b = batches[at];
              return b ? { batch: b, next: at + 1, last: at + 1 >= batches.length } : null;
            },
            transform: async (b) => ({ b, sets: await Promise.all(b.keys.map((k) => valuesFor(o, b, k))) }),
            write: (trx, p) => writeRows(trx, p.b, p.sets),
            checkpoint: 'after',
            committed: (_p, n) => {
              done++;
              counts.rows = (counts.rows ?? 0) + (n ?? 0);
            },
            record: () => ({ lastKey: [done], counts }),
          });
          const cert = certOf(new Date().toISOString());
          return { result: cert, counts, entry: { ...cert } };
        },
      ),
    );
  }
  await o.store.jobs.setOptions(job.id, { correctionId, category, tables: tables.map((t) => ({ source: t.source, table: `${t.schema}.${t.name}`, rows: t.rows })) });
  await o.store.jobs.finish(job.id, 'done', { rows: tables.reduce((n, t) => n + t.rows, 0) }, new Date().toISOString());
  return { ...base, correctionId, resumed: manifest !== null, tables, mentions, problems: [], certificates };
}

/** The subject's rows per table and the columns of the category in each (from the inventory and steward.yml's identifiers). */
function targetsOf(o: CorrectOptions, found: FindResult, category: string, info: (t: QualifiedTable) => TableInfo | undefined): Target[] {
  const kind = IDENTIFIER_CATEGORIES[category];
  const out: Target[] = [];
  // A row reached only upwards (the address an order of the subject went to) records where something went and may be
  // another person's (a gift): it is not rewritten; the subject's own rows are those reached from the subject.
  for (const [tk, rows] of groupBy(found.rows.filter((r) => !r.via.every((v) => v.startsWith('ref:'))), (r) => tableKey(r))) {
    const r0 = rows[0]!;
    const t = info(r0);
    const inv = o.schemas.get(r0.source)?.inventory.filter((i) => i.schema === r0.schema && i.table === r0.name) ?? [];
    const mt = o.map.tables.find((m) => tableKey(m) === tk);
    if (!t || t.primaryKey.length === 0) continue;
    const columns = [...new Set([...inv.filter((i) => i.category === category).map((i) => i.column), ...(kind ? (mt?.identifiers ?? []).filter((i) => i.kind === kind).map((i) => i.column) : [])])].filter((c) => t.columns.some((x) => x.name === c));
    if (columns.length === 0) continue;
    const encrypted = columns.filter((c) => inv.some((i) => i.column === c && i.encrypted) || mt?.identifiers.some((i) => i.column === c && i.encrypted) || rows.some((r) => typeof r.row[c] === 'string' && (r.row[c] as string).startsWith('stw1:')));
    out.push({ t, source: r0.source, columns, encrypted, keys: rows.map((r) => r.key) });
  }
  return out;
}

/** The column values one row is written with. */
async function valuesFor(o: CorrectOptions, b: Target, key: Readonly<Record<string, unknown>>): Promise<Readonly<Record<string, unknown>>> {
  const out: Record<string, unknown> = {};
  for (const c of b.columns) {
    if (b.encrypted.includes(c)) Object.assign(out, await o.encrypt!({ source: b.source, table: b.t, column: c, key }, o.set.value));
    else out[c] = o.set.value;
  }
  return out;
}

async function writeRows(trx: Kysely<any>, b: Target, sets: readonly Readonly<Record<string, unknown>>[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < b.keys.length; i++) {
    const set = sets[i]!;
    const r = await sql`update ${tableRef(b.t)} set ${sql.join(Object.entries(set).map(([c, v]) => sql`${sql.id(c)} = ${v}`))} where ${keyEquals(b.t.primaryKey, b.keys[i]!)}`.execute(trx);
    n += Number(r.numAffectedRows ?? 0);
  }
  return n;
}

/** Every write in one transaction per source, rolled back: a unique value already taken, a length or CHECK the value breaks, is named first. */
async function preflight(o: CorrectOptions, targets: readonly Target[]): Promise<string[]> {
  const problems: string[] = [];
  class Rollback extends Error {}
  for (const [source, ts] of groupBy(targets, (x) => x.source)) {
    const src = o.sources.get(source);
    if (!src) {
      problems.push(`source ${source} is not open (left out with --source?): its part of the correction cannot run`);
      continue;
    }
    let current = '';
    try {
      await src.db.transaction().execute(async (trx) => {
        for (const x of ts) {
          current = `${source}:${x.t.schema}.${x.t.name}`;
          for (const part of chunk(x.keys, o.batchSize ?? 200)) await writeRows(trx, { ...x, keys: part }, await Promise.all(part.map((k) => valuesFor(o, x, k))));
        }
        throw new Rollback();
      });
    } catch (e) {
      if (e instanceof Rollback) continue;
      problems.push(`setting ${current} would fail: ${toSourceError(e, { source, kind: src.kind, action: 'try the correction on', command: 'subject' }).message}`);
    }
  }
  return problems;
}
