/**
 * Online column encryption: `steward encrypt`, `steward decrypt` and
 * `steward encrypt --rotate` over a live table, while the application keeps
 * writing to it.
 *
 * How it stays safe:
 * - Batches in primary-key order, each in one short transaction with a bounded
 *   lock wait; a checkpoint (the last key done) in the state store after each
 *   (the engine in src/jobs/ runs the batches; this file supplies their steps:
 *   select the rows still to do, transform their values, compare-and-set, verify).
 * - Every write is a compare-and-set: a row is replaced only if it still holds
 *   exactly the value that was read. A row the application changed meanwhile
 *   is left alone and caught by a later pass — never overwritten with a stale
 *   value, never encrypted twice (a ciphertext is never taken for plaintext).
 * - Each batch is read back inside its transaction: the stored value must be
 *   byte-for-byte what was written and must decrypt to the value read, or the
 *   batch rolls back and the job stops.
 * - Killed at any instant, a re-run resumes at the checkpoint; the rows
 *   themselves (ciphertext or not) are the truth, the checkpoint only saves time.
 * - Passes repeat over the rows still to do (rows the application wrote in
 *   plaintext during the run) until none are left, or `maxPasses`.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { CryptoError, InternalError, SourceError, UsageError, isStewardError } from '../errors.js';
import { runJob, type CrashHook, type JobProgress } from '../jobs/engine.js';
import { keyColumns, keyOfRow, selectAfter } from '../jobs/keyset.js';
import { keyTuple, tableRef, valueTuple, type SwapRow, type UniqueIndex } from '../sources/column-writer.js';
import { classifyDriverError, displayTable, toSourceError } from '../sources/errors.js';
import { exactSpelling, schemasNamed, tableReadings, tablesNamed } from '../sources/table-names.js';
import { throwIfInterrupted } from '../interrupt.js';
import { shellCommand } from '../shell.js';
import { inferCategory, maskValue } from '../detection/mask.js';
import { matchColumnName } from '../detection/names.js';
import type { ColumnInfo, Source, TableInfo } from '../sources/types.js';
import type { StateStore } from '../state/store.js';
import type { JobOperation } from '../state/jobs.js';
import type { BlindIndexer, Normalizer } from './blind-index.js';
import type { ColumnCipher, FieldEncryption } from './field.js';
import { CIPHERTEXT_PREFIX, ciphertextLength, keyHeader, scopeName, type ColumnScope, type RowKey, type RowKeyPart } from './format.js';

/** What a column migration does to the column's values. */
export type ColumnOperation = Extract<JobOperation, 'encrypt' | 'decrypt' | 'rotate'>;

export interface ColumnMigrationOptions {
  /** An open, writable source. */
  readonly source: Source;
  /** `customers` or `schema.customers`: also the table part of the key scope. */
  readonly table: string;
  readonly column: string;
  readonly operation: ColumnOperation;
  readonly fields: FieldEncryption;
  readonly store: StateStore;
  readonly actor: string;
  readonly dryRun?: boolean;
  /** Rows per batch (one transaction each). Default 1000. */
  readonly batchSize?: number;
  /** Keep a blind index in this column (created when missing), for equality lookups. */
  readonly blindIndex?: { readonly column: string; readonly normalize?: Normalizer; readonly bytes?: number };
  /** Encrypt even when many values already look like another tool's ciphertext. */
  readonly allowForeign?: boolean;
  /** Passes over rows still to do before giving up on an application that keeps writing plaintext. Default 5. */
  readonly maxPasses?: number;
  /** Longest a batch waits for a row lock. Default 2000 ms. */
  readonly lockTimeoutMs?: number;
  readonly onProgress?: (p: MigrationProgress) => void;
  readonly now?: () => Date;
  /** Aborted (SIGINT/SIGTERM in the CLI): the run stops after the batch in flight, logs `column.<op>.interrupted` and throws InterruptedError; the same call resumes. */
  readonly signal?: AbortSignal;
  /** Test hook: called at each named point of each batch (src/jobs/engine.ts); a crash test throws there. @internal */
  readonly crashAt?: CrashHook;
}

export interface MigrationProgress {
  readonly pass: number;
  readonly done: number;
  readonly total: number;
  readonly rowsPerSecond: number;
}

export interface MigrationCounts {
  /** Rows written (encrypted, decrypted or re-encrypted) by this run. */
  changed: number;
  /** Rows skipped because the application changed them between read and write (done by a later pass). */
  raced: number;
  /** Values that are another key's or another tool's ciphertext, left alone. */
  foreign: number;
  /**
   * Values left as they were that Steward could not classify: they start like this column's
   * ciphertexts (`stw1:<keyId>:`) but do not parse or authenticate for their row (tampered, or
   * written to look encrypted). Not encrypted, not readable: a run with any is not a success.
   */
  leftAsIs: number;
  /** Values under a destroyed version of this column's key (crypto-shredded), left as they were. */
  shredded: number;
  batches: number;
  passes: number;
  /** Rows still to do when the run ended (0 when finished). */
  remaining: number;
}

export interface ColumnPlan {
  readonly scope: ColumnScope;
  readonly table: { readonly schema: string; readonly name: string; readonly primaryKey: readonly string[]; readonly rowEstimate: number };
  readonly column: { readonly name: string; readonly dataType: string };
  readonly rows: number;
  readonly nulls: number;
  /** Values of this column's key (any version); for encrypt, each checked by decrypting it for its row. */
  readonly encrypted: number;
  /** Values to change by this operation. */
  readonly todo: number;
  /**
   * decrypt and rotate: Steward ciphertexts of another key, left alone. Both: values that look
   * like another tool's ciphertext (sampled).
   */
  readonly foreign: number;
  /**
   * Values that start with `stw1:` but not with this column's key id (another key's ciphertext,
   * or plaintext written to look like one). Encrypt takes them like any other value: only a key
   * of this column makes a value this column's ciphertext. Included in `todo` for encrypt.
   */
  readonly otherPrefixed: number;
  /** Encrypt: values starting like this column's ciphertexts that do not parse or authenticate (see {@link MigrationCounts.leftAsIs}). */
  readonly unverified: number;
  /** The first of those rows (`id = 7`; key parts that look like personal data masked), for the operator to find them. */
  readonly unverifiedRows: readonly string[];
  /** Encrypt: values under a destroyed version of this column's key. */
  readonly shredded: number;
  /**
   * Ciphertexts of this physical column under the keys of other scopes (another spelling of its
   * table, recorded before spellings were resolved to one scope). `decrypt` fails while any remain.
   */
  readonly otherScopes: readonly OtherScope[];
  readonly maxValueBytes: number;
  /** DDL this run would execute first (widen the column, add the blind index). */
  readonly ddl: readonly string[];
  /** A job this run resumes, when there is one. */
  readonly resumes: { readonly id: string; readonly pass: number; readonly lastKey: readonly unknown[] | null; readonly startedAt: string } | null;
}

