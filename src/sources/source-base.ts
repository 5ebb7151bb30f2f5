/**
 * What the three dialects share: error mapping around every call, argument
 * checks, and an idempotent close. A dialect supplies its capability flags, an
 * introspector and a sampler (`src/sources/<dialect>/`), like Kysely's dialects
 * supply a driver, an adapter and an introspector.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { SourceError } from '../errors.js';
import type { SessionTransport } from '../transit/types.js';
import { redactUrl, toSourceError, type SourceCommand, type SourceErrorContext } from './errors.js';
import type {
  AccessSnapshot,
  ArchiveDialect,
  RowWriter,
  IntegrityExpressions,
  IntrospectOptions,
  SampleOptions,
  SampleRow,
  Source,
  SourceCapabilities,
  SourceDialect,
  SourceKind,
  RawSql,
  TableInfo,
  TableRef,
} from './types.js';

export interface SourceIntrospector {
  introspect(options: IntrospectOptions): Promise<TableInfo[]>;
  estimateRows(table: TableRef): Promise<number>;
}

export interface SourceAccessReader {
  read(options: IntrospectOptions): Promise<AccessSnapshot>;
}

export interface SourceSampler {
  /** `limit` is a positive integer; `columns` is non-empty (checked by the caller). */
  sample(table: TableInfo, limit: number, columns: readonly string[]): Promise<SampleRow[]>;
}

/** Where a source lives, for error messages: already redacted, never a password. */
export interface SourceLocation {
  readonly target?: string;
  readonly user?: string;
  readonly file?: string;
  /** The command the source was opened for (its error hints fit it). */
  readonly command?: SourceCommand;
}

export abstract class SourceBase implements Source {
  abstract readonly kind: SourceKind;
  abstract readonly dialect: SourceDialect;
  abstract readonly capabilities: SourceCapabilities;
  abstract readonly integrity: IntegrityExpressions;
  protected abstract readonly introspector: SourceIntrospector;
  protected abstract readonly sampler: SourceSampler;
  protected abstract readonly accessReader: SourceAccessReader;
  abstract readonly writer: RowWriter;
  abstract readonly archive: ArchiveDialect;
  /** The dialect's session query (`src/sources/<dialect>/<dialect>-transport.ts`). */
  protected abstract readonly transportReader: (db: Kysely<any>) => Promise<SessionTransport>;

  readonly name: string;
  readonly db: Kysely<any>;
  readonly #location: SourceLocation;
  #closing: Promise<void> | undefined;

  constructor(name: string, db: Kysely<any>, location: SourceLocation) {
    this.name = name;
    this.db = db;
    this.#location = location;
  }

  /** Runs a trivial query so that connection errors surface when the source is opened. */
  async verify(): Promise<void> {
    await this.guard('connect', undefined, async () => {
      await this.verifyQuery().execute(this.db);
    });
  }

  /** The query `verify()` runs; a dialect overrides it when `select 1` proves too little. */
  protected verifyQuery(): RawBuilder<unknown> {
    return sql`select 1 as ok`;
  }

  /** Tables sorted by schema, then name, in code-point order (not the database's collation). */
  async introspect(options: IntrospectOptions = {}): Promise<readonly TableInfo[]> {
    const tables = await this.guard('list tables', undefined, () => this.introspector.introspect(options));
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return tables.sort((a, b) => cmp(a.schema, b.schema) || cmp(a.name, b.name));
  }

  estimateRows(table: TableRef): Promise<number> {
    return this.guard('estimate rows of', table, () => this.introspector.estimateRows(table));
  }

  async sample(table: TableInfo, options: SampleOptions): Promise<readonly SampleRow[]> {
    const limit = options.limit;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new SourceError('SOURCE_QUERY', this.name, `Source "${this.name}": cannot sample "${table.name}": limit must be a non-negative integer, got ${String(limit)}`, {
        hint: 'Set audit.sampleRows in steward.yml to a whole number such as 1000',
      });
    }
    const columns = options.columns ?? table.columns.map((c) => c.name);
    if (limit === 0 || columns.length === 0) return [];
    return this.guard('sample', table, () => this.sampler.sample(table, limit, columns));
  }

  readAccess(options: IntrospectOptions = {}): Promise<AccessSnapshot> {
    return this.guard('read the privileges of', undefined, () => this.accessReader.read(options));
  }

  abstract readOnlyQuery<R>(timeoutMs: number, build: (hint: RawSql) => RawSql): Promise<R[]>;

  readTransport(): Promise<SessionTransport> {
    return this.guard('read the connection encryption of', undefined, () => this.transportReader(this.db));
  }

  close(): Promise<void> {
    this.#closing ??= this.db.destroy().catch(() => undefined);
    return this.#closing;
  }

  protected errorContext(action: string, table?: TableRef): SourceErrorContext {
    const { target, user, file, command } = this.#location;
    return {
      source: this.name,
      kind: this.kind,
      action,
      ...(target !== undefined ? { target } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(file !== undefined ? { file } : {}),
      ...(command !== undefined ? { command } : {}),
      ...(table ? { table: { schema: table.schema, name: table.name } } : {}),
      // The columns and foreign keys Steward introspected are names it may show when a driver message names them.
      ...(table && 'columns' in table ? { names: [...(table as TableInfo).columns.map((c) => c.name), ...((table as TableInfo).foreignKeys ?? []).map((f) => f.name)] } : {}),
    };
  }

  protected async guard<T>(action: string, table: TableRef | undefined, fn: () => Promise<T>): Promise<T> {
    if (this.#closing) {
      throw new SourceError('SOURCE_QUERY', this.name, `Source "${this.name}": cannot ${action}: the source was closed`, {
        hint: 'Open the source again with openSource()',
      });
    }
    try {
      return await fn();
    } catch (e) {
      throw toSourceError(e, this.errorContext(action, table));
    }
  }
}

/** Where a server source points, for messages: the URL without its password, and the user. */
export function serverLocation(url: string): SourceLocation {
  try {
    const u = new URL(url);
    return { target: redactUrl(url), ...(u.username ? { user: decodeURIComponent(u.username) } : {}) };
  } catch {
    return { target: redactUrl(url) };
  }
}

/** Runs the source's check query; closes the pool and rethrows when it fails. */
export async function verified<S extends SourceBase>(source: S): Promise<S> {
  try {
    await source.verify();
  } catch (e) {
    await source.close();
    throw e;
  }
  return source;
}
