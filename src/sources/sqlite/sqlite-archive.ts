/**
 * Archive reads and writes on SQLite. better-sqlite3 returns integers beyond 2^53
 * as imprecise numbers: those are read as text, and INTEGER affinity turns the
 * text back into an integer on write. Booleans go back as 1/0, big integers as
 * BigInt, instants as ISO text, arrays as JSON text.
 */
import { sql } from 'kysely';
import type { ArchiveDialect } from '../types.js';

const SAFE = sql.raw('9007199254740991');

export const SQLITE_ARCHIVE = Object.freeze<ArchiveDialect>({
  exactRead: (column, info) =>
    info.typeClass === 'integer' ? sql`case when typeof(${column}) = 'integer' and (${column} > ${SAFE} or ${column} < -${SAFE}) then cast(${column} as text) else ${column} end` : column,
  params: { boolean: 'integer', bigint: 'bigint', instant: 'iso-text', array: 'json-text' },
  restoresIntoSchema: false,
});
