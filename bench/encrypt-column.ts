/**
 * `npm run bench -- encrypt-column [--rows 1000000] [--batch 1000]`
 *
 * Online encryption of one text column of a Postgres table, in the same
 * key-ordered batches of one transaction each, three ways, each on a fresh copy
 * of the same table in the same run:
 *   floor    — the database's own lower bound: each batch rewrites its rows with `SET c = c`;
 *   grown    — the same, each value grown by the size a ciphertext adds (`SET c = c || repeat('x', 64)`):
 *              rows that grow cannot be updated in place, so this is the floor of any encryption
 *              that stores its output in the table;
 *   pgcrypto — the in-database alternative: `SET c = encode(pgp_sym_encrypt(c, key), 'base64')`;
 *   steward  — `steward encrypt` (migrateColumn): read, encrypt in Node, compare-and-set
 *              write, read back and decrypt to verify, checkpoint in the state store.
 * Targets: steward ≥ 0.5 × floor rows/s, faster than pgcrypto. Steward runs in a
 * child process so its peak RSS is its own. `--methods floor,steward` runs only those
 * (pgcrypto alone takes minutes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrateColumn } from '../src/crypto/column-migration.js';
import { createFieldEncryption } from '../src/crypto/field.js';
import { openKeyring } from '../src/crypto/keyring.js';
import { generateMasterKeyText, masterKeyFromEnv } from '../src/crypto/master-key.js';
import { openSource } from '../src/sources/index.js';
import { openStateStore } from '../src/state/index.js';
import { args, opt } from './args.js';

const URL_ = opt('url', process.env.STEWARD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const ROWS = Number(opt('rows', '1000000'));
const BATCH = Number(opt('batch', '1000'));
const SCHEMA = 'bench_encrypt';
const METHODS = new Set(opt('methods', 'floor,grown,pgcrypto,steward').split(','));

async function freshTable(c: pg.Client, name: string): Promise<void> {
  await c.query(`drop table if exists ${SCHEMA}.${name}`);
  await c.query(`create table ${SCHEMA}.${name} (id bigint primary key, email text, created_at timestamptz not null default now())`);
  await c.query(`insert into ${SCHEMA}.${name} (id, email) select i, 'customer.' || i || '@example.com' from generate_series(1, $1::bigint) i`, [ROWS]);
  await c.query(`vacuum analyze ${SCHEMA}.${name}`);
}

/** The same batches a migration makes: keys in order, one transaction per batch running `set`. */
async function batched(c: pg.Client, name: string, set: string, params: unknown[] = []): Promise<number> {
  let last = 0;
  const t = performance.now();
  for (;;) {
    const r = await c.query<{ lo: string; hi: string; n: string }>(
      `select min(id) as lo, max(id) as hi, count(*) as n from (select id from ${SCHEMA}.${name} where id > $1 order by id limit $2) b`,
      [last, BATCH],
    );
    const row = r.rows[0]!;
    if (Number(row.n) === 0) break;
    await c.query('begin');
    await c.query(`update ${SCHEMA}.${name} set email = ${set} where id between $1 and $2`, [row.lo, row.hi, ...params]);
    await c.query('commit');
    last = Number(row.hi);
  }
  return performance.now() - t;
}

/** `COPY … FROM STDIN` of one buffer on a pg client (the protocol pg-copy-streams speaks, without the dependency). */
function copyIn(c: pg.Client, text: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const q = {
      submit: (con: { query(t: string): void }) => con.query(text),
      handleCopyInResponse: (con: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }) => {
        con.sendCopyFromChunk(data);
        con.endCopyFrom();
      },
      handleCommandComplete: () => undefined,
      handleReadyForQuery: () => (q.failed ? reject(q.failed) : resolve()),
      handleError: (e: Error) => (q.failed = e),
      failed: null as Error | null,
    };
    (c as unknown as { query(q: unknown): void }).query(q);
  });
}

/**
 * The write shapes of an encryption batch, without Node's crypto: the same key-ordered
 * batches writing values of a ciphertext's size (`stw1:` + 90 characters) by compare-and-set,
 * one transaction each, three ways: Steward's `UPDATE … FROM unnest(…) RETURNING` the stored
 * values (the read-back); the same returning one count of rows whose stored value equals the
 * one sent (the per-row equality flag); and `COPY` into a temporary staging table, then
 * `UPDATE … FROM` it returning the count.
 */
async function writeShape(c: pg.Client, name: string, shape: 'returning' | 'flag' | 'copy'): Promise<number> {
  let last = 0;
  if (shape === 'copy') await c.query('create temporary table if not exists __steward_stage (k bigint, old text, val text) on commit delete rows');
  const t = performance.now();
  for (;;) {
    const r = await c.query<{ id: string; email: string }>(`select id, email from ${SCHEMA}.${name} where id > $1 and email not like 'stw1:%' order by id limit $2`, [last, BATCH]);
    if (r.rows.length === 0) break;
    const ids = r.rows.map((x) => x.id);
    const olds = r.rows.map((x) => x.email);
    const vals = r.rows.map((x) => `stw1:${x.id.padStart(90, 'x')}`);
    await c.query('begin');
    if (shape === 'returning') {
      const back = await c.query(`update ${SCHEMA}.${name} as t set email = v.val from unnest($1::text[], $2::text[], $3::text[]) as v(k, old, val) where t.id = v.k::bigint and t.email = v.old returning t.id, t.email as __value`, [ids, olds, vals]);
      if (back.rows.length !== ids.length) throw new Error('raced');
    } else if (shape === 'flag') {
      const back = await c.query<{ n: number }>(`with u as (update ${SCHEMA}.${name} as t set email = v.val from unnest($1::text[], $2::text[], $3::text[]) as v(k, old, val) where t.id = v.k::bigint and t.email = v.old returning t.email = v.val as ok) select count(*) filter (where ok)::int as n from u`, [ids, olds, vals]);
      if (back.rows[0]!.n !== ids.length) throw new Error('raced');
    } else {
      const esc = (x: string) => x.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
      await copyIn(c, 'copy __steward_stage (k, old, val) from stdin', Buffer.from(ids.map((id, i) => `${id}\t${esc(olds[i]!)}\t${esc(vals[i]!)}\n`).join('')));
      const back = await c.query<{ n: number }>(`with u as (update ${SCHEMA}.${name} as t set email = v.val from __steward_stage v where t.id = v.k and t.email = v.old returning t.email = v.val as ok) select count(*) filter (where ok)::int as n from u`);
      if (back.rows[0]!.n !== ids.length) throw new Error('raced');
    }
    await c.query('commit');
    last = Number(ids[ids.length - 1]);
  }
  return performance.now() - t;
}

