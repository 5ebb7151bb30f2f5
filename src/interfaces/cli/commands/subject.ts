/**
 * `steward subject map` and `steward subject find`: the thin CLI over
 * src/subjects/. Sources are opened read-only; the search is recorded in the
 * activity log by identifier kinds and counts (never the identifiers).
 */
import pc from 'picocolors';
import { runAudit } from '../../../audit/run-audit.js';
import { loadConfig, type StewardConfig } from '../../../config/index.js';
import { UsageError } from '../../../errors.js';
import { checkWritable, writeUserFile } from '../../../files.js';
import { shellQuote } from '../../../shell.js';
import { openKeyring } from '../../../crypto/keyring.js';
import { exportRecipients, exportSubject } from '../../../subjects/export.js';
import { NOT_DECRYPTED_TEXT, openSubjectKeyring, type SubjectKeyring } from '../../../subjects/decrypt.js';
import { openSource, type Source } from '../../../sources/index.js';
import { currentActor } from '../../../state/audit-history.js';
import { openStateStore, type StateStore } from '../../../state/index.js';
import { discoverSubjectMap, type DiscoveredMap } from '../../../subjects/discover.js';
import { correctSubject, parseSet, type CorrectResult } from '../../../subjects/correct.js';
import { eraseSubject, type EraseResult } from '../../../subjects/erase.js';
import type { AbandonedStep } from '../../../subjects/lease.js';
import type { ErasurePlan } from '../../../subjects/erase-plan.js';
import { findSubject, type FindResult } from '../../../subjects/find.js';
import { maskIdentifier, parseIdentifiers, type IdentifierInput } from '../../../subjects/identifiers.js';
import type { SubjectMap } from '../../../subjects/map.js';
import { stopOnSignals } from '../../../interrupt.js';
import { progressBar, shown, stringifyJson, useColor, type Io } from '../output.js';
import { masterKeySource } from './encrypt.js';

interface Common {
  readonly config?: string;
  readonly source?: readonly string[];
  readonly json?: boolean;
  readonly color?: boolean;
}

export type SubjectMapOptions = Common;
export interface SubjectFindOptions extends Common, IdentifierInput {}

interface Ctx {
  readonly config: StewardConfig;
  /** The config file's directory (a master key file is relative to it). */
  readonly dir: string;
  readonly store: StateStore;
  readonly sources: Map<string, Source>;
  readonly discovered: DiscoveredMap;
}

async function withMap<T>(options: Common, io: Io, fn: (ctx: Ctx) => Promise<T>, writable = false): Promise<T> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env });
  const wanted = options.source?.length ? options.source : loaded.config.sources.map((s) => s.name);
  const unknown = wanted.filter((n) => !loaded.config.sources.some((s) => s.name === n));
  if (unknown.length) throw new UsageError(`unknown source ${unknown.map((u) => `"${shown(u)}"`).join(', ')}`, { hint: `Sources in steward.yml: ${loaded.config.sources.map((s) => s.name).join(', ')}` });
  const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
  const sources = new Map<string, Source>();
  try {
    for (const cfg of loaded.config.sources.filter((s) => wanted.includes(s.name))) {
      sources.set(cfg.name, await openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url, connectTimeoutMs: cfg.connectTimeoutMs }, { readonly: !writable, command: 'subject' }));
    }
    const discovered = await discoverSubjectMap({
      config: loaded.config,
      sources,
      store,
      freshInventory: async (name) => {
        const report = await runAudit({ config: loaded.config, patterns: loaded.patterns, stage: 'collection', sources: [name], openSource: (conn) => openSource(conn, { readonly: true, command: 'audit' }) });
        return report.sources.flatMap((s) => s.inventory);
      },
    });
    return await fn({ config: loaded.config, dir: loaded.dir, store, sources, discovered });
  } finally {
    for (const s of sources.values()) await s.close().catch(() => undefined);
    await store.close();
  }
}

const t3 = (t: { source: string; schema: string; name: string }) => `${shown(t.source)}:${shown(t.schema)}.${shown(t.name)}`;

