import type { TestProject } from 'vitest/node';
import { MYSQL_URL, PG_URL, probeServers, type ServerAvailability } from './helpers/servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    servers: ServerAvailability;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const { postgres, mysql } = await probeServers();
  project.provide('servers', { postgres, mysql });
  const where = (u: string) => new URL(u).host;
  const missing = [!postgres && `PostgreSQL (${where(PG_URL)})`, !mysql && `MariaDB/MySQL (${where(MYSQL_URL)})`].filter(Boolean);
  if (missing.length === 0) return;
  if (process.env.CI) {
    throw new Error(
      `CI=true but ${missing.join(' and ')} did not answer: server suites cannot be skipped in CI. Start the server(s) (see .ci/run).`,
    );
  }
  const lines = [
    '',
    `  SKIPPED SERVER SUITES: ${missing.join(', ')} not reachable.`,
    !postgres ? '  PostgreSQL dialect coverage runs on embedded PGlite instead.' : '',
    !mysql ? '  MariaDB/MySQL integration suites are skipped.' : '',
    '  Set STEWARD_TEST_PG_URL / STEWARD_TEST_MYSQL_URL to use other servers.',
    '',
  ].filter(Boolean);
  console.warn(lines.join('\n'));
}