/** Another key scope of the same physical column, and how many of its values hold ciphertexts of its key. */
export interface OtherScope {
  readonly scope: ColumnScope;
  readonly keyId: string;
  readonly values: number;
}

export interface ColumnMigrationResult {
  readonly jobId: string | null;
  readonly operation: ColumnOperation;
  readonly dryRun: boolean;
  readonly plan: ColumnPlan;
  readonly counts: MigrationCounts;
  readonly durationMs: number;
  /** Key versions retired after a completed rotation. */
  readonly retiredVersions: readonly number[];
}

/** Formats other tools write ciphertexts in: encrypting these again would make them unreadable to that tool. */
const FOREIGN_FORMATS: readonly [string, RegExp][] = [
  ['HashiCorp Vault', /^vault:v\d+:/],
  ['OpenPGP (pgcrypto, gpg)', /^-----BEGIN PGP MESSAGE-----|^\\xc3[0-9a-f]{2}0[0-9a-f]/i],
  ['Fernet', /^gAAAAA[A-Za-z0-9_-]{40,}={0,2}$/],
  ['AWS KMS / Encryption SDK', /^AQ[EI]C[A-Za-z0-9+/]{40,}={0,2}$/],
  ['SOPS / ENC[…]', /^ENC\[[A-Z0-9_]+,data:/],
  ['Rails / Lockbox', /^\{"p":"[A-Za-z0-9+/=]+","h":/],
];

/** What a value looks like to a migration (pure). */
export function foreignFormat(value: string): string | null {
  for (const [name, re] of FOREIGN_FORMATS) if (re.test(value)) return name;
  return null;
}

/** The row key bound into each ciphertext of a row: its primary key values, as the driver returned them. */
export function rowKeyOf(parts: readonly unknown[]): RowKey {
  const conv = (v: unknown): RowKeyPart => (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : String(v));
  return parts.length === 1 ? conv(parts[0]) : parts.map(conv);
}

/**
 * `id = 42` (or `a = 1, b = x`) for messages: key values are identifiers the operator already
 * has, except a key part that looks like personal data (by its name or its value), which is masked.
 */
function rowDescription(table: TableInfo, key: readonly unknown[]): string {
  return table.primaryKey
    .map((k, i) => {
      const v = String(rowKeyOf([key[i]]));
      const personal = matchColumnName(k) !== null || inferCategory(v) !== undefined;
      return `${k} = ${personal ? maskValue(v) : v}`;
    })
    .join(', ');
}

const textOf = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

export { tablesNamed } from '../sources/table-names.js';

const samePhysical = (tables: readonly TableInfo[], spelling: string, target: TableInfo) => tablesNamed(tables, spelling).some((t) => t.schema === target.schema && t.name === target.name);

/**
 * The spellings among `candidates` (table parts of key scopes: `t`, `public.t`, `"T"`) that name
 * the same physical table as `spelling` on this source, resolved as encrypt resolves `--column`:
 * `{ physical: 'public.t', spellings }`, or null when `spelling` names no table there.
 * @throws UsageError when it names tables in several schemas.
 */
export async function sameTableSpellings(source: Source, spelling: string, candidates: readonly string[]): Promise<{ physical: string; spellings: string[] } | null> {
  let all = await source.introspect();
  let named = tablesNamed(all, spelling);
  if (named.length === 0 && schemasNamed(spelling).length > 0) {
    all = [...all, ...(await source.introspect({ schemas: schemasNamed(spelling) }))];
    named = tablesNamed(all, spelling);
  }
  if (named.length === 0) return null;
  if (named.length > 1) {
    throw new UsageError(`table ${spelling} names several tables (${named.map((t) => exactSpelling(t)).join(', ')})`, { hint: `Name one exactly: ${named.map((t) => `'${exactSpelling(t)}'`).join(' or ')}` });
  }
  const target = named[0]!;
  return { physical: `${target.schema}.${target.name}`, spellings: candidates.filter((x) => samePhysical(all, x, target)) };
}

/**
 * Without the database: may spellings `a` and `b` name one table? Their table names are equal
 * but for case, and their schemas too where both name one (`t` may be `public.t`).
 */
export function mayNameSameTable(a: string, b: string): boolean {
  const l = (x: string) => x.toLowerCase();
  return tableReadings(a).some((ra) =>
    tableReadings(b).some((rb) => l(ra.name) === l(rb.name) && (ra.schema === undefined || rb.schema === undefined || l(ra.schema) === l(rb.schema))),
  );
}

/** Resolves `customers` / `schema.customers` and the column; refuses what cannot be migrated safely. */
async function resolveTarget(source: Source, tableArg: string, columnArg: string): Promise<{ table: TableInfo; column: ColumnInfo; tables: readonly TableInfo[] }> {
  let all = await source.introspect();
  let tables = tablesNamed(all, tableArg);
  if (tables.length === 0 && schemasNamed(tableArg).length > 0) {
    all = [...all, ...(await source.introspect({ schemas: schemasNamed(tableArg) }))];
    tables = tablesNamed(all, tableArg);
  }
  if (tables.length === 0) throw new UsageError(`source "${source.name}" has no table ${tableArg}`, { hint: 'Check --column: it is TABLE.COLUMN or SCHEMA.TABLE.COLUMN, as `steward audit` lists them' });
  if (tables.length > 1) throw new UsageError(`table ${tableArg} exists in several schemas (${tables.map((t) => t.schema).join(', ')})`, { hint: `Name one exactly: ${tables.map((t) => `--column '${exactSpelling(t)}.${columnArg}'`).join(' or ')}` });
  const table = tables[0]!;
  if (table.kind !== 'table') throw new UsageError(`${tableArg} is a view: its rows live in the tables it reads`, { hint: 'Encrypt the column of the underlying table' });
  const column = table.columns.find((c) => c.name === columnArg);
  if (!column) throw new UsageError(`table ${tableArg} has no column ${columnArg}`, { hint: `Its columns: ${table.columns.map((c) => c.name).join(', ')}` });
  if (table.primaryKey.length === 0) {
    throw new UsageError(`table ${tableArg} has no primary key, so rows cannot be addressed one by one and a migration could not resume safely`, {
      hint: `Add a primary key (ALTER TABLE ${tableArg} ADD PRIMARY KEY (…)), then run it again; nothing was changed`,
    });
  }
  if (table.primaryKey.includes(column.name)) throw new UsageError(`${columnArg} is part of the primary key of ${tableArg}`, { hint: 'Keys cannot be encrypted in place: encrypt a copy, or use a blind index for lookups' });
  for (const k of table.primaryKey) {
    const c = table.columns.find((x) => x.name === k);
    if (c && (c.typeClass === 'binary' || c.typeClass === 'json')) throw new UsageError(`the primary key of ${tableArg} has a ${c.dataType} part (${k}), which has no stable text form to bind ciphertexts to`, { hint: 'Tables keyed by text, numbers, dates or UUIDs are supported' });
  }
  return { table, column, tables: all };
}

/**
 * Why `column` of `table` is a key column (part of the primary key, of a unique index, of a
 * foreign key, or referenced by one), in words naming the constraint; null when it is none.
 * `unique` is only consulted when given (a blind index must not be in one; an encrypted column may).
 */
function keyColumnReason(tables: readonly TableInfo[], table: TableInfo, column: string, unique?: readonly UniqueIndex[]): string | null {
  const where = `${table.schema}.${table.name}`;
  if (table.primaryKey.includes(column)) return `${column} is part of the primary key of ${where}`;
  for (const fk of table.foreignKeys) {
    if (fk.columns.includes(column)) return `${column} is part of the foreign key ${fk.name} of ${where}, which references ${fk.referencedSchema}.${fk.referencedTable} (${fk.referencedColumns.join(', ')})`;
  }
  for (const t of tables) {
    for (const fk of t.foreignKeys) {
      const sameTable = fk.referencedTable === table.name && (fk.referencedSchema === table.schema || fk.referencedSchema === '');
      if (sameTable && fk.referencedColumns.includes(column)) {
        return `${column} is referenced by the foreign key ${fk.name} of ${t.schema}.${t.name} (${fk.columns.join(', ')}): rewriting it would rewrite or orphan those rows (ON UPDATE CASCADE copies the new values into them)`;
      }
    }
  }
  for (const u of unique ?? []) if (u.columns.includes(column)) return `${column} is part of the unique index ${u.name} of ${where}`;
  return null;
}

/**
 * Plans (and unless `dryRun`, runs) an online migration of one column.
 * Throws typed errors for what it refuses; nothing is changed then.
 */
export async function migrateColumn(options: ColumnMigrationOptions): Promise<ColumnMigrationResult> {
  // A driver error of the plan or the run (a trigger, a row-security policy raising with a row's value) is described, never passed on.
  const at: { table?: TableInfo } = {};
  return runMigration(options, at).catch((e: unknown) => {
    throw isStewardError(e) ? e : toSourceError(e, { source: options.source.name, kind: options.source.kind, action: options.operation, command: 'encrypt', names: [options.column], ...(at.table ? { table: at.table } : {}) });
  });
}

async function runMigration(options: ColumnMigrationOptions, at: { table?: TableInfo }): Promise<ColumnMigrationResult> {
  const started = Date.now();
  const now = options.now ?? (() => new Date());
  const { source, store, operation } = options;
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 1000, 10_000));
  const { table, column, tables } = await resolveTarget(source, options.table, options.column);
  at.table = table;
  const physical = `${table.schema}.${table.name}`;
  const w = source.writer;
  const t = tableRef(table);
  const c = sql.id(column.name);
  const pk = table.primaryKey;

  if (operation !== 'decrypt') {
    const why = keyColumnReason(tables, table, column.name);
    if (why) {
      throw new UsageError(`cannot ${operation} ${physical}.${column.name}: ${why}`, {
        hint: 'A key column must keep its values: encrypt a copy of it instead, or drop the foreign key first; nothing was changed',
      });
    }
  }

  // One column, one scope, whatever spelling names its table: the keys and open jobs recorded
  // under any spelling of this physical table (`t`, `public.t`, `"T"`) are this column's, so they
  // are its lock too. A column's first key takes the spelling given (the one the application
  // names in its ColumnScope).
  const spellings = new Set<string>();
  /** The data key id of each spelling that has one. */
  const dekOf = new Map<string, string>();
  for (const k of await options.fields.keyring.list()) {
    if (k.scope.source === source.name && k.scope.column === column.name && samePhysical(tables, k.scope.table, table)) {
      spellings.add(k.scope.table);
      if (k.kind === 'dek' && !dekOf.has(k.scope.table)) dekOf.set(k.scope.table, k.keyId);
    }
  }
  for (const j of await store.jobs.openOnTarget(source.name, column.name)) {
    if (j.operation !== 'retention' && samePhysical(tables, j.table, table)) spellings.add(j.table);
  }
  let scopeTable: string;
  if (spellings.size === 0) scopeTable = options.table;
  else if (spellings.size === 1) scopeTable = [...spellings][0]!;
  else if (operation === 'decrypt' && spellings.has(options.table)) scopeTable = options.table;
  else {
    const list = [...spellings].sort();
    throw new UsageError(`${physical}.${column.name} of source "${source.name}" has keys or unfinished jobs under ${list.length} spellings of its table (${list.join(', ')}): its values are split between as many keys`, {
      hint: `Decrypt it under each spelling (${list.map((x) => `\`${shellCommand('steward', 'decrypt', '--source', source.name, '--column', `${x}.${column.name}`)}\``).join('; ')}), then encrypt it once; nothing was changed`,
    });
  }
  const scope: ColumnScope = { source: source.name, table: scopeTable, column: column.name };

  // Keys: never created by a dry run or by decrypt.
  const keys = await options.fields.keyring.list(scope);
  const deks = keys.filter((k) => k.kind === 'dek');
  const keyId = deks[0]?.keyId ?? null;
  // `stw1:<keyId>:`: the one definition of "this column's ciphertext" every count and selection
  // below uses (a bare `stw1:` prefix is not one: anyone who can write the field can write it).
  // Encrypt sets it once the column's first key exists.
  let own = keyId ? keyHeader(keyId) : null;
  const isOwn = (): RawBuilder<unknown> => (own ? w.startsWith(c, own) : sql`1 = 0`);
  const active = deks.find((k) => k.state === 'active')?.version ?? null;
  if (operation !== 'encrypt' && !keyId) {
    throw new UsageError(`${scope.table}.${scope.column} of source "${source.name}" has no encryption key in this state store, so there is nothing to ${operation}`, {
      hint: 'Check --source/--column and that steward.yml points at the state store the column was encrypted with',
    });
  }

  const todoWhere = (rotateTo: number | null): RawBuilder<unknown> => {
    if (operation === 'encrypt') return sql`${c} is not null and not ${isOwn()}`;
    if (operation === 'decrypt') return w.startsWith(c, own!);
    return sql`${w.startsWith(c, own!)} and not ${w.startsWith(c, `${own}${rotateTo}:`)}`;
  };

  // The plan: counts in one aggregate scan, a sample for foreign formats.
  const ownExpr = own ? sql`sum(case when ${isOwn()} then 1 else 0 end)` : sql`0`;
  const agg = (
    await sql<Record<string, unknown>>`select count(*) as ${sql.id('rows')},
      sum(case when ${c} is null then 1 else 0 end) as ${sql.id('nulls')},
      ${ownExpr} as ${sql.id('own')},
      sum(case when ${w.startsWith(c, CIPHERTEXT_PREFIX)} then 1 else 0 end) as ${sql.id('stw')},
      max(${w.octetLength(c)}) as ${sql.id('maxbytes')},
      max(case when not ${isOwn()} then ${w.octetLength(c)} end) as ${sql.id('maxplain')}
      from ${t}`.execute(source.db)
  ).rows[0]!;
  const n = (v: unknown) => Number(v ?? 0);
  const rows = n(agg.rows);
  const nulls = n(agg.nulls);
  const ownHeader = n(agg.own);
  const otherSteward = n(agg.stw) - ownHeader;
  const sample = (await sql<{ v: unknown }>`select ${c} as v from ${t} where ${c} is not null and not ${isOwn()} limit 200`.execute(source.db)).rows
    .map((r) => textOf(r.v))
    .filter((v): v is string => v !== null);
  const foreignSampled = sample.filter((v) => foreignFormat(v) !== null);
  // Encrypt leaves alone only what this column's key authenticates (or a destroyed version of it
  // names): every value that starts with its header is decrypted for its row once, read-only.
  // Decrypt and rotate decrypt each such value anyway, and fail on one that does not verify.
  const checked = operation === 'encrypt' && own && ownHeader > 0 ? await checkOwnValues(source, table, column.name, own, await options.fields.column(scope), batchSize, options.signal) : { destroyed: 0, unverified: 0, rows: [] };
  const encrypted = ownHeader - checked.unverified;
  const plain = rows - nulls - ownHeader;
  const todo = operation === 'encrypt' ? plain : encrypted; // rotate: refined once the new version exists
  const otherScopes = await otherScopeValues(source, t, c, scope, dekOf);
  if (operation === 'encrypt' && !options.allowForeign && foreignSampled.length > 0 && foreignSampled.length * 2 >= sample.length) {
    const format = foreignFormat(foreignSampled[0]!);
    throw new CryptoError('CRYPTO_NOT_CIPHERTEXT', `${scope.table}.${scope.column} already holds what looks like ${format} ciphertext (${foreignSampled.length} of ${sample.length} sampled values); encrypting it again would leave it unreadable to that tool`, {
      hint: 'Decrypt it with that tool first, or pass --allow-foreign if these really are plain values; nothing was changed',
    });
  }

  const ddl: string[] = [];
  if (operation === 'encrypt' || operation === 'rotate') {
    // Size for the largest plaintext there is and, before anything is encrypted, for any value the
    // declared type admits (so the application's next insert fits too); a rotation only needs room
    // for a longer version number.
    const declaredBytes = ownHeader === 0 && column.maxLength !== null && column.maxLength <= 4000 ? column.maxLength * 4 : 0;
    const needed =
      operation === 'rotate'
        ? n(agg.maxbytes) + 4
        : ciphertextLength(Math.max(n(agg.maxplain), declaredBytes), (keyId ?? 'x'.repeat(22)).length, 9999) + 8;
    let widen: string | null;
    try {
      widen = w.widenColumn(table, column, needed);
    } catch (e) {
      throw new UsageError(`${scope.table}.${scope.column} cannot hold ciphertexts: ${e instanceof Error ? e.message : String(e)}`, { hint: 'Nothing was changed' });
    }
    if (widen) ddl.push(widen);
  }
  if (options.blindIndex && operation !== 'decrypt') {
    const bi = options.blindIndex.column;
    const existingBi = table.columns.find((x) => x.name === bi);
    const refuse = (why: string, hint: string) => new UsageError(`--blind-index ${bi} cannot be used for ${physical}.${column.name}: ${why}`, { hint: `${hint}; nothing was changed` });
    const fresh = 'Name a new column (for example --blind-index ' + `${column.name}_bidx), which Steward adds`;
    if (bi === column.name) throw refuse('it is the column being encrypted', fresh);
    if (existingBi) {
      const why = keyColumnReason(tables, table, bi, await w.uniqueIndexes(source.db, table));
      if (why) throw refuse(`${why}, and its values would be replaced by blind indexes`, fresh);
      if (existingBi.typeClass !== 'text' && existingBi.typeClass !== 'other') throw refuse(`its type ${existingBi.dataType} cannot hold blind indexes`, fresh);
      // It may only hold this column's blind index (a resumed or repeated run): every value in a
      // sample must be the HMAC of the target's plaintext under this column's blind-index key.
      const held = (
        await sql<Record<string, unknown>>`select ${sql.join(pk.map((k) => sql.id(k)))}, ${c} as ${sql.id('__value')}, ${sql.id(bi)} as ${sql.id('__bidx')}
          from ${t} where ${sql.id(bi)} is not null order by ${sql.join(pk.map((k) => sql.id(k)))} limit 500`.execute(source.db)
      ).rows;
      if (held.length > 0) {
        const hasIndexKey = keys.some((k) => k.kind === 'bidx' && k.state !== 'destroyed');
        let foreign = held.length;
        if (hasIndexKey) {
          const indexer = await options.fields.blindIndexer(scope, { ...(options.blindIndex.normalize ? { normalize: options.blindIndex.normalize } : {}), ...(options.blindIndex.bytes ? { bytes: options.blindIndex.bytes } : {}) });
          const cipher = await options.fields.column(scope);
          foreign = 0;
          for (const r of held) {
            const v = textOf(r.__value);
            let plain: string | null = v;
            if (v !== null && cipher.isOwnCiphertext(v)) {
              try {
                plain = await cipher.decrypt(v, rowKeyOf(pk.map((k) => r[k])));
              } catch {
                plain = null;
              }
            }
            if (plain === null || indexer.index(plain) !== textOf(r.__bidx)) foreign++;
          }
        }
        if (foreign > 0) {
          throw refuse(`it holds values that are not this column's blind index (${foreign} of ${held.length} checked)`, `${fresh}, or empty ${bi} first if its values are not needed`);
        }
      }
    } else {
      ddl.push(...w.addIndexColumn(table, bi, (options.blindIndex.bytes ?? 16) * 2 + 8));
    }
  }

  // Privileges, before a key, a job or a write: UPDATE on the column (and on an existing blind index).
  const writes = [column.name, ...(options.blindIndex && operation !== 'decrypt' && table.columns.some((x) => x.name === options.blindIndex!.column) ? [options.blindIndex.column] : [])];
  const denied = await w.updateDenied(source.db, table, writes);
  if (denied && denied.denied.length > 0) {
    const target = displayTable(source.kind, table);
    throw new SourceError('SOURCE_PERMISSION', source.name, `Source "${source.name}": cannot ${operation} ${physical}.${column.name}: the user ${denied.grantee} may not UPDATE ${denied.denied.join(', ')} of ${target}`, {
      hint: `Run GRANT UPDATE (${denied.denied.map((x) => source.dialect.quoteIdentifier(x)).join(', ')}) ON ${target} TO ${denied.grantee} (or use a user that may), then run it again; nothing was changed`,
    });
  }

  const existing = await store.jobs.open({ source: scope.source, table: scope.table, target: scope.column });
  if (existing && existing.operation !== operation) {
    throw new UsageError(`an unfinished ${existing.operation} of ${scope.table}.${scope.column} (job ${existing.id.slice(0, 8)}, started ${existing.startedAt}) must finish first`, {
      hint: `Run \`steward ${existing.operation === 'rotate' ? 'encrypt --rotate' : existing.operation}\` on the same column again: it resumes where it stopped`,
    });
  }
  const plan: ColumnPlan = {
    scope,
    table: { schema: table.schema, name: table.name, primaryKey: pk, rowEstimate: table.rowEstimate },
    column: { name: column.name, dataType: column.dataType },
    rows,
    nulls,
    encrypted,
    todo,
    foreign: (operation === 'encrypt' ? 0 : otherSteward) + foreignSampled.length,
    otherPrefixed: otherSteward,
    unverified: checked.unverified,
    unverifiedRows: checked.rows,
    shredded: checked.destroyed,
    otherScopes,
    maxValueBytes: n(agg.maxbytes),
    ddl,
    resumes: existing ? { id: existing.id, pass: existing.pass, lastKey: existing.lastKey, startedAt: existing.startedAt } : null,
  };
  const counts: MigrationCounts = { changed: 0, raced: 0, foreign: 0, leftAsIs: checked.unverified, shredded: checked.destroyed, batches: 0, passes: 0, remaining: todo };
  let total = todo; // rotate: counted once the new version exists
  if (options.dryRun) return { jobId: existing?.id ?? null, operation, dryRun: true, plan, counts, durationMs: Date.now() - started, retiredVersions: [] };

  // Nothing to write and nothing to report: no job. Values left unclassified are a run's result
  // (its summary and log entry count them), so they get a run even with nothing to change.
  if (!existing && todo === 0 && ddl.length === 0 && operation !== 'rotate' && counts.leftAsIs === 0) {
    if (operation === 'decrypt') throwIfOtherScopes(source, scope, otherScopes, 0);
    return { jobId: null, operation, dryRun: false, plan, counts, durationMs: Date.now() - started, retiredVersions: [] };
  }
  const readOnly = await w.readOnlyReason(source.db);
  if (readOnly) {
    throw new SourceError('SOURCE_PERMISSION', source.name, `Source "${source.name}": cannot ${operation} ${scope.table}.${scope.column}: ${readOnly}`, {
      hint: 'Point sources[].url at the primary, with a user that may UPDATE the table; nothing was changed',
    });
  }

  // The run, on the engine (src/jobs/engine.ts): it takes the job (resumes one whose runner
  // died, refuses one whose runner lives), logs it, checkpoints each batch and stops on request.
  const where = { source: scope.source, table: scope.table, column: scope.column };
  const verb = operation === 'rotate' ? 'rotated' : `${operation}ed`;
  const target = { table, column: column.name, extraColumn: undefined as string | undefined };
  let doing = `${operation} a batch of`;
  const result = await runJob<ColumnMigrationResult>(
    {
      source,
      store,
      actor: options.actor,
      existing,
      create: () => ({
        id: randomUUID(),
        source: scope.source,
        table: scope.table,
        target: scope.column,
        operation,
        pass: 1,
        lastKey: null,
        counts: {},
        options: { batchSize, blindIndex: options.blindIndex ? { column: options.blindIndex.column, normalize: typeof options.blindIndex.normalize === 'string' ? options.blindIndex.normalize : 'none', bytes: options.blindIndex.bytes ?? 16 } : null },
      }),
      refuse: {
        busy: (j) =>
          new UsageError(`${scope.table}.${scope.column} is being ${verb} by another Steward (pid ${j.owner?.pid} on ${j.owner?.host}, last checkpoint ${j.updatedAt})`, {
            hint: 'Wait for it to finish; if that process is gone, run again after two minutes without checkpoints',
          }),
        lost: () => new UsageError(`another Steward took over the ${operation} of ${scope.table}.${scope.column} just now`, { hint: 'Let it finish; `steward encrypt --dry-run` shows the progress' }),
      },
      action: `column.${operation}`,
      subject: where,
      startedDetails: (j) => ({ pass: j.pass, todo, ddl: ddl.length }),
      counts: () => ({ ...counts }),
      what: `${operation} ${scopeName(scope)}`,
      progressText: () => `${counts.changed} value(s) done in ${counts.batches} batch(es), pass ${counts.passes}`,
      progress: () => ({ done: counts.changed, total: Math.max(total, counts.changed) }),
      ...(options.onProgress ? { onProgress: (p: JobProgress) => options.onProgress!({ pass: counts.passes, ...p }) } : {}),
      signal: options.signal,
      lockTimeoutMs: options.lockTimeoutMs,
      errorContext: () => ({ action: doing, table, command: 'encrypt' }),
      // Failed before its first batch (its DDL, its keys): nothing to resume, so no open job is left to block another operation.
      closeIfUntouched: true,
      crashAt: options.crashAt,
      now,
    },
    async (run) => {
      doing = `change the column type for ${operation} on`;
      for (const stmt of ddl) {
        run.touch();
        await sql.raw(stmt).execute(source.db);
        await run.log('column.ddl', { statement: stmt.replace(/\s+/g, ' ') });
      }
      doing = `${operation} a batch of`;

      // Rotation: a new version once per job (recorded in the job, so a resume does not rotate again).
      let rotateTo: number | null = null;
      if (operation === 'rotate') {
        const recorded = (run.job.options as { rotateTo?: number }).rotateTo;
        if (recorded) rotateTo = recorded;
        else {
          rotateTo = (await options.fields.keyring.rotate(scope)).version;
          await run.setOptions({ ...run.job.options, rotateTo, from: active });
          await run.log('key.rotated', { from: active, to: rotateTo });
        }
      }

      const cipher = await options.fields.column(scope);
      if (operation !== 'decrypt') await cipher.reload();
      if (operation === 'encrypt') {
        // The column's key exists before its first batch is selected: the selection leaves out
        // exactly the values that start with its header, and nothing else that starts with `stw1:`.
        await cipher.reserve(1);
        own = keyHeader(cipher.keyId!);
      }
      const indexer: BlindIndexer | null =
        options.blindIndex && operation !== 'decrypt'
          ? await options.fields.blindIndexer(scope, { ...(options.blindIndex.normalize ? { normalize: options.blindIndex.normalize } : {}), ...(options.blindIndex.bytes ? { bytes: options.blindIndex.bytes } : {}) })
          : null;
      target.extraColumn = indexer ? options.blindIndex!.column : undefined;

      const maxPasses = Math.max(1, options.maxPasses ?? 5);
      if (operation === 'rotate') total = await countWhere(source.db, t, todoWhere(rotateTo));
      run.touch(); // from here on a failure is resumed by a re-run (its checkpoint says where)
      const firstPass = run.job.pass;
      const resumeAfter = run.job.lastKey;
      for (let pass = firstPass; ; pass++) {
        counts.passes = pass;
        // Batches in key order, one in flight: the next batch is read and encrypted while this one is
        // written (Node's crypto and the database's write overlap); writes and checkpoints stay in order.
        await run.batches<readonly unknown[], Record<string, unknown>[], PreparedBatch, WrittenBatch>({
          from: pass === firstPass ? resumeAfter : null,
          overlap: true,
          checkpoint: 'after',
          select: async (after) => {
            const rows = await selectAfter(source.db, { table, columns: [...keyColumns(pk), sql`${c} as ${sql.id('__value')}`], where: todoWhere(rotateTo), after, limit: batchSize });
            if (rows.length === 0) return null;
            return { batch: rows, next: keyOfRow(rows[rows.length - 1]!, pk), last: rows.length < batchSize };
          },
          transform: async (rows) => ({ swaps: await swapsOf(rows, { operation, cipher, indexer, table, counts }), lastKey: keyOfRow(rows[rows.length - 1]!, pk) }),
          empty: (b) => b.swaps.length === 0,
          write: async (trx, b) =>
            source.writer.swapCounted
              ? { returned: null, written: await source.writer.swapCounted(trx, b.swaps, target), counted: true }
              : { returned: await source.writer.swap(trx, b.swaps, target), written: 0, counted: false },
          verify: async (trx, b, w) => ({ ...w, written: await verifySwaps(trx, source, b.swaps, w, target, cipher, operation) }),
          committed: (b, w) => {
            const written = w?.written ?? 0;
            counts.changed += written;
            counts.raced += b.swaps.length - written;
            counts.batches++;
          },
          record: (b) => ({ pass, lastKey: b.lastKey, counts: { ...counts } }),
        });
        counts.remaining = await countWhere(source.db, t, todoWhere(rotateTo));
        if (counts.remaining === 0 || pass >= maxPasses) break;
        total = counts.changed + counts.remaining;
        await run.checkpoint({ pass: pass + 1, lastKey: null, counts: { ...counts } });
      }

      // A rotation retires the old versions as it creates the new one (they still decrypt); once no value uses them, say so.
      const retiredVersions: number[] = [];
      if (operation === 'rotate' && counts.remaining === 0) {
        for (const k of await options.fields.keyring.list(scope)) {
          if (k.kind !== 'dek' || k.version === rotateTo || k.state === 'destroyed') continue;
          if (k.state === 'active') await options.fields.keyring.retire(scope, k.version);
          retiredVersions.push(k.version);
        }
      }
      // Decrypt: the column is decrypted only when no other scope's ciphertexts remain in it either.
      const othersLeft = operation === 'decrypt' ? await otherScopeValues(source, t, c, scope, dekOf) : [];
      const otherValues = othersLeft.reduce((sum, o) => sum + o.values, 0);
      return {
        result: { jobId: run.job.id, operation, dryRun: false, plan: { ...plan, otherScopes: othersLeft }, counts, durationMs: Date.now() - started, retiredVersions },
        counts: { ...counts },
        entry: { ...counts, ...(retiredVersions.length ? { retiredVersions } : {}), ...(otherValues ? { otherScopes: othersLeft.map((o) => ({ table: o.scope.table, keyId: o.keyId, values: o.values })) } : {}) },
      };
    },
  );
  // The job is done and logged; the column is not decrypted while another scope's ciphertexts remain in it.
  if (operation === 'decrypt') throwIfOtherScopes(source, scope, result.plan.otherScopes, counts.changed);
  return result;
}


