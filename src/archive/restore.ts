/**
 * `restoreArchiveSet`: puts the rows of an archive set back into a table
 * (the one they came from, or another with the same columns), for a lawful
 * restore. The set is verified without the key first (manifest, digests); then
 * each chunk is decrypted and checked against the manifest (count, keys) before
 * any of its rows is inserted. Rows go in batches, one transaction each (on the
 * engine, src/jobs/engine.ts: a bounded lock wait, a retry on a lock timeout, a
 * stop between batches on request); a row whose primary key the table already
 * holds is skipped, so a restore that stopped half-way is simply run again (it is
 * an unrecorded job: nothing to resume but the rows themselves).
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { UsageError } from '../errors.js';
import { runJob } from '../jobs/engine.js';
import { displayTable } from '../sources/errors.js';
import type { Source, TableInfo, TableRef } from '../sources/types.js';
import { encodeValue, keyText, type ArchiveManifest, type EncodedRow, type EncodedValue } from './codec.js';
import type { ArchiveFs } from './fs.js';
import type { RecipientIdentity } from './keys.js';
import { toDriverValue } from './values.js';
import { readCheckedChunk, verifyArchiveSet } from './verify.js';

export interface RestoreArchiveSetOptions {
  readonly privateKey: RecipientIdentity | readonly RecipientIdentity[];
  /** An open source to insert into. */
  readonly source: Source;
  /** Target table (default: the archived table's name, in its schema where schemas are namespaces: Postgres). `schema.table` or a TableRef. */
  readonly table?: string | TableRef;
  /** Rows per INSERT transaction (default 500). */
  readonly batchSize?: number;
  /** Decrypt, check and count what would be inserted, without inserting. */
  readonly dryRun?: boolean;
  readonly signerPublicKey?: import('node:crypto').KeyObject | string;
  readonly expectedDigest?: string;
  readonly fs?: ArchiveFs;
  readonly onProgress?: (done: { chunks: number; totalChunks: number; rows: number; totalRows: number; inserted: number }) => void;
  /** Aborted: the restore stops after the batch in flight (InterruptedError); running it again skips what is in. */
  readonly signal?: AbortSignal;
  /** Longest a batch waits for a row lock. Default 2000 ms. */
  readonly lockTimeoutMs?: number;
}

export interface RestoreResult {
  readonly table: TableRef;
  readonly chunks: number;
  /** Rows in the set. */
  readonly rows: number;
  /** Rows inserted (dry run: that would be). */
  readonly inserted: number;
  /** Rows skipped because the table already holds their primary key. */
  readonly present: number;
  readonly batches: number;
  readonly dryRun: boolean;
  /** SHA-256 of the manifest restored from. */
  readonly digest: string;
}

function parseTarget(t: string | TableRef): { schema: string | null; name: string } {
  if (typeof t !== 'string') return { schema: t.schema, name: t.name };
  const dot = t.indexOf('.');
  return dot > 0 ? { schema: t.slice(0, dot), name: t.slice(dot + 1) } : { schema: null, name: t };
}

async function findTable(source: Source, manifest: ArchiveManifest, option: string | TableRef | undefined): Promise<TableInfo> {
  const wanted = option !== undefined ? parseTarget(option) : { schema: source.archive.restoresIntoSchema ? manifest.table.schema : null, name: manifest.table.name };
  const tables = (await source.introspect(wanted.schema ? { schemas: [wanted.schema] } : {})).filter((t) => t.kind === 'table' && t.name === wanted.name && (!wanted.schema || t.schema === wanted.schema));
  const shown = wanted.schema ? `${wanted.schema}.${wanted.name}` : wanted.name;
  if (tables.length === 0) throw new UsageError(`Source "${source.name}" has no table ${shown} to restore into`, { hint: 'Create it with the archived columns (the manifest lists them and their types), or name another with --table' });
  const pick = tables.length === 1 ? tables[0]! : tables.find((t) => t.schema === 'public');
  if (!pick) throw new UsageError(`Source "${source.name}" has a table ${wanted.name} in several schemas (${tables.map((t) => t.schema).join(', ')})`, { hint: 'Name one: --table schema.table' });
  const missing = manifest.columns.filter((c) => !pick.columns.some((p) => p.name === c.name)).map((c) => c.name);
  if (missing.length) throw new UsageError(`The table ${displayTable(source.kind, pick)} has no column(s) ${missing.join(', ')} that the archive holds`, { hint: 'Restore into a table with every archived column (see the manifest)' });
  return pick;
}

/** A batch of a restore: rows of one chunk, and whether they are its last. */
interface RestoreBatch {
  readonly rows: readonly EncodedRow[];
  readonly chunk: number;
  readonly ends: boolean;
}

/** Keys (canonical text) of `rows` that `table` already holds. */
async function presentKeys(db: Kysely<any>, table: TableInfo, manifest: ArchiveManifest, rows: readonly EncodedRow[], source: Source): Promise<Set<string>> {
  const pk = manifest.primaryKey;
  // Identifiers through sql.id: a table or key column whose name holds a dot stays one name.
  const where =
    pk.length === 1
      ? sql`${sql.id(pk[0]!)} in (${sql.join(rows.map((r) => sql`${toDriverValue(r[pk[0]!] ?? null, source)}`))})`
      : sql`(${sql.join(rows.map((r) => sql`(${sql.join(pk.map((c) => sql`${sql.id(c)} = ${toDriverValue(r[c] ?? null, source)}`), sql` and `)})`), sql` or `)})`;
  const found = (await sql<Record<string, unknown>>`select ${sql.join(pk.map((c) => sql.id(c)))} from ${sql.id(table.schema, table.name)} where ${where}`.execute(db)).rows;
  const out = new Set<string>();
  for (const f of found) {
    const enc: Record<string, EncodedValue> = {};
    for (const c of pk) enc[c] = encodeValue((f as Record<string, unknown>)[c], manifest.columns.find((m) => m.name === c));
    out.add(keyText(enc, pk));
  }
  return out;
}