/** `steward subject map`. */
export async function subjectMap(options: SubjectMapOptions, io: Io): Promise<number> {
  return withMap(options, io, async ({ discovered }) => {
    const { map } = discovered;
    if (options.json) {
      io.stdout.write(`${stringifyJson({ ...map, inventory: Object.fromEntries(discovered.inventoryFrom) }, 2)}\n`);
      return 0;
    }
    io.stdout.write(renderMap(map, discovered.inventoryFrom, pc.createColors(useColor(io, options.color))));
    return 0;
  });
}

function renderMap(map: SubjectMap, from: DiscoveredMap['inventoryFrom'], c: ReturnType<typeof pc.createColors>): string {
  const out: string[] = [c.bold('Subject map')];
  for (const [s, f] of from) out.push(`  ${shown(s)}: inventory ${f === 'fresh' ? 'from a fresh collection review (none recorded: run `steward audit` to record one)' : `of audit run ${f.runId.slice(0, 8)} (${f.at.slice(0, 16).replace('T', ' ')} UTC)`}`);
  for (const p of map.problems) out.push(c.red(`  ${shown(p.source)}: not mapped: ${shown(p.message)}`));
  const roles = ['identity', 'identified', 'child', 'unreachable', 'excluded'] as const;
  for (const role of roles) {
    const ts = map.tables.filter((t) => t.role === role);
    if (ts.length === 0) continue;
    out.push('', c.bold(`${role} tables (${ts.length})`));
    for (const t of ts) {
      const enc = (i: (typeof t.identifiers)[number]) => (i.encrypted ? (i.blindIndex ? `, encrypted, blind index ${shown(i.blindIndex.column)} (${i.blindIndex.normalize})${i.blindIndex.indexed === false ? ' not indexed' : ''}` : ', encrypted, no blind index: not searchable') : '');
      const ids = t.identifiers.map((i) => `${shown(i.column)} (${i.kind}${enc(i)}${!i.encrypted && i.indexed === false ? ', no index' : ''})`).join(', ');
      out.push(`  ${t3(t)}${t.depth !== null && t.depth > 0 ? ` · ${t.depth} hop(s)` : ''}${ids ? ` · identified by ${ids}` : ''}${t.freeText.length ? ` · free text: ${t.freeText.map(shown).join(', ')}` : ''}`);
    }
  }
  if (map.links.length) {
    out.push('', c.bold(`links (${map.links.length})`));
    for (const l of map.links) {
      const ev = l.evidence ? ` · ${l.evidence.found}/${l.evidence.sampled} sampled values found` : '';
      const state = l.used ? '' : c.yellow(` · not followed: ${shown(l.why ?? '')}`);
      out.push(`  ${shown(l.child.name)}.${l.child.columns.map(shown).join(',')} → ${shown(l.parent.name)}.${l.parent.columns.map(shown).join(',')} · ${l.origin}${l.origin === 'inferred' ? ` (confidence ${l.confidence})` : ''}${l.reference ? ' · self-reference (other people)' : ''}${ev}${state}`);
    }
  }
  if (map.findings.length) {
    out.push('', c.bold(`findings (${map.findings.length})`));
    for (const f of map.findings) out.push(`  ${f.severity.toUpperCase()} ${shown(f.message)}`, `      ${shown(f.remedy)}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * The keyring for a request: opened only when some column is encrypted; a master key that is
 * not set or does not open it is not an error (the search goes on and says what it could not do).
 */
function requestKeyring(ctx: Ctx, io: Io): Promise<SubjectKeyring> {
  return openSubjectKeyring(ctx.store, async () => openKeyring({ store: ctx.store, master: await masterKeySource(ctx.config, ctx.dir, io.env) }));
}

/** `steward subject find`. Exit 0 with "no data found" is a valid answer; exit 1 when the identifiers are ambiguous. */
export async function subjectFind(options: SubjectFindOptions, io: Io): Promise<number> {
  return withMap(options, io, async (ctx) => {
    const { config, store, sources, discovered } = ctx;
    const identifiers = parseIdentifiers(options, config.subjects.defaultCountry ? { defaultCountry: config.subjects.defaultCountry as never } : {});
    const keyring = await requestKeyring(ctx, io);
    const result = await findSubject({ map: discovered.map, schemas: discovered.schemas, sources, identifiers, keyring, ...(config.subjects.defaultCountry ? { defaultCountry: config.subjects.defaultCountry } : {}) });
    await store.appendActivity({
      actor: currentActor(),
      action: 'subject.find',
      subject: { sources: [...sources.keys()] },
      details: {
        kinds: [...new Set(identifiers.map((i) => i.kind))],
        rows: result.rows.length,
        tables: new Set(result.rows.map((r) => `${r.source}:${r.schema}.${r.name}`)).size,
        mentions: result.mentions.length,
        ambiguous: result.ambiguous !== null,
        queries: result.stats.queries,
        unsearched: result.unsearched.length,
        notDecrypted: result.notDecrypted.reduce((n, x) => n + x.rows, 0),
      },
    });
    if (options.json) {
      io.stdout.write(`${stringifyJson(jsonOf(result, keyring), 2)}\n`);
      return result.ambiguous ? 1 : 0;
    }
    io.stdout.write(renderFind(result, pc.createColors(useColor(io, options.color)), keyring));
    return result.ambiguous ? 1 : 0;
  });
}

/** `--json`: rows with their values decrypted in place (`decrypted` lists which columns were). */
function jsonOf(r: FindResult, keyring: SubjectKeyring) {
  return {
    ...r,
    rows: r.rows.map(({ decrypted, ...x }) => ({ ...x, row: plain({ ...x.row, ...decrypted }), key: plain(x.key), ...(decrypted ? { decrypted: Object.keys(decrypted) } : {}) })),
    references: r.references.map((x) => ({ ...x, row: plain(x.row), key: plain(x.key) })),
    keyring: keyring.fields ? 'open' : keyring.unavailable ? 'unavailable' : 'not needed',
  };
}

const plain = (o: Readonly<Record<string, unknown>>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Buffer.isBuffer(v) ? { base64: v.toString('base64') } : v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v]));

/** What the search could not do with encrypted columns (no values, no secrets). */
function encryptionNotes(r: Pick<FindResult, 'unsearched' | 'notDecrypted'>, keyring: SubjectKeyring | null, c: ReturnType<typeof pc.createColors>): string[] {
  const out: string[] = [];
  if (r.unsearched.length) {
    out.push('', c.yellow(`${r.unsearched.length} encrypted identifier column(s) not searched (their rows are found only through links)`));
    const why = [...new Set(r.unsearched.filter((u) => u.reason === 'keyring-unavailable').map((u) => u.detail))];
    if (keyring?.unavailable) out.push(`  the keyring did not open: ${shown(keyring.unavailable)}`);
    else for (const w of why) out.push(`  the keyring does not open the blind-index key: ${shown(w)}`);
    for (const u of r.unsearched) out.push(`  ${t3(u)}.${shown(u.column)} (${u.kind}): ${u.reason === 'no-blind-index' ? 'no blind index (see steward subject map)' : 'the keyring is not available'}`);
  }
  if (r.notDecrypted.length) {
    out.push('', c.yellow(`${r.notDecrypted.reduce((n, x) => n + x.rows, 0)} value(s) not decrypted`));
    for (const n of r.notDecrypted) out.push(`  ${shown(n.source)}:${shown(n.table)}.${shown(n.column)}: ${n.rows} row(s): ${NOT_DECRYPTED_TEXT[n.reason]}`);
  }
  return out;
}

function renderFind(r: FindResult, c: ReturnType<typeof pc.createColors>, keyring: SubjectKeyring | null = null): string {
  const out: string[] = [];
  const given = r.identifiers.filter((i) => i.given).map(maskIdentifier).map(shown).join(', ');
  if (r.ambiguous) {
    out.push(c.red(c.bold(`Ambiguous: ${shown(r.ambiguous.message)}.`)));
    for (const x of r.ambiguous.candidates) out.push(`  ${t3(x)} key ${shown(JSON.stringify(plain(x.key)))}`);
    return `${out.join('\n')}\n`;
  }
  if (r.rows.length === 0 && r.mentions.length === 0) {
    out.push(c.bold(`No data found for ${given}.`), '  That is a valid answer to a request: record it (steward request, when the case is open).');
    out.push(...encryptionNotes(r, keyring, c));
    return `${out.join('\n')}\n`;
  }
  const byTable = new Map<string, FindResult['rows'][number][]>();
  for (const x of r.rows) byTable.set(t3(x), [...(byTable.get(t3(x)) ?? []), x]);
  out.push(c.bold(`${r.rows.length} row(s) in ${byTable.size} table(s) for ${given}`) + ` · ${r.stats.queries} queries, ${r.stats.durationMs} ms`);
  const found = r.identifiers.filter((i) => !i.given);
  if (found.length) out.push(`  also known by ${found.map(maskIdentifier).map(shown).join(', ')} (found on the way)`);
  for (const [t, xs] of byTable) {
    const keys = xs.slice(0, 5).map((x) => shown(Object.values(plain(x.key)).join('/'))).join(', ');
    const via = [...new Set(xs.flatMap((x) => x.via))].map(shown).join('; ');
    out.push(`  ${t}: ${xs.length} row(s) · key ${keys}${xs.length > 5 ? ', …' : ''} · via ${via}`);
  }
  if (r.mentions.length) {
    out.push('', c.bold(`${r.mentions.length} mention(s) in free text`));
    for (const m of r.mentions) out.push(`  ${t3(m)}.${shown(m.column)} key ${shown(Object.values(plain(m.key)).join('/'))} · ${m.kinds.join(', ')}`);
  }
  if (r.references.length) {
    out.push('', c.bold(`${r.references.length} row(s) of other people that point at the subject`));
    for (const m of r.references) out.push(`  ${t3(m)}.${shown(m.column)} key ${shown(Object.values(plain(m.key)).join('/'))}`);
  }
  if (r.notMerged.length) {
    out.push('', c.yellow(`${r.notMerged.length} row(s) share an identifier but are another person's (not merged)`));
    for (const m of r.notMerged) out.push(`  ${t3(m)} key ${shown(Object.values(plain(m.key)).join('/'))} · ${shown(m.reason)}`);
  }
  if (r.otherPeople?.length) {
    out.push('', c.yellow(`${r.otherPeople.length} row(s) a link reached are another person's (left out: not exported, not erased)`));
    for (const m of r.otherPeople) out.push(`  ${t3(m)} key ${shown(Object.values(plain(m.key)).join('/'))} · ${shown(m.reason)}`);
  }
  out.push(...encryptionNotes(r, keyring, c));
  return `${out.join('\n')}\n`;
}

export interface SubjectAccessOptions extends SubjectFindOptions {
  readonly out?: string;
  readonly recipient?: readonly string[];
  readonly plaintext?: boolean;
}

/**
 * `steward subject access`: the person's package (export.json, summary.html, README.txt)
 * as a zip, encrypted to recipients in the age format, or in plain with --plaintext.
 */
export async function subjectAccess(options: SubjectAccessOptions, io: Io): Promise<number> {
  if (!options.out) throw new UsageError('--out is required', { hint: 'e.g. --out alice.zip (encrypted to --recipient age1…, or --plaintext)' });
  const out = checkWritable(options.out, io.cwd, '--out');
  return withMap(options, io, async (ctx) => {
    const { config, store, sources, discovered } = ctx;
    const recipients = exportRecipients(config, options.recipient, options.plaintext);
    const identifiers = parseIdentifiers(options, config.subjects.defaultCountry ? { defaultCountry: config.subjects.defaultCountry as never } : {});
    const keyring = await requestKeyring(ctx, io);
    const exported = await exportSubject({ config, map: discovered.map, schemas: discovered.schemas, sources, identifiers, keyring, recipients, plaintext: options.plaintext });
    const found = exported.found;
    if (!exported.package || !exported.bytes) {
      io.stdout.write(renderFind(found, pc.createColors(useColor(io, options.color)), keyring));
      return 1;
    }
    const pkg = exported.package;
    await writeUserFile(out, options.out ?? out, exported.bytes, '--out', { mode: 0o600 });
    await store.appendActivity({
      actor: currentActor(),
      action: 'subject.access',
      subject: { sources: [...sources.keys()] },
      details: { kinds: [...new Set(identifiers.map((i) => i.kind))], rows: pkg.rows, mentions: found.mentions.length, encrypted: recipients.length > 0, recipients: recipients.length, notDecrypted: pkg.notDecrypted.reduce((n, x) => n + x.rows, 0), unsearched: found.unsearched.length },
    });
    if (options.json) {
      io.stdout.write(`${stringifyJson({ out, rows: pkg.rows, mentions: found.mentions.length, encrypted: recipients.length > 0, notDecrypted: pkg.notDecrypted, unsearched: found.unsearched }, 2)}\n`);
      return 0;
    }
    io.stdout.write(`Wrote ${shown(options.out)}: ${pkg.rows} record(s) and ${found.mentions.length} mention(s) for ${found.identifiers.filter((i) => i.given).map(maskIdentifier).map(shown).join(', ')}; ${recipients.length > 0 ? `encrypted to ${recipients.length} recipient(s) (age: age -d -i key.txt ${shellQuote(options.out ?? out)} > package.zip)` : 'NOT encrypted (--plaintext)'}.\n`);
    for (const n of pkg.notDecrypted) io.stdout.write(`  not decrypted: ${shown(n.source)}:${shown(n.table)}.${shown(n.column)} (${n.rows} record(s)): ${NOT_DECRYPTED_TEXT[n.reason]}${n.reason === 'keyring-unavailable' ? ' (set the master key named by encryption.masterKey to export them in plain)' : ''}\n`);
    for (const u of found.unsearched) io.stdout.write(`  not searched: ${t3(u)}.${shown(u.column)} (${u.kind}, encrypted): ${u.reason === 'no-blind-index' ? 'no blind index' : 'the keyring is not available'}; its rows are in the package only when reached through links\n`);
    return 0;
  });
}


export interface SubjectEraseOptions extends SubjectFindOptions {
  readonly dryRun?: boolean;
  readonly abandon?: boolean;
  readonly batchSize?: string | number;
}

/**
 * `steward subject erase`: `--dry-run` prints the plan (what goes, what stays and why) and
 * tries it in a transaction that is rolled back; without it, the erasure runs as jobs of the
 * batch engine and writes a certificate per source. Killed, the same command resumes.
 * Exit 1 when the identifiers match several people (nothing is erased), 2 when the plan
 * cannot run (a table changed since the audit, a constraint it would break).
 */
export async function subjectErase(options: SubjectEraseOptions, io: Io): Promise<number> {
  const batchSize = options.batchSize === undefined ? undefined : Number(options.batchSize);
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)) throw new UsageError(`--batch-size must be a whole number from 1 to 10000, not "${shown(String(options.batchSize))}"`);
  if (options.abandon && options.dryRun) throw new UsageError('--abandon and --dry-run cannot go together: --abandon changes the state store (it gives up a run)', { hint: 'Run --dry-run alone to see the plan of the run in progress' });
  return withMap(
    options,
    io,
    async (ctx) => {
      const { config, store, sources, discovered } = ctx;
      const identifiers = parseIdentifiers(options, config.subjects.defaultCountry ? { defaultCountry: config.subjects.defaultCountry as never } : {});
      const bar = progressBar(io, !options.json && !options.dryRun);
      let r: EraseResult;
      try {
        r = await stopOnSignals(async (signal) => {
          const keyring = await requestKeyring(ctx, io);
          return eraseSubject({
            keyring,
            config,
            map: discovered.map,
            schemas: discovered.schemas,
            sources,
            store,
            identifiers,
            defaultCountry: config.subjects.defaultCountry,
            dryRun: options.dryRun === true,
            abandon: options.abandon === true,
            actor: currentActor(),
            ...(batchSize ? { batchSize } : {}),
            signal,
            onProgress: (p) => bar.update(p.done, p.total, `${p.stage} in ${p.source}`),
          });
        }, () => io.stderr.write('steward: stopping after the batch in flight…\n'));
      } finally {
        bar.done();
      }
      if (!r.erasureId && options.dryRun) {
        await store.appendActivity({ actor: currentActor(), action: 'subject.erase.dry-run', subject: { sources: [...sources.keys()] }, details: { kinds: [...new Set(identifiers.map((i) => i.kind))], rows: r.plan?.rows.length ?? 0, ambiguous: r.ambiguous !== null, problems: r.problems.length } });
      }
      const code = r.ambiguous ? 1 : r.problems.length > 0 ? 2 : 0;
      if (options.json) {
        io.stdout.write(`${stringifyJson({ ...r, plan: r.plan ? { ...r.plan, rows: r.plan.rows.map((x) => ({ ...x, key: plain(x.key) })) } : null }, 2)}\n`);
        return code;
      }
      const c = pc.createColors(useColor(io, options.color));
      const given = identifiers.map(maskIdentifier).map(shown).join(', ');
      if (r.abandoned) {
        io.stdout.write(`${renderAbandoned(`Abandoned the erasure ${r.erasureId!.slice(0, 8)}`, r.abandoned, c)}  Run \`steward subject erase\` with the same identifiers (--dry-run first) to plan again from what the databases hold now.\n`);
        return 0;
      }
      if (r.ambiguous) {
        io.stdout.write(`${c.red(c.bold(`Nothing erased. Ambiguous: ${shown(r.ambiguous.message)}.`))}\n`);
        return 1;
      }
      if (r.notFound) {
        io.stdout.write(`${c.bold(`No data found for ${given}: nothing to erase.`)}\n  That is a valid answer to the request: record it.\n`);
        return 0;
      }
      if (r.plan) io.stdout.write(renderPlan(r.plan, c, r.dryRun ? (r.resumed ? `Erasure ${r.erasureId!.slice(0, 8)} is in progress (a run was stopped); its plan:` : `Plan for ${given} (dry run: nothing was changed; every write was tried in a transaction that was rolled back):`) : `Erased ${given}${r.resumed ? ` (resumed erasure ${r.erasureId!.slice(0, 8)})` : ''}:`));
      if (r.problems.length > 0) {
        const head = r.resumed ? 'The erasure in progress cannot go on; nothing more was written:' : 'The erasure cannot run; nothing was written:';
        io.stdout.write(`\n${c.red(c.bold(head))}\n${r.problems.map((p) => `  - ${shown(p)}`).join('\n')}\n`);
        if (r.resumed) io.stdout.write('  Fix what stops it and run the same command again; or give the plan up with --abandon (what it did stays done and is logged) and run the erasure again to plan from what the databases hold now.\n');
        return 2;
      }
      if (!r.dryRun) for (const cert of r.certificates) io.stdout.write(`  certificate for ${shown(cert.source)}: erasure ${cert.erasureId.slice(0, 8)}, ${cert.tables.length} table(s) (steward log --action subject.erasure-certificate)\n`);
      else if (r.resumed) io.stdout.write('  Run the same command without --dry-run to finish it.\n');
      return code;
    },
    // Writable for the dry run too: it tries every write in a transaction that is rolled back.
    true,
  );
}

