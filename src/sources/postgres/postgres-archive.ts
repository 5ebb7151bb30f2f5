/**
 * Archive reads and writes on Postgres. node-pg turns timestamps into JS Dates
 * (milliseconds; microseconds lost; `timestamp`/`date` shifted into the process's
 * time zone), intervals into objects and `int8` into text: every type class it may
 * round is read as text, which the server parses back as the column's type (its
 * parameters are untyped). Arrays are written as arrays.
 */
import { sql } from 'kysely';
import type { ArchiveDialect } from '../types.js';

/** Type classes node-pg returns exactly; every other column is read as text. */
const NATIVE = new Set(['text', 'integer', 'decimal', 'boolean', 'binary', 'uuid']);

export const POSTGRES_ARCHIVE = Object.freeze<ArchiveDialect>({
  exactRead: (column, info) => (NATIVE.has(info.typeClass ?? 'other') ? column : sql`${column}::text`),
  params: { boolean: 'boolean', bigint: 'text', instant: 'date', array: 'array' },
  restoresIntoSchema: true,
});