/**
 * Restores the set in `dir` (see the top of this file).
 * @throws ArchiveError (the set does not verify; nothing of a bad chunk is inserted), CryptoError
 *   `CRYPTO_WRONG_KEY`, UsageError (no such table, missing columns), SourceError (an insert failed:
 *   that batch rolled back; batches before it stay, and a re-run skips them).
 */
export async function restoreArchiveSet(dir: string, options: RestoreArchiveSetOptions): Promise<RestoreResult> {
  const { source } = options;
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('batchSize must be a positive whole number');
  const { manifest, digest } = await verifyArchiveSet(dir, { ...(options.fs ? { fs: options.fs } : {}), ...(options.signerPublicKey ? { signerPublicKey: options.signerPublicKey } : {}), ...(options.expectedDigest ? { expectedDigest: options.expectedDigest } : {}) });
  const table = await findTable(source, manifest, options.table);
  const kind = source.kind;
  const columns = manifest.columns.map((c) => c.name);
  let inserted = 0;
  let present = 0;
  let batches = 0;
  let chunksDone = 0;
  // The chunk being restored, decrypted and checked against the manifest before any of its rows is inserted.
  let current: { index: number; rows: EncodedRow[] } | null = null;
  const chunkRows = async (index: number) => {
    if (current?.index !== index) current = { index, rows: await readCheckedChunk(dir, manifest, manifest.chunks[index]!, options.privateKey, { keepRows: true, ...(options.fs ? { fs: options.fs } : {}) }) };
    return current.rows;
  };
  const chunkFile = () => manifest.chunks[current?.index ?? 0]?.file ?? 'the archive';
  await runJob<void>(
    {
      source,
      store: null,
      actor: 'restore',
      existing: null,
      create: () => ({ id: randomUUID(), source: source.name, table: table.name, target: `archive:${digest}`, operation: 'restore', pass: 1, lastKey: null, counts: {}, options: {} }),
      action: 'restore',
      subject: {},
      counts: () => ({ inserted, present, batches }),
      what: `restore of ${dir}`,
      progressText: () => `${inserted} row(s) inserted in ${batches} batch(es), ${chunksDone} of ${manifest.chunks.length} chunk(s)`,
      progress: () => ({ done: inserted + present, total: manifest.totals.rows }),
      ...(options.onProgress ? { onProgress: () => options.onProgress!({ chunks: chunksDone, totalChunks: manifest.chunks.length, rows: inserted + present, totalRows: manifest.totals.rows, inserted }) } : {}),
      signal: options.signal,
      lockTimeoutMs: options.lockTimeoutMs,
      errorContext: () => ({ action: `restore ${chunkFile()} into`, table, command: 'restore' }),
    },
    async (run) => {
      // Batches over the chunks in manifest order: the cursor is a chunk and a row in it.
      await run.batches<{ chunk: number; at: number }, RestoreBatch, RestoreBatch, { inserted: number; present: number }>({
        from: { chunk: 0, at: 0 },
        checkpoint: 'after',
        select: async (cursor) => {
          let { chunk, at } = cursor ?? { chunk: 0, at: 0 };
          for (; chunk < manifest.chunks.length; chunk++, at = 0) {
            const rows = await chunkRows(chunk);
            if (at < rows.length) {
              const end = Math.min(rows.length, at + batchSize);
              return { batch: { rows: rows.slice(at, end), chunk, ends: end === rows.length }, next: { chunk, at: end } };
            }
            chunksDone = chunk + 1;
          }
          return null;
        },
        write: async (trx, { rows: batch }) => {
          const have = await presentKeys(trx, table, manifest, batch, source);
          const fresh = batch.filter((r) => !have.has(keyText(r, manifest.primaryKey)));
          if (fresh.length && !options.dryRun) {
            const values = fresh.map((r) => sql`(${sql.join(columns.map((col) => sql`${toDriverValue(r[col] ?? null, source)}`))})`);
            await sql`insert into ${sql.id(table.schema, table.name)} (${sql.join(columns.map((col) => sql.id(col)))}) values ${sql.join(values)}`.execute(trx);
          }
          return { inserted: fresh.length, present: batch.length - fresh.length };
        },
        committed: (b, done) => {
          inserted += done?.inserted ?? 0;
          present += done?.present ?? 0;
          batches++;
          if (b.ends) chunksDone = b.chunk + 1;
        },
        // Nothing to record: the rows themselves say what is restored (present keys are skipped).
        record: () => null,
      });
      return { result: undefined, counts: { inserted, present, batches }, entry: {} };
    },
  );
  return { table: { schema: table.schema, name: table.name }, chunks: manifest.chunks.length, rows: manifest.totals.rows, inserted, present, batches, dryRun: Boolean(options.dryRun), digest };
}
