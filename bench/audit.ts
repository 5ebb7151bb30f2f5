/**
 * `npm run bench -- audit [--sizes 100000,1000000,10000000] [--url postgres://…]`
 *
 * Audit time of one Postgres table at 100k, 1M and 10M rows. Sampling keeps the
 * cost nearly flat as the table grows; the floor printed beside it is one
 * `SELECT count(*)` of the same table (what a naive full-scan audit would at
 * least cost). Each size runs in a fresh child process so peak RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runAudit } from '../src/audit/run-audit.js';
import { loadConfigText } from '../src/config/index.js';
import { openSource } from '../src/sources/index.js';

const URL_ = opt('url', process.env.STEWARD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const SIZES = opt('sizes', '100000,1000000,10000000').split(',').map(Number);

import { ensureBenchTable, schemaFor } from './pg-fixtures.js';
import { args, opt } from './args.js';

async function countFloor(n: number): Promise<number> {
  const client = new pg.Client({ connectionString: URL_ });
  await client.connect();
  try {
    const t = performance.now();
    await client.query(`select count(*) from ${schemaFor(n)}.customers`);
    return performance.now() - t;
  } finally {
    await client.end();
  }
}

async function child(n: number): Promise<void> {
  const { config, patterns } = loadConfigText(
    `sources:\n  - name: bench\n    kind: postgres\n    url: ${URL_}\n    owner: bench\n    schemas: [${schemaFor(n)}]\n    purposes:\n      - name: all\n        categories: ["*"]\n`,
    { file: 'bench.yml', cwd: process.cwd(), env: {} },
  );
  const rssBefore = process.memoryUsage().rss;
  const t = performance.now();
  const report = await runAudit({ config, patterns, openSource: (c) => openSource(c, { readonly: true }) });
  const ms = performance.now() - t;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    JSON.stringify({ n, ms, maxRssMb, rssBeforeMb: rssBefore / 1048576, personal: report.summary.personalColumns, categories: (report.sources[0]?.inventory ?? []).map((i) => `${i.column}:${i.category}`) }) + '\n',
  );
}

async function main(): Promise<void> {
  if (args[0] === '--child') return child(Number(args[1]));
  const rows: { n: number; ms: number; maxRssMb: number; countMs: number; columns: string[] }[] = [];
  for (const n of SIZES) {
    await ensureBenchTable(URL_, n);
    await countFloor(n); // warm the cache the same way for both
    const countMs = await countFloor(n);
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(n)], {
      encoding: 'utf8',
      env: process.env,
    });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; maxRssMb: number; categories: string[] };
    rows.push({ n, ms: out.ms, maxRssMb: out.maxRssMb, countMs, columns: out.categories });
  }
  console.log('\nsteward audit of one Postgres table (sampling 1000 rows), one run, this machine');
  console.log('rows        audit ms   count(*) ms  audit/count  peak RSS MB');
  for (const r of rows) {
    console.log(
      `${String(r.n).padEnd(11)} ${r.ms.toFixed(0).padStart(8)}   ${r.countMs.toFixed(0).padStart(10)}  ${(r.ms / r.countMs).toFixed(2).padStart(10)}  ${r.maxRssMb.toFixed(0).padStart(11)}`,
    );
  }
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  console.log(`\ngrowth ${first.n}→${last.n} rows: audit time ×${(last.ms / first.ms).toFixed(2)}, peak RSS ×${(last.maxRssMb / first.maxRssMb).toFixed(2)} (target: 10M-row audit < 3000 ms)`);
  console.log(`classified: ${last.columns.join(', ')}`);
}

await main();