function renderAbandoned(title: string, steps: readonly AbandonedStep[], c: ReturnType<typeof pc.createColors>): string {
  const lines = [c.bold(`${title}: what it did stays done (activity log: ${title.includes('erasure') ? 'subject.erase.abandoned' : 'subject.correct.abandoned'}).`)];
  for (const s of steps) {
    const counts = Object.entries(s.counts).map(([k, n]) => `${n} ${k}`).join(', ');
    lines.push(`  ${shown(s.stage)} in ${shown(s.source)}: ${s.status === 'done' ? 'finished' : `stopped after ${s.batchesDone} batch(es)`}${counts ? ` (${counts})` : ''}`);
  }
  if (steps.length === 0) lines.push('  It had written nothing.');
  return `${lines.join('\n')}\n`;
}

const VERBS: Record<string, string> = { delete: 'delete', anonymise: 'anonymise', keep: 'keep', shared: 'keep (shared)', unlink: 'unlink', redact: 'redact' };

function renderPlan(plan: ErasurePlan, c: ReturnType<typeof pc.createColors>, title: string): string {
  const out = [c.bold(title)];
  for (const t of plan.tables) {
    const cols = t.columns ? ` · ${Object.entries(t.columns).map(([k, m]) => `${shown(k)}: ${shown(m)}`).join(', ')}` : '';
    const verb = VERBS[t.action]!;
    const paint = t.action === 'delete' ? c.red : t.action === 'keep' || t.action === 'shared' ? c.yellow : c.cyan;
    out.push(`  ${paint(verb.padEnd(14))} ${t3(t)}: ${t.rows} row(s)${cols}`);
    for (const why of t.reasons.slice(0, 3)) out.push(`                 ${c.dim(shown(why))}`);
  }
  return `${out.join('\n')}\n`;
}

