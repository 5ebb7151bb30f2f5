/**
 * The steps `steward request run` runs, one function per step name, built on
 * the subject operations: `find` → findSubject, `access` → the access package
 * (find, build, zip, encrypt to age recipients, write), `erase` → eraseSubject
 * (the erasure's jobs, resumable: a later run of the case continues them), `correct`
 * → correctSubject with the new value given to the run (`--set`: it is never stored
 * with the case). A step whose plan cannot run throws a UsageError: the case stays
 * in progress, with the reason recorded.
 *
 * The sources and the subject map are opened when a step first needs them, so
 * a source that is down fails that step (recorded with the case) rather than
 * the command before any step ran.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { StewardConfig } from '../config/index.js';
import { UsageError } from '../errors.js';
import { fileWriteError, writeUserFile } from '../files.js';
import type { Source } from '../sources/types.js';
import { exportRecipients, exportSubject } from './export.js';
import type { RequestStep, RequestStepInput, RequestStepResult, RequestSteps } from './cases.js';
import { correctSubject } from './correct.js';
import { eraseSubject } from './erase.js';
import { findSubject, type FindResult } from './find.js';
import type { StateStore } from '../state/store.js';
import type { SubjectKeyring } from './decrypt.js';
import type { SourceSchema, SubjectMap } from './map.js';

/** What the find and access steps search: open sources and their subject map. */
export interface SubjectContext {
  readonly map: SubjectMap;
  readonly schemas: ReadonlyMap<string, SourceSchema>;
  readonly sources: ReadonlyMap<string, Source>;
}

export interface SubjectRequestStepsOptions {
  readonly config: StewardConfig;
  /** Opens the sources and derives the map, when a step first needs them (called at most once while it succeeds). */
  readonly context: () => Promise<SubjectContext>;
  /** Where the access step writes a case's package (an absolute path); `encrypted` says whether it will be age-encrypted. */
  readonly accessOut?: (caseId: string, encrypted: boolean) => string;
  /** age recipients the access package is encrypted to (default retention.archive.recipients). */
  readonly recipients?: readonly string[];
  /** Write the access package unencrypted (only when said explicitly). */
  readonly plaintext?: boolean;
  readonly now?: () => Date;
  /** The keyring for encrypted columns (decrypt.ts `openSubjectKeyring`): searched through blind indexes, decrypted, encrypted again on rectification. */
  readonly keyring?: SubjectKeyring;
  /** The state store the erasure and rectification jobs are recorded in (without it those steps refuse). */
  readonly store?: StateStore;
  readonly actor?: string;
  /** Rectification: the category and its new value, given to the run (never stored with the case). */
  readonly set?: { readonly category: string; readonly value: string };
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  /** Replaces the erasure step (tests). */
  readonly erase?: RequestStep;
  /** Replaces the rectification step (tests). */
  readonly correct?: RequestStep;
}

/** A step this Steward cannot run yet: refuses with a UsageError (the case stays in progress). */
export function notWiredStep(kind: 'erasure' | 'rectification'): RequestStep {
  return async () => {
    throw new UsageError(`${kind} through requests is not wired yet`, {
      hint: `The find step's result is recorded with the case; \`steward request run\` continues it once ${kind} is wired into requests`,
    });
  };
}

const countDistinct = <T>(xs: readonly T[], key: (x: T) => string) => new Set(xs.map(key)).size;

function findCounts(found: FindResult, sources: number): Record<string, number> {
  return {
    rows: found.rows.length,
    tables: countDistinct(found.rows, (r) => `${r.source}\0${r.schema}\0${r.name}`),
    sources: countDistinct(found.rows, (r) => r.source),
    sourcesSearched: sources,
    mentions: found.mentions.length,
    references: found.references.length,
    notMerged: found.notMerged.length,
    identifiersFound: found.identifiers.filter((i) => !i.given).length,
    queries: found.stats.queries,
  };
}

/** The recipients an access package goes to, or the refusal when there are none and plain text was not asked for. */
export const accessRecipients = exportRecipients;