async function child(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-bench-enc-'));
  const store = await openStateStore({ url: path.join(dir, 'state.db'), baseDir: dir });
  const fields = createFieldEncryption(await openKeyring({ store, master: await masterKeyFromEnv('K', { K: generateMasterKeyText() }) }));
  const source = await openSource({ name: 'bench', kind: 'postgres', url: URL_ });
  const t = performance.now();
  const r = await migrateColumn({ source, table: `${SCHEMA}.steward`, column: 'email', operation: 'encrypt', fields, store, actor: 'bench', batchSize: BATCH });
  const ms = performance.now() - t;
  await source.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ ms, changed: r.counts.changed, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

async function main(): Promise<void> {
  if (args[0] === '--child') return child();
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  await c.query(`create schema if not exists ${SCHEMA}`);
  await c.query('create extension if not exists pgcrypto');
  const out: { name: string; ms: number; rss?: number }[] = [];

  if (METHODS.has('floor')) {
    process.stderr.write(`floor: ${ROWS} rows…\n`);
    await freshTable(c, 'floor');
    out.push({ name: 'floor (SET c = c)', ms: await batched(c, 'floor', 'email') });
    await c.query(`drop table ${SCHEMA}.floor`);
  }

  // The same rewrite, with each value grown to a ciphertext's size: a grown row cannot be updated
  // in place (no HOT update), so this is the floor for any encryption that stores its output in the table.
  if (METHODS.has('grown')) {
    process.stderr.write('floor with grown values…\n');
    await freshTable(c, 'grown');
    out.push({ name: 'floor, values grown', ms: await batched(c, 'grown', `email || repeat('x', 64)`) });
    await c.query(`drop table ${SCHEMA}.grown`);
  }

  if (METHODS.has('pgcrypto')) {
    process.stderr.write('pgcrypto…\n');
    await freshTable(c, 'pgcrypto');
    out.push({ name: "pgcrypto pgp_sym_encrypt", ms: await batched(c, 'pgcrypto', `encode(pgp_sym_encrypt(email, $3), 'base64')`, ['bench-passphrase']) });
    await c.query(`drop table ${SCHEMA}.pgcrypto`);
  }

  for (const shape of ['returning', 'flag', 'copy'] as const) {
    if (!METHODS.has(`write-${shape}`)) continue;
    process.stderr.write(`write shape ${shape}…\n`);
    await freshTable(c, `w_${shape}`);
    out.push({ name: `write: ${shape === 'returning' ? 'unnest RETURNING' : shape === 'flag' ? 'unnest, equality count' : 'COPY to staging'}`, ms: await writeShape(c, `w_${shape}`, shape) });
    await c.query(`drop table ${SCHEMA}.w_${shape}`);
  }

  if (METHODS.has('steward')) {
    process.stderr.write('steward…\n');
    await freshTable(c, 'steward');
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...process.argv.slice(2)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(r.stderr);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; changed: number; maxRssMb: number };
    if (s.changed !== ROWS) throw new Error(`steward encrypted ${s.changed} of ${ROWS} rows`);
    out.push({ name: 'steward encrypt', ms: s.ms, rss: s.maxRssMb });
    await c.query(`drop table ${SCHEMA}.steward`);
  }
  await c.end();

  const of = (prefix: string) => out.find((o) => o.name.startsWith(prefix))?.ms ?? NaN;
  const floor = of('floor (');
  const pgc = of('pgcrypto');
  const grown = of('floor,');
  console.log(`\nonline encryption of one column, ${ROWS.toLocaleString('en')} Postgres rows, batches of ${BATCH}, one run, this machine`);
  console.log('method                      seconds    rows/s   vs floor   vs grown   vs pgcrypto   peak RSS MB');
  for (const o of out) {
    const rate = ROWS / (o.ms / 1000);
    console.log(`${o.name.padEnd(26)} ${(o.ms / 1000).toFixed(1).padStart(8)} ${Math.round(rate).toString().padStart(9)} ${(floor / o.ms).toFixed(2).padStart(10)} ${(grown / o.ms).toFixed(2).padStart(10)} ${(pgc / o.ms).toFixed(2).padStart(13)}   ${o.rss ? o.rss.toFixed(0).padStart(11) : ''}`);
  }
  console.log('(targets: steward ≥ 0.50 of the floor, and faster than pgcrypto, i.e. vs pgcrypto > 1)');
}

await main();
