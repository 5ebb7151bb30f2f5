/**
 * Which real database servers this test run can use.
 *
 * Locally, a missing PostgreSQL or MariaDB server means its suites are skipped
 * (PostgreSQL dialect coverage then runs on embedded PGlite) and the run says so.
 * In CI (`CI=true`) a missing server is a failure: global-setup throws.
 */
import net from 'node:net';

export const PG_URL = process.env.STEWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.STEWARD_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

function portOpen(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface ServerAvailability {
  readonly postgres: boolean;
  readonly mysql: boolean;
}

export async function probeServers(): Promise<ServerAvailability> {
  const pg = new URL(PG_URL);
  const my = new URL(MYSQL_URL);
  const [postgres, mysql] = await Promise.all([
    portOpen(pg.hostname, Number(pg.port || 5432)),
    portOpen(my.hostname, Number(my.port || 3306)),
  ]);
  return { postgres, mysql };
}

/** What global-setup found; import from test files (workers), not from global-setup. */
export { inject } from 'vitest';
