import { sql, type Kysely } from 'kysely';
import { firstRows, rangeProbeSample, shuffledSample, SMALL_TABLE_FACTOR } from '../sampling.js';
import type { SourceSampler } from '../source-base.js';
import type { SampleRow, TableInfo } from '../types.js';
import type { MysqlIntrospector } from './mysql-introspector.js';

/**
 * MySQL/MariaDB sampling (no TABLESAMPLE):
 * - views: `LIMIT n`;
 * - tables up to {@link SMALL_TABLE_FACTOR}× the limit: `ORDER BY RAND() LIMIT n`;
 * - larger tables whose primary key starts with an integer column: range probes on
 *   that column (InnoDB clusters rows by primary key, so each probe is one seek);
 * - larger tables with another key or none: `LIMIT n`, the first rows in storage
 *   order. This is a known limitation: the sample is bounded and cheap but not random.
 */
export class MysqlSampler implements SourceSampler {
  readonly #db: Kysely<any>;
  readonly #introspector: MysqlIntrospector;

  constructor(db: Kysely<any>, introspector: MysqlIntrospector) {
    this.#db = db;
    this.#introspector = introspector;
  }

  async sample(table: TableInfo, limit: number, columns: readonly string[]): Promise<SampleRow[]> {
    if (table.kind === 'view') return firstRows(this.#db, table, columns, limit);
    const estimate = await this.#introspector.estimateRows(table);
    if (estimate >= 0 && estimate <= limit * SMALL_TABLE_FACTOR) {
      return shuffledSample(this.#db, table, columns, limit, 'rand()');
    }
    const first = table.primaryKey[0];
    const firstIsInteger = first !== undefined && table.columns.find((c) => c.name === first)?.typeClass === 'integer';
    if (firstIsInteger) {
      return rangeProbeSample(this.#db, table, columns, limit, {
        probe: sql.id(first),
        keys: table.primaryKey.map((k) => sql.id(k)),
      });
    }
    return firstRows(this.#db, table, columns, limit);
  }
}
