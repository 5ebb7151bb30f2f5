import type { Kysely } from 'kysely';
import type { AccessSnapshot } from './access-types.js';
import type { ConnectionStringTransport, SessionTransport, TransitAdvice } from '../transit/types.js';
import type { RowWriter } from './column-writer.js';
import type { SourceCommand, SourceKind } from './kinds.js';
import type { ColumnInfo, TableInfo, TableRef } from './table-info.js';
import type { LookupExpression } from './lookup-expressions.js';

export type { ColumnWriter, RowWriter, SwapRow, SwapOptions } from './column-writer.js';

export type * from './access-types.js';

export { SOURCE_KINDS, type SourceCommand, type SourceKind } from './kinds.js';
export type { ColumnInfo, ForeignKey, TableInfo, TableRef } from './table-info.js';

/**
 * What a dialect can do, so that callers never branch on `kind`.
 * Modelled on Kysely's adapter flags.
 */
export interface SourceCapabilities {
  /** `TABLESAMPLE SYSTEM/BERNOULLI` is available for sampling. */
  readonly supportsTablesample: boolean;
  /** Several schemas/databases can hold tables. */
  readonly supportsSchemas: boolean;
  /** Privileges can be granted on single columns. */
  readonly supportsColumnPrivileges: boolean;
  /** `INSERT/UPDATE/DELETE … RETURNING`. */
  readonly supportsReturning: boolean;
  /** DDL runs inside a transaction and rolls back with it. */
  readonly supportsTransactionalDdl: boolean;
  /**
   * Bind parameters Steward puts into one statement: the database's own limit
   * (SQLite 32,766; MySQL and Postgres 65,535) less room for the statement's own
   * parameters. Batches that bind key lists shrink to stay under it.
   */
  readonly maxBindParameters: number;
  /**
   * Text equality ignores case under the default collation (MySQL/MariaDB `_ci`
   * collations), so a case-insensitive lookup needs no `lower()` and an index on
   * the plain column serves it.
   */
  readonly textEqualityFoldsCase: boolean;
}

/**
 * What an operator's predicate may not contain in a dialect, for the lexer of
 * src/sources/predicate.ts (each flag refuses a construct that would let text
 * escape the parentheses Steward puts around it, or take one of its parameters).
 */
export interface PredicateSyntax {
  /** node-sql-parser builds to parse a predicate with; one accepting it is enough. */
  readonly parsers: readonly string[];
  /** A backslash in a `'…'` string may or may not be an escape, by server setting: refused. */
  readonly backslashInStrings: boolean;
  /** `"…"` is a string, and a backslash in it may be an escape (MySQL): refused. */
  readonly backslashInDoubleQuotes: boolean;
  /** `E'…'` strings, which always take backslash escapes (Postgres). */
  readonly escapeStrings: boolean;
  /** `#` starts a comment (MySQL): refused. */
  readonly hashComments: boolean;
  /** `$tag$…$tag$` dollar quotes: refused. */
  readonly dollarQuotes: boolean;
  /** `$1` bind placeholders: refused. */
  readonly numberedParameters: boolean;
  /** `?` bind placeholders: refused. */
  readonly questionParameters: boolean;
  /** `:name`, `@name`, `$name` bind placeholders (SQLite): refused. */
  readonly namedParameters: boolean;
}

/**
 * What Steward knows of a database without a connection to it: capability flags,
 * quoting, the syntax operator predicates are checked against, how a connection
 * string asks for TLS, and how archived values travel. One per dialect, in
 * `src/sources/<dialect>/<dialect>-dialect.ts`; {@link dialectOf} finds it by kind.
 * Code outside `src/sources/` asks the dialect, never which database it is.
 */
