/**
 * `restoreArchiveSet`: puts the rows of an archive set back into a table
 * (the one they came from, or another with the same columns), for a lawful
 * restore. The set is verified without the key first (manifest, digests); then
 * each chunk is decrypted and checked against the manifest (count, keys) before
 * any of its rows is inserted. Rows go in batches, one transaction each; a row
 * whose primary key the table already holds is skipped, so a restore that stopped
 * half-way is simply run again.
 */
import { sql, type Kysely } from 'kysely';
import { UsageError } from '../errors.js';
import { displayTable, toSourceError } from '../sources/errors.js';
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
  for (const c of manifest.chunks) {
    const rows = await readCheckedChunk(dir, manifest, c, options.privateKey, { keepRows: true, ...(options.fs ? { fs: options.fs } : {}) });
    for (let at = 0; at < rows.length; at += batchSize) {
      const batch = rows.slice(at, at + batchSize);
      try {
        await source.db.transaction().execute(async (trx) => {
          const have = await presentKeys(trx, table, manifest, batch, source);
          const fresh = batch.filter((r) => !have.has(keyText(r, manifest.primaryKey)));
          present += batch.length - fresh.length;
          if (fresh.length && !options.dryRun) {
            const values = fresh.map((r) => sql`(${sql.join(columns.map((col) => sql`${toDriverValue(r[col] ?? null, source)}`))})`);
            await sql`insert into ${sql.id(table.schema, table.name)} (${sql.join(columns.map((col) => sql.id(col)))}) values ${sql.join(values)}`.execute(trx);
          }
          inserted += fresh.length;
        });
      } catch (e) {
        throw toSourceError(e, { source: source.name, kind, action: `restore ${c.file} into`, table, command: 'restore' });
      }
      batches++;
    }
    chunksDone++;
    options.onProgress?.({ chunks: chunksDone, totalChunks: manifest.chunks.length, rows: inserted + present, totalRows: manifest.totals.rows, inserted });
  }
  return { table: { schema: table.schema, name: table.name }, chunks: manifest.chunks.length, rows: manifest.totals.rows, inserted, present, batches, dryRun: Boolean(options.dryRun), digest };
}
