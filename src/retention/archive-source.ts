/**
 * Between a source database and an archive set: how to read rows so that what is
 * archived is exact ({@link selectForArchive}), and how archived values are
 * written back through each driver ({@link toDriverValue}).
 *
 * Drivers round some types on read: node-pg turns timestamps into JS Dates
 * (milliseconds; microseconds lost; `timestamp`/`date` shifted into the process's
 * time zone) and intervals into objects; better-sqlite3 returns integers beyond
 * 2^53 as imprecise numbers. Reading those columns as text avoids both, and every
 * driver writes the text back exactly (Postgres parameters are untyped, so the
 * server parses the text as the column's type; SQLite's INTEGER affinity turns an
 * integer text back into an integer). MySQL needs nothing: Steward opens it with
 * `dateStrings` and `supportBigNumbers`.
 */
import { sql, type AliasedRawBuilder } from 'kysely';
import type { SourceKind } from '../sources/types.js';
import { decodeValue, type ArchiveColumn, type EncodedValue } from './archive-codec.js';

/** Postgres type classes read as they are; every other column is read as text. */
const PG_NATIVE = new Set(['text', 'integer', 'decimal', 'boolean', 'binary', 'uuid']);
const SAFE = '9007199254740991';

/**
 * Select expressions for archiving `columns` from a `kind` source, each aliased to
 * its column name: `db.selectFrom(t).select(selectForArchive(source.kind, columns))`.
 */
export function selectForArchive(kind: SourceKind, columns: readonly ArchiveColumn[]): AliasedRawBuilder<unknown, string>[] {
  return columns.map((c) => {
    const ref = sql.id(c.name);
    if (kind === 'postgres' && !PG_NATIVE.has(c.typeClass ?? 'other')) return sql<unknown>`${ref}::text`.as(c.name);
    if (kind === 'sqlite' && c.typeClass === 'integer') {
      return sql<unknown>`case when typeof(${ref}) = 'integer' and (${ref} > ${sql.raw(SAFE)} or ${ref} < -${sql.raw(SAFE)}) then cast(${ref} as text) else ${ref} end`.as(c.name);
    }
    return sql<unknown>`${ref}`.as(c.name);
  });
}

/**
 * An archived (encoded) value as the `kind` driver takes it in an INSERT: bytes as
 * Buffers, bigints as text (SQLite: bigint), JSON values as JSON text, arrays as
 * arrays for Postgres and JSON text elsewhere, booleans as 1/0 for SQLite, instants
 * as Dates (SQLite: ISO text), dates and wall-clock times as their text.
 */
export function toDriverValue(v: EncodedValue, kind: SourceKind): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return kind === 'sqlite' ? (v ? 1 : 0) : v;
  const tag = Object.keys(v)[0];
  const inner = (v as Record<string, unknown>)[tag!];
  switch (tag) {
    case '$n':
      return kind === 'sqlite' ? BigInt(inner as string) : inner;
    case '$ts':
      return kind === 'sqlite' ? inner : decodeValue(v);
    case '$a':
      return kind === 'postgres' ? decodeValue(v) : JSON.stringify(inner);
    case '$j':
      return JSON.stringify(inner);
    default:
      return decodeValue(v); // $b → Buffer, $f → number, $date/$local → text
  }
}
