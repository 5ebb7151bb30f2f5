/**
 * `npm run bench -- retention [--rows 3000000] [--batch 5000]`
 *
 * Deleting the expired 30% of a Postgres table, two ways, each on a fresh copy
 * in the same run, each while a second process streams single-row reads and
 * updates against the table and records their latency:
 *   single DELETE — `DELETE … WHERE last_seen <= cutoff`, one statement;
 *   steward       — `steward retention apply` (applyPolicy): batches in block order (Postgres 14+) then key order,
 *                   rows locked and re-checked, checkpoints and certificate.
 * Reports throughput (steward as a ratio to the single DELETE; target ≥ 0.5)
 * and the p99 latency of the concurrent stream: idle, during the single DELETE,
 * during Steward (target: Steward's p99 within 2× of idle).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { applyPolicy } from '../src/retention/apply.js';
import { openSource } from '../src/sources/index.js';
import { openStateStore } from '../src/state/index.js';
import { args, opt } from './args.js';

const URL_ = opt('url', process.env.STEWARD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const ROWS = Number(opt('rows', '3000000'));
const BATCH = Number(opt('batch', '5000')); // steward.yml's default
const SCHEMA = 'bench_retention';

async function freshTable(c: pg.Client, name: string): Promise<void> {
  await c.query(`drop table if exists ${SCHEMA}.${name}`);
  await c.query(`create table ${SCHEMA}.${name} (id bigint primary key, email text not null, last_seen date not null)`);
  // Ids ≡ 0, 3, 7 (mod 10) were last seen in 2020: the expired 30%.
  await c.query(
    `insert into ${SCHEMA}.${name} select i, 'user' || i || '@example.com', case when i % 10 in (0, 3, 7) then date '2020-06-01' else date '2026-06-01' end from generate_series(1, $1::bigint) i`,
    [ROWS],
  );
  await c.query(`vacuum analyze ${SCHEMA}.${name}`);
}

/** Child mode: single-row reads and updates on random rows until stdin closes; prints latencies (ms). */
async function load(table: string): Promise<void> {
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  const lat: number[] = [];
  const at: number[] = []; // when each operation started (epoch ms), to keep only those during the work
  let stop = false;
  process.stdin.on('end', () => (stop = true));
  process.stdin.resume();
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  while (!stop) {
    const id = 1 + Math.floor(rand() * ROWS);
    const t = performance.now();
    if (rand() < 0.5) await c.query(`select email from ${SCHEMA}.${table} where id = $1`, [id]);
    else await c.query(`update ${SCHEMA}.${table} set email = email where id = $1`, [id]);
    lat.push(performance.now() - t);
    at.push(performance.timeOrigin + t);
    if (lat.length % 100 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await c.end();
  process.stdout.write(JSON.stringify({ lat, at }) + '\n');
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? NaN;
}

/** Runs `work` while a load child hammers `table`; returns work time and the load's latencies. */
async function underLoad(table: string, work: () => Promise<void>): Promise<{ ms: number; lat: number[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--load', table, ...process.argv.slice(2)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b) => (out += String(b)));
  await new Promise((r) => setTimeout(r, 1500)); // let it connect and warm up
  const t = performance.now();
  await work();
  const ms = performance.now() - t;
  child.stdin.end();
  await new Promise((r) => child.on('exit', r));
  // Only the operations that started while the work ran: the warm-up would dilute its effect.
  const from = performance.timeOrigin + t;
  const to = from + ms;
  const { lat, at } = JSON.parse(out.trim().split('\n').pop() ?? '{"lat":[],"at":[]}') as { lat: number[]; at: number[] };
  return { ms, lat: lat.filter((_, i) => at[i]! >= from && at[i]! <= to) };
}

async function main(): Promise<void> {
  if (args[0] === '--load') return load(args[1]!);
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  await c.query(`create schema if not exists ${SCHEMA}`);
  const expired = Math.floor(ROWS / 10) * 3 + (ROWS % 10 >= 3 ? 1 : 0) + (ROWS % 10 >= 7 ? 1 : 0);

  process.stderr.write(`table of ${ROWS} rows…\n`);
  await freshTable(c, 'single');
  const idle = await underLoad('single', () => new Promise((r) => setTimeout(r, 5000)));
  process.stderr.write('single DELETE…\n');
  const single = await underLoad('single', async () => {
    await c.query(`delete from ${SCHEMA}.single where last_seen <= date '2024-11-27'`);
  });
  await c.query(`drop table ${SCHEMA}.single`);

  process.stderr.write('steward…\n');
  await freshTable(c, 'steward');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-bench-ret-'));
  const store = await openStateStore({ url: path.join(dir, 'state.db'), baseDir: dir });
  const source = await openSource({ name: 'bench', kind: 'postgres', url: URL_ });
  let rows = 0;
  const steward = await underLoad('steward', async () => {
    const cert = await applyPolicy({
      source,
      store,
      policy: { name: 'expired', source: 'bench', table: `${SCHEMA}.steward`, from: 'last_seen', period: '2y', method: 'erase', legalBasis: 'bench', cascade: [] },
      index: 0,
      actor: 'bench',
      batchSize: BATCH,
    });
    rows = cert.rows;
  });
  await source.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  await c.query(`drop table ${SCHEMA}.steward`);
  await c.end();
  if (rows !== expired) throw new Error(`steward deleted ${rows} rows, expected ${expired}`);

  const rate = (ms: number) => Math.round(expired / (ms / 1000));
  console.log(`\ndeleting the expired 30% (${expired.toLocaleString('en')} of ${ROWS.toLocaleString('en')} Postgres rows), batches of ${BATCH}, one run, this machine`);
  console.log('method            seconds    rows/s   vs DELETE   concurrent ops   p99 ms   p99 vs idle');
  console.log(`idle                  —          —          —   ${String(idle.lat.length).padStart(14)} ${p99(idle.lat).toFixed(2).padStart(8)}          1.00`);
  console.log(`single DELETE   ${(single.ms / 1000).toFixed(1).padStart(8)} ${String(rate(single.ms)).padStart(9)}       1.00   ${String(single.lat.length).padStart(14)} ${p99(single.lat).toFixed(2).padStart(8)} ${(p99(single.lat) / p99(idle.lat)).toFixed(2).padStart(13)}`);
  console.log(`steward         ${(steward.ms / 1000).toFixed(1).padStart(8)} ${String(rate(steward.ms)).padStart(9)} ${(single.ms / steward.ms).toFixed(2).padStart(10)}   ${String(steward.lat.length).padStart(14)} ${p99(steward.lat).toFixed(2).padStart(8)} ${(p99(steward.lat) / p99(idle.lat)).toFixed(2).padStart(13)}`);
  console.log('(targets: steward ≥ 0.50 of the single DELETE\'s rows/s; steward\'s p99 ≤ 2× idle)');
  const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]?.toFixed(2);
  for (const [name, l] of [['idle', idle.lat], ['single', single.lat], ['steward', steward.lat]] as const) console.log(`${name.padEnd(8)} p50 ${pct(l, 0.5)}  p90 ${pct(l, 0.9)}  p99 ${pct(l, 0.99)}  p99.9 ${pct(l, 0.999)}  max ${pct(l, 1)} ms`);
}

await main();
