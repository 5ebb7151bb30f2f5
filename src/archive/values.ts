/**
 * Between a source database and an archive set: how to read rows so that what is
 * archived is exact ({@link selectForArchive}), and how archived values are
 * written back through the source's driver ({@link toDriverValue}). What differs
 * between databases is the source's {@link ArchiveDialect}
 * (`src/sources/<dialect>/<dialect>-archive.ts`).
 */
import { sql, type AliasedRawBuilder } from 'kysely';
import type { ArchiveDialect } from '../sources/types.js';
import { decodeValue, type ArchiveColumn, type EncodedValue } from './codec.js';

/** Anything with an archive dialect: a `Source`. */
export interface HasArchiveDialect {
  readonly archive: ArchiveDialect;
}

/**
 * Select expressions for archiving `columns` from `source`, each aliased to its
 * column name: `db.selectFrom(t).select(selectForArchive(source, columns))`.
 */
export function selectForArchive(source: HasArchiveDialect, columns: readonly ArchiveColumn[]): AliasedRawBuilder<unknown, string>[] {
  return columns.map((c) => source.archive.exactRead(sql.id(c.name), c).as(c.name));
}

/**
 * An archived (encoded) value as `source`'s driver takes it in an INSERT: bytes as
 * Buffers, JSON values as JSON text, dates and wall-clock times as their text; big
 * integers, booleans, instants and arrays as the dialect's `params` say.
 */
export function toDriverValue(v: EncodedValue, source: HasArchiveDialect): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  const params = source.archive.params;
  if (typeof v === 'boolean') return params.boolean === 'integer' ? (v ? 1 : 0) : v;
  const tag = Object.keys(v)[0];
  const inner = (v as Record<string, unknown>)[tag!];
  switch (tag) {
    case '$n':
      return params.bigint === 'bigint' ? BigInt(inner as string) : inner;
    case '$ts':
      return params.instant === 'iso-text' ? inner : decodeValue(v);
    case '$a':
      return params.array === 'array' ? decodeValue(v) : JSON.stringify(inner);
    case '$j':
      return JSON.stringify(inner);
    default:
      return decodeValue(v); // $b → Buffer, $f → number, $date/$local → text
  }
}