export interface SubjectCorrectOptions extends SubjectFindOptions {
  readonly set?: string;
  readonly dryRun?: boolean;
  readonly abandon?: boolean;
  readonly batchSize?: string | number;
}

/**
 * `steward subject correct --set CATEGORY=VALUE`: rectification (Art. 16) on every row of
 * the person that holds the category, in all sources. `--dry-run` lists the tables, columns
 * and rows and tries the writes in a transaction rolled back. Exit 1 when ambiguous, 2 when
 * the plan cannot run.
 */
export async function subjectCorrect(options: SubjectCorrectOptions, io: Io): Promise<number> {
  if (!options.set) throw new UsageError('--set is required', { hint: 'e.g. --set contact.email=alice@new.example' });
  const batchSize = options.batchSize === undefined ? undefined : Number(options.batchSize);
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)) throw new UsageError(`--batch-size must be a whole number from 1 to 10000, not "${shown(String(options.batchSize))}"`);
  if (options.abandon && options.dryRun) throw new UsageError('--abandon and --dry-run cannot go together: --abandon changes the state store (it gives up a run)', { hint: 'Run --dry-run alone to see the plan of the run in progress' });
  return withMap(
    options,
    io,
    async (ctx) => {
      const { config, store, sources, discovered } = ctx;
      const set = parseSet(options.set!, config.subjects.defaultCountry);
      const identifiers = parseIdentifiers(options, config.subjects.defaultCountry ? { defaultCountry: config.subjects.defaultCountry as never } : {});
      const bar = progressBar(io, !options.json && !options.dryRun);
      let r: CorrectResult;
      try {
        r = await stopOnSignals((signal) => requestKeyring(ctx, io).then((keyring) => correctSubject({ keyring, config, map: discovered.map, schemas: discovered.schemas, sources, store, identifiers, defaultCountry: config.subjects.defaultCountry, set, dryRun: options.dryRun === true, abandon: options.abandon === true, actor: currentActor(), ...(batchSize ? { batchSize } : {}), signal, onProgress: (p) => bar.update(p.done, p.total, `correct in ${p.source}`) })), () => io.stderr.write('steward: stopping after the batch in flight…\n'));
      } finally {
        bar.done();
      }
      const code = r.ambiguous ? 1 : r.problems.length > 0 ? 2 : 0;
      if (options.json) {
        io.stdout.write(`${stringifyJson(r, 2)}\n`);
        return code;
      }
      const c = pc.createColors(useColor(io, options.color));
      const given = identifiers.map(maskIdentifier).map(shown).join(', ');
      if (r.abandoned) {
        io.stdout.write(renderAbandoned(`Abandoned the correction ${r.correctionId!.slice(0, 8)}`, r.abandoned, c));
        return 0;
      }
      if (r.ambiguous) {
        io.stdout.write(`${c.red(c.bold(`Nothing corrected. Ambiguous: ${shown(r.ambiguous.message)}.`))}\n`);
        return 1;
      }
      if (r.notFound) {
        io.stdout.write(`${c.bold(`No data found for ${given}: nothing to correct.`)}\n`);
        return 0;
      }
      const head = r.dryRun ? `Plan: set ${shown(r.category)} for ${given} (dry run: nothing was changed; the writes were tried in a transaction that was rolled back):` : `Corrected ${shown(r.category)} for ${given}${r.resumed ? ' (resumed)' : ''}:`;
      const lines = [c.bold(head), ...r.tables.map((t) => `  ${t3(t)}: ${t.rows} row(s) · ${t.columns.map(shown).join(', ')}${t.encrypted.length ? ` (encrypted again: ${t.encrypted.map(shown).join(', ')})` : ''}`)];
      if (r.mentions > 0) lines.push(c.yellow(`  ${r.mentions} mention(s) in free text quote the subject: listed by steward subject find, not rewritten`));
      io.stdout.write(`${lines.join('\n')}\n`);
      if (r.problems.length > 0) {
        io.stdout.write(`\n${c.red(c.bold(r.resumed ? 'The correction in progress cannot go on; nothing more was written (--abandon gives it up):' : 'The correction cannot run; nothing was written:'))}\n${r.problems.map((p) => `  - ${shown(p)}`).join('\n')}\n`);
        return 2;
      }
      for (const cert of r.certificates) io.stdout.write(`  certificate for ${shown(cert.source)}: correction ${cert.correctionId.slice(0, 8)} (steward log --action subject.correction-certificate)\n`);
      return code;
    },
    true,
  );
}
