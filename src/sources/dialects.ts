/**
 * The dialects by kind: `dialectOf(source.kind)` where only the kind is at hand
 * (a config entry, a stored job), `source.dialect` where a source is open. No
 * driver loads here: each dialect file is plain data and pure functions.
 */
import { MYSQL_DIALECT } from './mysql/mysql-dialect.js';
import { POSTGRES_DIALECT } from './postgres/postgres-dialect.js';
import { SQLITE_DIALECT } from './sqlite/sqlite-dialect.js';
import { InternalError } from '../errors.js';
import type { SourceKind } from './kinds.js';
import type { SourceDialect } from './types.js';

const DIALECTS: Readonly<Record<SourceKind, SourceDialect>> = Object.freeze({ postgres: POSTGRES_DIALECT, mysql: MYSQL_DIALECT, sqlite: SQLITE_DIALECT });

/** Every dialect, in `SOURCE_KINDS` order. */
export const SOURCE_DIALECTS: readonly SourceDialect[] = Object.freeze([POSTGRES_DIALECT, MYSQL_DIALECT, SQLITE_DIALECT]);

/** The dialect of `kind`. */
export function dialectOf(kind: SourceKind): SourceDialect {
  const d = DIALECTS[kind];
  if (!d) throw new InternalError(`unknown source kind "${String(kind)}"`);
  return d;
}
