/**
 * Test-only: makes an embedded PGlite database look like pg's `Pool` (the subset
 * Kysely's PostgresDialect uses), so the Postgres source runs without a server.
 *
 * PGlite is one session: `connect()` hands out one client at a time and queues the
 * rest, so a transaction on one "connection" never interleaves with another's queries.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPoolLike } from '../../src/sources/index.js';

type Command = 'UPDATE' | 'DELETE' | 'INSERT' | 'SELECT' | 'MERGE' | 'COMMIT' | 'ROLLBACK';

function commandOf(text: string): Command {
  const word = /^\s*(?:with\b[\s\S]*?\)\s*)?([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? 'SELECT';
  return (['UPDATE', 'DELETE', 'INSERT', 'MERGE', 'COMMIT', 'ROLLBACK'].includes(word) ? word : 'SELECT') as Command;
}

export interface PglitePoolOptions {
  /** Close the PGlite instance when the pool ends (default true). */
  readonly closeOnEnd?: boolean;
}

export function pglitePool(pg: PGlite, options: PglitePoolOptions = {}): PostgresPoolLike {
  let tail: Promise<void> = Promise.resolve();
  let ended = false;
  return {
    async connect() {
      if (ended) throw new Error('pglite pool has ended');
      let release!: () => void;
      const turn = new Promise<void>((resolve) => (release = resolve));
      const previous = tail;
      tail = previous.then(() => turn);
      await previous;
      let released = false;
      return {
        async query(text: unknown, parameters?: ReadonlyArray<unknown>) {
          if (typeof text !== 'string') throw new Error('pglite pool: cursors are not supported');
          const r = await pg.query<Record<string, unknown>>(text, parameters ? [...parameters] : []);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length, command: commandOf(text) };
        },
        release() {
          if (released) return;
          released = true;
          release();
        },
      } as never;
    },
    async end() {
      if (ended) return;
      ended = true;
      await tail;
      if (options.closeOnEnd ?? true) await pg.close();
    },
  };
}