export interface SourceDialect {
  readonly kind: SourceKind;
  /** `PostgreSQL`, `MySQL/MariaDB`, `SQLite`: for messages. */
  readonly displayName: string;
  readonly capabilities: SourceCapabilities;
  /** An identifier quoted for this dialect's SQL (`"x"`, `` `x` ``), for statements Steward suggests. */
  quoteIdentifier(name: string): string;
  readonly predicates: PredicateSyntax;
  /** What a connection string asks for in transit, read without connecting. Pure; never returns the password. */
  connectionTransport(url: string, env: NodeJS.ProcessEnv): ConnectionStringTransport;
  /** What to tell a user about this database's encryption in transit; null where nothing travels (SQLite). */
  readonly transit: TransitAdvice | null;
  /** Reading rows for archives exactly, and writing archived values back (`source.archive`). */
  readonly archive: ArchiveDialect;  /**
   * The statement a user runs to index `column` of `table` for lookups by
   * equality; `caseInsensitive`: for lookups by its lower-case form (a plain
   * index where equality already folds case). `name` is used where the dialect
   * requires an index name.
   */
  indexStatement(table: TableRef, column: string, options: { readonly caseInsensitive: boolean; readonly name: string }): string;
  /**
   * The expression a lookup compares `column` by (phones by their characters without
   * separators, see lookup-expressions.ts), as subject-queries.ts#identifierMatch writes it;
   * null where the database cannot index an expression so that the lookup uses it.
   */
  lookupExpression(column: string, expression: LookupExpression): string | null;
  /** The statement that indexes {@link lookupExpression}; null where there is none. */
  lookupIndexStatement(table: TableRef, column: string, expression: LookupExpression, options: { readonly name: string }): string | null;
  /**
   * Free-text mentions (`lower(col) like '%…%'`): the statement for an index that serves them
   * (Postgres: a pg_trgm GIN index), and the index lead subject-queries.ts#indexLeads reports
   * for it; null where the database has none.
   */
  readonly freeTextIndex: { statement(table: TableRef, column: string): string; lead(column: string): string } | null;  /**
   * Where the database has no accounts of its own (SQLite: a file, guarded by its
   * permissions): the principal names an `access.authorized` entry may use, and the
   * sentence telling a user so. Null: principals are the database's roles or accounts.
   */
  readonly fixedPrincipals: { readonly pattern: RegExp; readonly explanation: string } | null;
}

export interface IntrospectOptions {
  /** Schemas to list. Default: every non-system schema the connection can see. */
  readonly schemas?: readonly string[];
}

export interface SampleOptions {
  /** Upper bound on rows returned. */
  readonly limit: number;
  /** Columns to read (default: all). Quoted by the library. */
  readonly columns?: readonly string[];
}

/** One row of a sample: column name → value as the driver returned it. */
export type SampleRow = Readonly<Record<string, unknown>>;

/**
 * SQL expressions a dialect supplies for integrity checks pushed down into the
 * database (one scan per table). Each takes a column reference and returns a
 * boolean (or text) expression; identifiers arrive already quoted by Kysely.
 */
export interface IntegrityExpressions {
  /** True when a non-null value is not shaped like an email address. */
  invalidEmail(column: RawSql): RawSql;
  /** True when a non-null value does not hold 7–15 digits after removing separators. */
  invalidPhone(column: RawSql): RawSql;
  /** True when a non-null date value is in the future or before 1900. */
  impossibleBirthDate(column: RawSql): RawSql;
  /** True when a non-null timestamp is older than the given ISO instant. */
  olderThan(column: RawSql, isoInstant: string): RawSql;
  /**
   * True when a non-null date/timestamp is at or before the instant `cutoff`
   * (second precision). Dates compare as calendar days in UTC; timestamps
   * without a time zone are read as UTC; `timestamptz`/MySQL `TIMESTAMP` compare
   * as instants. For retention: a record is due when its date + period ≤ now.
   */
  notAfter(column: RawSql, info: Pick<ColumnInfo, 'typeClass' | 'dataType'>, cutoff: Date): RawSql;
  /** A case-folded text form of the value, for duplicate detection. */
  folded(column: RawSql): RawSql;
  /**
   * A 64-bit hash of a folded value, where the dialect has a cheap one and runs
   * queries in parallel: duplicates are then grouped by hash and confirmed exactly.
   * Absent: they are grouped by the folded value itself.
   */
  readonly hash?: (folded: RawSql) => RawSql;
  /**
   * Non-null rows of `column` and distinct values of `key` over them, where the dialect
   * counts them faster than a plain `count(distinct key)`. Absent: that query is used.
   */
  countDistinct?(db: Kysely<any>, table: RawSql, column: RawSql, key: RawSql): Promise<{ rows: number; keys: number }>;
  /**
   * A catalog query with one row `{ column }` per column of `table` whose folded values a
   * unique index or constraint already keeps unique; their duplicates are not counted.
   */
  foldedUniqueColumns(table: TableRef): RawSql;
  /** Whether the value was exact (true) or approximated (SQLite has no regular expressions). */
  readonly exact: boolean;
  /** Why the checks are approximate, for reports (where `exact` is false): `SQLite has no regular expressions`. */
  readonly approximation?: string;
}