/**
 * Checks every value that starts with the column's header (`stw1:<keyId>:`) by decrypting it
 * for its row, read-only, in key order: the header is not proof (anyone who can write the field
 * can write it), so a value that does not authenticate does not count as encrypted.
 */
async function checkOwnValues(
  source: Source,
  table: TableInfo,
  column: string,
  own: string,
  cipher: ColumnCipher,
  batchSize: number,
  signal: AbortSignal | undefined,
): Promise<{ destroyed: number; unverified: number; rows: string[] }> {
  const pk = table.primaryKey;
  const keys = sql.join(pk.map((k) => sql.id(k)));
  const out = { destroyed: 0, unverified: 0, rows: [] as string[] };
  await cipher.reload(); // versions another process created since this cipher loaded
  let last: unknown[] | null = null;
  for (;;) {
    if (signal) await new Promise((r) => setImmediate(r));
    throwIfInterrupted(signal, `encrypt ${scopeName(cipher.scope)}`, 'while checking the values already encrypted; nothing was changed');
    const after = last ? sql`and ${keyTuple(pk)} > ${valueTuple(last)}` : sql``;
    let batch: Record<string, unknown>[];
    try {
      batch = (
        // Every row in key order, filtered here: with the prefix test in the statement, Postgres
        // estimates few matches and sorts the table for each batch (100k rows: 11 s instead of 1 s).
        await sql<Record<string, unknown>>`select ${keys}, ${sql.id(column)} as ${sql.id('__value')} from ${tableRef(table)}
          where 1 = 1 ${after} order by ${keys} limit ${batchSize}`.execute(source.db)
      ).rows;
    } catch (e) {
      throw migrationSourceError(e, source, 'encrypt', table);
    }
    for (const r of batch) {
      const value = textOf(r.__value);
      if (value === null || !value.startsWith(own)) continue;
      const key = pk.map((k) => r[k]);
      const whose = cipher.ownership(value, rowKeyOf(key));
      if (whose === 'destroyed') out.destroyed++;
      else if (whose === 'unverified' && ++out.unverified <= 10) out.rows.push(rowDescription(table, key));
    }
    if (batch.length < batchSize) return out;
    last = pk.map((k) => batch[batch.length - 1]![k]);
  }
}

