/**
 * `npm run bench -- integrity [--sizes 100000,1000000,10000000]`
 *
 * Integrity check of one Postgres table (email validity + duplicates, phone
 * validity, impossible birth dates, a required column, staleness), pushed down
 * into SQL, as a ratio to one plain `SELECT count(*)` of the same table in the same
 * run (target ≤ 3×). Two tables of the same rows: `customers` (no unique index on
 * email: duplicates are counted) and `customers_uq` (a unique index on lower(email):
 * the duplicate count is skipped). Each check runs in a fresh child process so peak
 * RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { checkTable } from '../src/audit/integrity.js';
import type { InventoryItem } from '../src/audit/types.js';
import { openSource } from '../src/sources/index.js';
import { ensureBenchTable, ensureUniqueEmailTable, schemaFor } from './pg-fixtures.js';
import { args, opt } from './args.js';

const URL_ = opt('url', process.env.STEWARD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const SIZES = opt('sizes', '100000,1000000,10000000').split(',').map(Number);
const TABLES = ['customers', 'customers_uq'] as const;

async function countMs(n: number, table: string): Promise<number> {
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  try {
    await c.query(`select count(*) from ${schemaFor(n)}.${table}`);
    const t = performance.now();
    await c.query(`select count(*) from ${schemaFor(n)}.${table}`);
    return performance.now() - t;
  } finally {
    await c.end();
  }
}

async function child(n: number, name: string): Promise<void> {
  const source = await openSource({ name: 'bench', kind: 'postgres', url: URL_ }, { readonly: true });
  const table = (await source.introspect({ schemas: [schemaFor(n)] })).find((t) => t.name === name)!;
  const item = (column: string, category: string): InventoryItem => ({
    source: 'bench', schema: table.schema, table: name, column, dataType: 'text', category, risk: 'medium', confidence: 1, rowEstimate: n,
    evidence: { signals: [], sampled: 0, matched: 0 }, examples: [], freeText: [], purpose: null,
  });
  const items = [item('email', 'contact.email'), item('phone', 'contact.phone'), item('date_of_birth', 'identity.date_of_birth')];
  const t = performance.now();
  const r = await checkTable(source, table, items, { required: [`${name}.email`], staleAfter: 'P2Y', updatedColumns: { [name]: 'created_at' }, references: {} }, new Date());
  const ms = performance.now() - t;
  await source.close();
  const email = r.columns[0];
  process.stdout.write(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, rows: r.rows, dup: email?.duplicateRows, skipped: email?.uniqueIndex === true }) + '\n');
}

async function main(): Promise<void> {
  if (args[0] === '--child') return child(Number(args[1]), args[2]!);
  const rows: { n: number; table: string; ms: number; count: number; rss: number; dup: number; skipped: boolean }[] = [];
  for (const n of SIZES) {
    await ensureBenchTable(URL_, n);
    await ensureUniqueEmailTable(URL_, n);
    for (const table of TABLES) {
      const count = await countMs(n, table);
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(n), table], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; maxRssMb: number; dup: number; skipped: boolean };
      rows.push({ n, table, ms: out.ms, count, rss: out.maxRssMb, dup: out.dup, skipped: out.skipped });
    }
  }
  console.log('\nsteward integrity check of one Postgres table (all figures computed in SQL), one run, this machine');
  console.log('rows        table          duplicates        check ms   count(*) ms  check/count  peak RSS MB');
  for (const r of rows) {
    const dup = r.skipped ? 'unique index' : `counted (${r.dup})`;
    console.log(`${String(r.n).padEnd(11)} ${r.table.padEnd(14)} ${dup.padEnd(16)} ${r.ms.toFixed(0).padStart(9)}   ${r.count.toFixed(0).padStart(10)}  ${(r.ms / r.count).toFixed(2).padStart(10)}  ${r.rss.toFixed(0).padStart(11)}`);
  }
  console.log(`(target: check/count ≤ 3 at 10M rows; memory flat as rows grow)`);
}

await main();
