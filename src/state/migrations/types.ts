import type { Kysely } from 'kysely';

export type StateDialect = 'sqlite' | 'postgres';

export interface MigrationContext {
  /** Branch on this only where the two databases cannot share one statement (booleans, json). */
  readonly dialect: StateDialect;
}

/**
 * One step of the state store's schema. Names sort in the order they run
 * (`0001_…`, `0002_…`); a released migration is never edited, only followed.
 * `db` is already bound to the store's schema (PostgreSQL) — use unqualified names.
 */
export interface StateMigration {
  up(db: Kysely<any>, ctx: MigrationContext): Promise<void>;
}