/** How many values of the column hold ciphertexts of each other scope of it (another spelling of its table). */
async function otherScopeValues(source: Source, t: RawBuilder<unknown>, c: RawBuilder<unknown>, scope: ColumnScope, dekOf: ReadonlyMap<string, string>): Promise<OtherScope[]> {
  const out: OtherScope[] = [];
  for (const [spelling, keyId] of [...dekOf].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (spelling === scope.table) continue;
    const values = await countWhere(source.db, t, source.writer.startsWith(c, keyHeader(keyId)));
    out.push({ scope: { source: scope.source, table: spelling, column: scope.column }, keyId, values });
  }
  return out;
}

/** Decrypt is not done while ciphertexts of another scope of the same column remain in it. */
function throwIfOtherScopes(source: Source, scope: ColumnScope, others: readonly OtherScope[], changed: number): void {
  const left = others.filter((o) => o.values > 0);
  if (left.length === 0) return;
  const total = left.reduce((sum, o) => sum + o.values, 0);
  const names = left.map((o) => `${o.values} under the key of ${scopeName(o.scope)} (key ${o.keyId})`).join(', ');
  throw new UsageError(
    `${scopeName(scope)} is not decrypted: ${changed} value(s) were decrypted under its key, but ${total} value(s) of the same column are still encrypted under another scope, recorded under another spelling of its table: ${names}`,
    {
      hint: `Decrypt those too: ${left.map((o) => `\`${shellCommand('steward', 'decrypt', '--source', source.name, '--column', `${o.scope.table}.${o.scope.column}`)}\``).join('; ')}`,
    },
  );
}

async function countWhere(db: Kysely<any>, t: RawBuilder<unknown>, where: RawBuilder<unknown>): Promise<number> {
  const r = (await sql<{ n: unknown }>`select count(*) as ${sql.id('n')} from ${t} where ${where}`.execute(db)).rows[0];
  return Number(r?.n ?? 0);
}

/** A batch ready to write: one compare-and-set per row, and where the batch ends in key order. */
interface PreparedBatch {
  readonly swaps: readonly PreparedSwap[];
  readonly lastKey: readonly unknown[];
}

type PreparedSwap = SwapRow & { readonly plain: string };

interface WrittenBatch {
  /** The changed rows as stored, when the dialect's swap returned them (RETURNING). */
  readonly returned: Record<string, unknown>[] | null;
  /** Rows that now hold the new value, as verified. */
  readonly written: number;
  /** The database compared each changed row with the value sent and counted the equal ones (`written`): no read-back. */
  readonly counted: boolean;
}

/**
 * The transform of a migration: each row's compare-and-set, from the value read to what
 * the operation makes of it. Null values are skipped; so are values this operation must
 * not touch (encrypt: a Steward ciphertext; decrypt and rotate: another key's or tool's,
 * counted as foreign).
 */
async function swapsOf(
  rows: readonly Record<string, unknown>[],
  o: { readonly operation: ColumnOperation; readonly cipher: ColumnCipher; readonly indexer: BlindIndexer | null; readonly table: TableInfo; readonly counts: MigrationCounts },
): Promise<PreparedSwap[]> {
  const { operation, cipher, indexer, table } = o;
  const pk = table.primaryKey;
  const swaps: PreparedSwap[] = [];
  if (operation !== 'decrypt') await cipher.reserve(rows.length);
  for (const r of rows) {
    const key = pk.map((k) => r[k]);
    const value = textOf(r.__value);
    if (value === null) continue;
    const rowKey = rowKeyOf(key);
    if (operation === 'encrypt') {
      if (cipher.isOwnCiphertext(value)) continue; // the selection left these out; `stw1:hello` is plaintext
      swaps.push({ key, old: value, plain: value, value: cipher.encryptSync(value, rowKey), extra: indexer ? indexer.index(value) : null });
      continue;
    }
    if (!cipher.isOwnCiphertext(value)) {
      o.counts.foreign++;
      continue;
    }
    let plain: string;
    try {
      plain = await cipher.decrypt(value, rowKey);
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      throw new CryptoError(e.code as 'CRYPTO_TAMPERED', `${e.message}; the row: ${rowDescription(table, key)}`, { ...(e.hint ? { hint: e.hint } : {}), cause: e });
    }
    if (operation === 'decrypt') swaps.push({ key, old: value, plain, value: plain });
    else swaps.push({ key, old: value, plain, value: cipher.encryptSync(plain, rowKey), extra: indexer ? indexer.index(plain) : null });
  }
  return swaps;
}

/**
 * The verify step, inside the batch's transaction: every changed row must hold exactly what
 * was written (compared by the database as it counted them, or here against the rows the swap
 * returned or a read-back); sampled rows must also decrypt to the value read. Returns how
 * many rows now hold their new value (a row the application changed first does not: a later
 * pass takes it). A value that does not verify throws, which rolls the batch back.
 */
async function verifySwaps(
  trx: Kysely<any>,
  source: Source,
  swaps: readonly PreparedSwap[],
  result: WrittenBatch,
  target: { readonly table: TableInfo; readonly column: string },
  cipher: ColumnCipher,
  operation: ColumnOperation,
): Promise<number> {
  const sampled = (i: number) => operation !== 'decrypt' && (i % 8 === 0 || i === swaps.length - 1);
  if (result.counted) {
    // The database held each changed row equal to the value sent: the sample checks that the
    // value sent decrypts, with its row's key, to the value read.
    for (let i = 0; i < swaps.length; i++) if (sampled(i)) checkDecrypts(swaps[i]!.value, swaps[i]!, target, cipher);
    return result.written;
  }
  const pk = target.table.primaryKey;
  const back = result.returned ?? (await source.writer.fetchByKeys(trx, target.table, target.column, swaps.map((s) => s.key)));
  const keyText = (parts: readonly unknown[]) => (parts.length === 1 ? String(parts[0]) : JSON.stringify(parts.map(String)));
  const byKey = new Map(back.map((r) => [keyText(pk.map((k) => r[k])), textOf(r.__value)]));
  let written = 0;
  for (let i = 0; i < swaps.length; i++) {
    const s = swaps[i]!;
    const stored = byKey.get(keyText(s.key));
    if (stored !== s.value) continue; // the application changed the row first: a later pass takes it
    // Every row: the database holds exactly what was written. Sampled rows (the first, the last,
    // every 8th): it also decrypts to the value read, with this row's key — a key or binding
    // mistake would show on every row, so a sample finds it without a second decryption each.
    if (sampled(i)) checkDecrypts(stored, s, target, cipher);
    written++;
  }
  return written;
}

/** A stored ciphertext must decrypt, with its row's key, to the value read; else the batch rolls back. */
function checkDecrypts(stored: string, s: PreparedSwap, target: { readonly table: TableInfo; readonly column: string }, cipher: ColumnCipher): void {
  let plain: string;
  try {
    plain = cipher.decryptSync(stored, rowKeyOf(s.key));
  } catch (e) {
    throw new InternalError(`Read-back of ${target.table.name}.${target.column} did not decrypt (${isStewardError(e) ? e.code : 'error'}); the batch was rolled back`, { cause: e });
  }
  if (plain !== s.plain) throw new InternalError(`Read-back of ${target.table.name}.${target.column} decrypted to a different value; the batch was rolled back`);
}

/**
 * A driver error during a column migration as a SourceError: the SQLSTATE and a reason
 * Steward chose (never the driver's text, which may quote row values: a trigger raising with
 * `old.email`), and a hint that fits a migration.
 */
export function migrationSourceError(e: unknown, source: Source, operation: ColumnOperation, table: TableInfo): SourceError {
  const { code, reason } = classifyDriverError(e, source.kind);
  const target = displayTable(source.kind, table);
  const hint =
    code === 'SOURCE_PERMISSION'
      ? `Grant SELECT and UPDATE on ${target} to the user in sources[].url, then run it again: it resumes where it stopped`
      : code === 'SOURCE_UNREACHABLE'
        ? 'Check that the server is running and reachable, then run it again: it resumes where it stopped'
        : `The database refused the write (a trigger, a check constraint or a type may reject it; see the database's log for the statement). Fix that, then run it again: it resumes where it stopped, and no batch was half written`;
  return new SourceError(code, source.name, `Source "${source.name}": cannot ${operation} a batch of ${target}: ${reason}`, { hint });
}
