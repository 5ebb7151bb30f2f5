/**
 * `npm run bench -- integrity [--sizes 100000,1000000,10000000]`
 *
 * Integrity check of one Postgres table (email validity + duplicates, phone
 * validity, impossible birth dates, staleness), pushed down into SQL, as a ratio
 * to one plain `SELECT count(*)` of the same table in the same run (target ≤ 3×).
 * Each size runs in a fresh child process so peak RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { checkTable } from '../src/audit/integrity.js';
import type { InventoryItem } from '../src/audit/types.js';
import { openSource } from '../src/sources/index.js';
import { ensureBenchTable, schemaFor } from './pg-fixtures.js';
import { args, opt } from './args.js';

const URL_ = opt('url', process.env.STEWARD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const SIZES = opt('sizes', '100000,1000000,10000000').split(',').map(Number);

async function countMs(n: number): Promise<number> {
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  try {
    await c.query(`select count(*) from ${schemaFor(n)}.customers`);
    const t = performance.now();
    await c.query(`select count(*) from ${schemaFor(n)}.customers`);
    return performance.now() - t;
  } finally {
    await c.end();
  }
}

async function child(n: number): Promise<void> {
  const source = await openSource({ name: 'bench', kind: 'postgres', url: URL_ }, { readonly: true });
  const table = (await source.introspect({ schemas: [schemaFor(n)] })).find((t) => t.name === 'customers')!;
  const item = (column: string, category: string): InventoryItem => ({
    source: 'bench', schema: table.schema, table: 'customers', column, dataType: 'text', category, risk: 'medium', confidence: 1, rowEstimate: n,
    evidence: { signals: [], sampled: 0, matched: 0 }, examples: [], freeText: [], purpose: null,
  });
  const items = [item('email', 'contact.email'), item('phone', 'contact.phone'), item('date_of_birth', 'identity.date_of_birth')];
  const t = performance.now();
  const r = await checkTable(source, table, items, { required: ['customers.email'], staleAfter: 'P2Y', updatedColumns: { customers: 'created_at' }, references: {} }, new Date());
  const ms = performance.now() - t;
  await source.close();
  process.stdout.write(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, rows: r.rows, dup: r.columns[0]?.duplicateRows }) + '\n');
}

async function main(): Promise<void> {
  if (args[0] === '--child') return child(Number(args[1]));
  const rows: { n: number; ms: number; count: number; rss: number; dup: number }[] = [];
  for (const n of SIZES) {
    await ensureBenchTable(URL_, n);
    const count = await countMs(n);
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(n)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; maxRssMb: number; dup: number };
    rows.push({ n, ms: out.ms, count, rss: out.maxRssMb, dup: out.dup });
  }
  console.log('\nsteward integrity check of one Postgres table (all figures computed in SQL), one run, this machine');
  console.log('rows        check ms   count(*) ms  check/count  peak RSS MB');
  for (const r of rows) console.log(`${String(r.n).padEnd(11)} ${r.ms.toFixed(0).padStart(8)}   ${r.count.toFixed(0).padStart(10)}  ${(r.ms / r.count).toFixed(2).padStart(10)}  ${r.rss.toFixed(0).padStart(11)}`);
  console.log(`(target: check/count ≤ 3 at 10M rows; memory flat as rows grow)`);
}

await main();
