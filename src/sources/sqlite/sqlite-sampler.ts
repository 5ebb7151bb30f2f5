import { sql, type Kysely } from 'kysely';
import { firstRows, rangeProbeSample, shuffledSample, SMALL_TABLE_FACTOR } from '../sampling.js';
import type { SourceSampler } from '../source-base.js';
import type { SampleRow, TableInfo } from '../types.js';
import type { SqliteIntrospector } from './sqlite-introspector.js';

/**
 * SQLite sampling:
 * - views: `LIMIT n`;
 * - tables up to {@link SMALL_TABLE_FACTOR}× the limit: `ORDER BY random() LIMIT n`;
 * - larger rowid tables: range probes on the rowid (each a b-tree seek);
 * - larger WITHOUT ROWID tables whose primary key starts with an integer column:
 *   range probes on that column;
 * - other large tables (virtual tables, WITHOUT ROWID with a text key): `LIMIT n`,
 *   the first rows in key order. A known limitation: bounded and cheap, not random.
 */
export class SqliteSampler implements SourceSampler {
  readonly #db: Kysely<any>;
  readonly #introspector: SqliteIntrospector;

  constructor(db: Kysely<any>, introspector: SqliteIntrospector) {
    this.#db = db;
    this.#introspector = introspector;
  }

  async sample(table: TableInfo, limit: number, columns: readonly string[]): Promise<SampleRow[]> {
    const shape = await this.#introspector.shape(table);
    if (!shape || shape.type === 'view') return firstRows(this.#db, table, columns, limit);
    const estimate = await this.#introspector.estimateRows(table);
    if (estimate >= 0 && estimate <= limit * SMALL_TABLE_FACTOR) {
      return shuffledSample(this.#db, table, columns, limit, 'random()');
    }
    if (shape.rowid) {
      const rowid = sql.id(shape.rowid);
      return rangeProbeSample(this.#db, table, columns, limit, { probe: rowid, keys: [rowid] });
    }
    const first = table.primaryKey[0];
    if (shape.type === 'table' && first !== undefined && table.columns.find((c) => c.name === first)?.typeClass === 'integer') {
      return rangeProbeSample(this.#db, table, columns, limit, {
        probe: sql.id(first),
        keys: table.primaryKey.map((k) => sql.id(k)),
      });
    }
    return firstRows(this.#db, table, columns, limit);
  }
}