/** Steward's steps: find and access for real, erase and correct as given (placeholders by default). */
export function subjectRequestSteps(options: SubjectRequestStepsOptions): RequestSteps {
  let opened: Promise<SubjectContext> | undefined;
  const context = () => {
    opened ??= options.context().catch((e: unknown) => {
      opened = undefined;
      throw e;
    });
    return opened;
  };
  const country = options.config.subjects.defaultCountry;
  const find = async (input: RequestStepInput): Promise<{ found: FindResult; ctx: SubjectContext }> => {
    const ctx = await context();
    const found = await findSubject({ map: ctx.map, schemas: ctx.schemas, sources: ctx.sources, identifiers: input.identifiers, ...(options.keyring ? { keyring: options.keyring } : {}), ...(country ? { defaultCountry: country } : {}) });
    return { found, ctx };
  };
  return {
    async find(input): Promise<RequestStepResult> {
      const { found, ctx } = await find(input);
      if (found.ambiguous) return { outcome: 'ambiguous', counts: { candidates: found.ambiguous.candidates.length, queries: found.stats.queries } };
      const counts = findCounts(found, ctx.sources.size);
      return { outcome: found.rows.length === 0 && found.mentions.length === 0 ? 'no-data' : 'found', counts };
    },
    async access(input): Promise<RequestStepResult> {
      const recipients = accessRecipients(options.config, options.recipients, options.plaintext);
      if (!options.accessOut) throw new UsageError('no place to write the access package was given', { hint: 'Pass --out FILE' });
      const out = options.accessOut(input.caseId, recipients.length > 0);
      const ctx = await context();
      const exported = await exportSubject({ config: options.config, map: ctx.map, schemas: ctx.schemas, sources: ctx.sources, identifiers: input.identifiers, keyring: options.keyring, recipients, plaintext: options.plaintext, request: input.caseId, ...(options.now ? { now: options.now() } : {}) });
      const found = exported.found;
      if (!exported.package || !exported.bytes) return { outcome: 'ambiguous', counts: { candidates: found.ambiguous?.candidates.length ?? 0 } };
      const pkg = exported.package;
      const bytes = exported.bytes;
      try {
        await mkdir(path.dirname(out), { recursive: true, mode: 0o700 });
      } catch (e) {
        throw fileWriteError(e, path.dirname(out), 'the folder of the access package');
      }
      await writeUserFile(out, out, bytes, 'the access package', { mode: 0o600 });
      return {
        outcome: 'done',
        counts: { rows: pkg.rows, mentions: found.mentions.length, notDecrypted: pkg.notDecrypted.reduce((n, x) => n + x.rows, 0) },
        details: { file: path.basename(out), sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, encrypted: recipients.length > 0, recipients: recipients.length },
      };
    },
    erase:
      options.erase ??
      (options.store
        ? async (input): Promise<RequestStepResult> => {
            const ctx = await context();
            const r = await eraseSubject({ keyring: options.keyring, config: options.config, map: ctx.map, schemas: ctx.schemas, sources: ctx.sources, store: options.store!, identifiers: input.identifiers, defaultCountry: country, dryRun: false, actor: options.actor ?? 'steward', ...(options.batchSize ? { batchSize: options.batchSize } : {}), signal: options.signal });
            if (r.ambiguous) return { outcome: 'ambiguous', counts: { candidates: r.ambiguous.candidates.length } };
            if (r.notFound) return { outcome: 'no-data', counts: { rows: 0 } };
            if (r.problems.length > 0) throw new UsageError(`the erasure cannot run: ${r.problems.join('; ')}`, { hint: 'Nothing was written. `steward subject erase --dry-run` with the same identifiers shows the plan; fix what it names, then run the case again' });
            const counts: Record<string, number> = {};
            for (const row of r.plan?.rows ?? []) counts[row.action] = (counts[row.action] ?? 0) + 1;
            return { outcome: 'done', counts, details: { erasureId: r.erasureId, certificates: r.certificates.length, resumed: r.resumed } };
          }
        : notWiredStep('erasure')),
    correct:
      options.correct ??
      (options.store
        ? async (input): Promise<RequestStepResult> => {
            if (!options.set) throw new UsageError('a rectification needs the new value', { hint: 'Run it with --set CATEGORY=VALUE (e.g. --set contact.email=alice@new.example): the value is used for the run and never stored with the case' });
            const ctx = await context();
            const r = await correctSubject({ keyring: options.keyring, config: options.config, map: ctx.map, schemas: ctx.schemas, sources: ctx.sources, store: options.store!, identifiers: input.identifiers, defaultCountry: country, set: options.set, dryRun: false, actor: options.actor ?? 'steward', ...(options.batchSize ? { batchSize: options.batchSize } : {}), signal: options.signal });
            if (r.ambiguous) return { outcome: 'ambiguous', counts: { candidates: r.ambiguous.candidates.length } };
            if (r.notFound) return { outcome: 'no-data', counts: { rows: 0 } };
            if (r.problems.length > 0) throw new UsageError(`the correction cannot run: ${r.problems.join('; ')}`, { hint: 'Nothing was written. `steward subject correct --dry-run` with the same identifiers and --set shows the plan' });
            return { outcome: 'done', counts: { rows: r.tables.reduce((n, t) => n + t.rows, 0), tables: r.tables.length, mentions: r.mentions }, details: { correctionId: r.correctionId, category: r.category, certificates: r.certificates.length } };
          }
        : notWiredStep('rectification')),
  };
}