/**
 * What archiving needs from a dialect (src/archive/values.ts): how to read a column
 * without the driver rounding it, and the parameter forms its driver writes back
 * exactly. Implemented in `src/sources/<dialect>/<dialect>-archive.ts`.
 */
export interface ArchiveDialect {
  /** `column` read without loss: as it is, or as text where the driver would round it (a select expression, not aliased). */
  exactRead(column: RawSql, info: { readonly typeClass?: string | undefined; readonly dataType: string }): RawSql;
  /** How an INSERT parameter of each kind of archived value goes to the driver. */
  readonly params: {
    readonly boolean: 'boolean' | 'integer';
    readonly bigint: 'bigint' | 'text';
    /** A timestamp with a time zone. */
    readonly instant: 'date' | 'iso-text';
    readonly array: 'array' | 'json-text';
  };
  /**
   * A table's schema is a namespace inside the database (Postgres), so a restore goes
   * back into the archived one by default; false where the schema is the database
   * itself (MySQL) or the file (SQLite): a restore writes into the connection's own.
   */
  readonly restoresIntoSchema: boolean;
}

/** Kysely's RawBuilder, re-exported so that source types do not depend on its generics. */
export type RawSql = import('kysely').RawBuilder<unknown>;

/**
 * A connected customer database. One interface, one implementation per dialect
 * in `src/sources/<dialect>/`. Detection and audit code never ask which database
 * they are talking to.
 */
export interface Source {
  readonly name: string;
  readonly kind: SourceKind;
  /** What differs per database: ask this, not `kind`. */
  readonly dialect: SourceDialect;
  /** `dialect.capabilities`. */
  readonly capabilities: SourceCapabilities;
  /** The query layer, for callers that need more than the methods below. */
  readonly db: Kysely<any>;
  /** Lists tables and views with columns, keys and row estimates. */
  introspect(options?: IntrospectOptions): Promise<readonly TableInfo[]>;
  /** Cheap row estimate from catalog statistics; -1 when the catalog does not know. */
  estimateRows(table: TableRef): Promise<number>;
  /**
   * A bounded random sample of rows, without a full scan of large tables
   * (TABLESAMPLE on Postgres, primary-key range probes elsewhere).
   */
  sample(table: TableInfo, options: SampleOptions): Promise<readonly SampleRow[]>;
  /** Expressions for integrity checks pushed down into SQL. */
  readonly integrity: IntegrityExpressions;
  /**
   * Who can read what: roles, memberships, grants, row-level security, default
   * privileges (servers) or file modes (SQLite), for access verification. A
   * catalog the connection may not read becomes a `problems` entry, not an error.
   */
  readAccess(options?: IntrospectOptions): Promise<AccessSnapshot>;
  /** Reading rows for archives exactly, and writing archived values back. */
  readonly archive: ArchiveDialect;
  /** Batched compare-and-set writes to one column, for online column migrations. */
  readonly writer: RowWriter;
  /** Whether this connection is encrypted and whether the server requires it, as the database reports it. */
  readTransport(): Promise<SessionTransport>;
  /**
   * Runs one SELECT that must not write and must end within `timeoutMs`: in a
   * read-only transaction (SQLite: `query_only`) under the dialect's statement
   * timeout (Postgres `statement_timeout`, MySQL `MAX_EXECUTION_TIME`, MariaDB
   * `max_statement_time`; SQLite has none, its database is a local file). `build`
   * gets the hint to place right after `select` (empty where the dialect sets the
   * timeout otherwise). Driver errors propagate as they are (a timeout, a write
   * refused), for the caller to name.
   */
  readOnlyQuery<R>(timeoutMs: number, build: (hint: RawSql) => RawSql): Promise<R[]>;
  /** Releases the connection pool. Safe to call twice. */
  close(): Promise<void>;
}

/** How to reach a source: what `steward.yml` says, after env interpolation. */
export interface SourceConnection {
  readonly name: string;
  readonly kind: SourceKind;
  /** `postgres://…`, `mysql://…`, or for SQLite a file path / `sqlite:path`. */
  readonly url: string;
  /** Milliseconds to wait for a connection before failing. */
  readonly connectTimeoutMs?: number;
}

/** How `openSource` opens a connection. */
export interface OpenSourceOptions {
  /**
   * Open the session read-only: Postgres `default_transaction_read_only`, MySQL
   * `SET SESSION TRANSACTION READ ONLY`, SQLite opened with `readonly`. Audits use this.
   */
  readonly readonly?: boolean;
  /** The command the source is opened for, so that error hints fit it (only the audit can exclude a table). */
  readonly command?: SourceCommand;
}
