import { sql, type Kysely } from 'kysely';
import { columnList, firstRows, shuffledSample, SMALL_TABLE_FACTOR, tableId } from '../sampling.js';
import type { SourceSampler } from '../source-base.js';
import type { SampleRow, TableInfo } from '../types.js';
import type { PostgresIntrospector } from './postgres-introspector.js';

/**
 * SYSTEM picks whole pages, so rows of one page come together: read pages worth
 * this many times the rows asked for (and at least {@link MIN_SAMPLED_ROWS}), then
 * shuffle and cut, so the result spreads over many pages.
 */
const OVERSAMPLE = 4;
const MIN_SAMPLED_ROWS = 2000;

/**
 * Postgres sampling:
 * - tables and materialized views larger than {@link SMALL_TABLE_FACTOR}× the limit:
 *   `TABLESAMPLE SYSTEM (pct)` with pct sized from the estimate, so only about
 *   `OVERSAMPLE × limit` rows' worth of pages are read; topped up with a larger
 *   pct when it comes back short (stale statistics);
 * - small tables: `ORDER BY random() LIMIT n` (uniform; reads the whole small table);
 * - views and foreign tables: `LIMIT n` (no sampling method applies).
 */
export class PostgresSampler implements SourceSampler {
  readonly #db: Kysely<any>;
  readonly #introspector: PostgresIntrospector;

  constructor(db: Kysely<any>, introspector: PostgresIntrospector) {
    this.#db = db;
    this.#introspector = introspector;
  }

  async sample(table: TableInfo, limit: number, columns: readonly string[]): Promise<SampleRow[]> {
    const stats = await this.#introspector.stats(table);
    // Unknown relation: let the plain query raise the database's own "does not exist".
    if (!stats || stats.relkind === 'v' || stats.relkind === 'f' || stats.estimate < 0) {
      return firstRows(this.#db, table, columns, limit);
    }
    if (stats.estimate <= limit * SMALL_TABLE_FACTOR) {
      return shuffledSample(this.#db, table, columns, limit, 'random()');
    }
    let pct = Math.min(100, (Math.max(limit * OVERSAMPLE, MIN_SAMPLED_ROWS) / stats.estimate) * 100);
    let rows: SampleRow[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const r = await sql<SampleRow>`
        select * from (select ${columnList(columns)} from ${tableId(table)} tablesample system (${pct}::float4)) as steward_sample
        order by random() limit ${limit}`.execute(this.#db);
      rows = r.rows;
      if (rows.length >= limit || pct >= 100) break;
      pct = Math.min(100, pct * 4);
    }
    return rows;
  }
}
