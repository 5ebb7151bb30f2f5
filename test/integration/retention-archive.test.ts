/**
 * Retention archive sets on every database: rows of many types archived in
 * several chunks the way the retention engine does it (read in key order, write
 * a chunk, delete those rows), verified with and without the private key, and
 * restored into a fresh table with the same schema and into the original table;
 * the whole tables compared by checksum (through the driver, and inside the
 * database where it can checksum rows itself). A re-run restore inserts nothing;
 * a tampered chunk is refused before any of its rows is inserted.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateRecipient } from '../../src/archive/keys.js';
import { ArchiveError } from '../../src/errors.js';
import type { Source, TableInfo } from '../../src/sources/types.js';
import { chunkFileName, encodeRow } from '../../src/archive/codec.js';
import { openArchiveSet } from '../../src/archive/set.js';
import { restoreArchiveSet } from '../../src/archive/restore.js';
import { selectForArchive } from '../../src/archive/values.js';
import { verifyArchiveSet } from '../../src/archive/verify.js';
import { forEachDialect, type DialectHarness } from '../helpers/dialects.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-rarch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const dpo = generateRecipient();
const ROWS = 250;

const ddl = (d: DialectHarness, name: string) =>
  d.pick({
    postgres: `create table ${name} (id integer primary key, big bigint, name text, note text, born date, seen timestamp(6), paid timestamptz,
               amount numeric(14,4), active boolean, photo bytea, doc jsonb, score double precision, tags text[])`,
    mysql: `create table ${name} (id integer primary key, big bigint, name varchar(200) character set utf8mb4, note text character set utf8mb4, born date,
            seen datetime(6), paid timestamp(3) null, amount decimal(14,4), active boolean, photo blob, doc json, score double, tags text)`,
    sqlite: `create table ${name} (id integer primary key, big integer, name text, note text, born date, seen datetime, paid timestamp,
             amount numeric, active boolean, photo blob, doc text, score real, tags text)`,
  });

function value(d: DialectHarness, i: number): Record<string, unknown> {
  const big = i === 1 ? '9223372036854775807' : i === 2 ? '-9223372036854775808' : String(BigInt(i) * 1_000_000_007n);
  const tags = ['a', `t${i}`, 'naïve "quoted", comma'];
  return {
    id: i,
    big: d.kind === 'sqlite' ? BigInt(big) : big,
    name: `Zoë ${i} 🎉 Ωmega ß e\u0301 ${'\u4e2d\u6587'}`,
    note: i % 7 === 0 ? null : `line one\nline "two"\t${i}\\ ' ; --`,
    born: i % 11 === 0 ? null : `19${String(50 + (i % 50)).padStart(2, '0')}-0${1 + (i % 9)}-2${i % 9}`,
    seen: `2021-03-04 05:06:${String(i % 60).padStart(2, '0')}.${String(123456 + i).slice(0, d.kind === 'sqlite' ? 3 : 6)}`,
    paid: i % 5 === 0 ? null : d.pick({ postgres: `2022-12-31 23:59:59.${String(i % 1000).padStart(3, '0')}+02`, mysql: `2022-12-31 23:59:59.${String(i % 1000).padStart(3, '0')}`, sqlite: `2022-12-31T21:59:59.${String(i % 1000).padStart(3, '0')}Z` }),
    amount: `${i * 37}.${String(i % 10000).padStart(4, '0')}`,
    active: d.kind === 'sqlite' ? i % 2 : i % 2 === 0,
    photo: i % 4 === 0 ? null : Buffer.from(Array.from({ length: 1 + (i % 64) }, (_, k) => (i * 31 + k * 7) & 255)),
    doc: i % 6 === 0 ? null : JSON.stringify({ i, nested: { list: [1, 'two', null, true] }, text: 'é' }),
    score: i % 9 === 0 ? null : i / 7,
    tags: d.kind === 'postgres' ? tags : JSON.stringify(tags),
  };
}

async function tableInfo(source: Source, name: string): Promise<TableInfo> {
  return (await source.introspect()).find((t) => t.name === name)!;
}

/** SHA-256 of every row, read the way archives read them, in key order. */
async function driverChecksum(source: Source, table: TableInfo): Promise<{ rows: number; sha: string }> {
  const rows = await source.db.selectFrom(table.name).select(selectForArchive(source, table.columns)).orderBy('id').execute();
  const h = createHash('sha256');
  for (const r of rows) h.update(encodeRow(r, table.columns)).update('\n');
  return { rows: rows.length, sha: h.digest('hex') };
}

/** The database's own checksum of a table's rows, where it has one. */
async function nativeChecksum(d: DialectHarness, name: string): Promise<string | null> {
  if (d.kind === 'postgres') return String((await d.query<{ h: string }>(`select md5(coalesce(string_agg(t::text, '|' order by id), '')) as h from ${name} t`))[0]!.h);
  if (d.kind === 'mysql') return String(Object.values((await d.query<Record<string, unknown>>(`checksum table ${name}`))[0]!)[1]);
  return null;
}

forEachDialect('retention archive sets', (d) => {
  let source: Source;
  let before: { rows: number; sha: string };
  let nativeBefore: string | null;
  const dir = () => path.join(tmp, `${d.kind}-${d.engine}`);

  beforeAll(async () => {
    await d.exec(ddl(d, 'orders'));
    await d.exec(ddl(d, 'orders_restored'));
    for (let i = 1; i <= ROWS; i += 50) await d.db.insertInto('orders').values(Array.from({ length: 50 }, (_, k) => value(d, i + k))).execute();
    source = await d.openSource();
    before = await driverChecksum(source, await tableInfo(source, 'orders'));
    nativeBefore = await nativeChecksum(d, 'orders');
    expect(before.rows).toBe(ROWS);
  });
  afterAll(async () => source?.close());

  it('archives every row in chunks while deleting them, verifies without and with the key, restores into a fresh table identical by checksum', async () => {
    const table = await tableInfo(source, 'orders');
    const set = await openArchiveSet({
      dir: dir(),
      recipients: [dpo.publicKey],
      source: source.name,
      table,
      primaryKey: table.primaryKey,
      columns: table.columns,
      runId: 'run-7',
      policy: 'orders-5y',
    });
    // The engine's loop: a batch in key order, archived durably, then deleted.
    for (;;) {
      const batch = await source.db.selectFrom('orders').select(selectForArchive(source, table.columns)).orderBy('id').limit(60).execute();
      if (batch.length === 0) break;
      const r = await set.writeChunk(batch);
      expect(r.conflicts).toEqual([]);
      await source.db.deleteFrom('orders').where('id', 'in', batch.map((b) => b.id as number)).execute();
    }
    const { manifest, digest } = await set.finish();
    expect(manifest.totals).toMatchObject({ chunks: 5, rows: ROWS });
    expect(manifest.chunks.map((c) => c.rows)).toEqual([60, 60, 60, 60, 10]);
    expect(manifest.chunks[0]!.firstKey).toEqual([1]);
    expect(manifest.chunks[4]!.lastKey).toEqual([ROWS]);
    expect(Number((await d.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())!.n)).toBe(0);

    expect(await verifyArchiveSet(dir())).toMatchObject({ rows: ROWS, decrypted: false, digest });
    expect(await verifyArchiveSet(dir(), { privateKey: dpo.identity, expectedDigest: digest })).toMatchObject({ rows: ROWS, decrypted: true });

    const restored = await restoreArchiveSet(dir(), { privateKey: dpo.identity, source, table: 'orders_restored', batchSize: 45 });
    expect(restored).toMatchObject({ rows: ROWS, inserted: ROWS, present: 0, chunks: 5, dryRun: false, digest });
    const after = await driverChecksum(source, await tableInfo(source, 'orders_restored'));
    expect(after).toEqual(before);
    expect(await nativeChecksum(d, 'orders_restored')).toBe(nativeBefore);

    // Run again: everything is there, nothing is inserted.
    const again = await restoreArchiveSet(dir(), { privateKey: dpo.identity, source, table: 'orders_restored' });
    expect(again).toMatchObject({ inserted: 0, present: ROWS });
    expect(await driverChecksum(source, await tableInfo(source, 'orders_restored'))).toEqual(before);
  });

  it('restores into the original table by default: a dry run inserts nothing, a partial table gets only what it lacks', async () => {
    const dry = await restoreArchiveSet(dir(), { privateKey: dpo.identity, source, dryRun: true });
    expect(dry).toMatchObject({ inserted: ROWS, present: 0, dryRun: true, table: { name: 'orders' } });
    expect(Number((await d.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())!.n)).toBe(0);
    // Someone already put a few rows back by hand.
    await d.db.insertInto('orders').values([value(d, 3), value(d, 120), value(d, ROWS)]).execute();
    const r = await restoreArchiveSet(dir(), { privateKey: dpo.identity, source });
    expect(r).toMatchObject({ inserted: ROWS - 3, present: 3 });
    expect(await driverChecksum(source, await tableInfo(source, 'orders'))).toEqual(before);
    expect(await nativeChecksum(d, 'orders')).toBe(nativeBefore);
  });

  it('refuses a tampered chunk before inserting any of its rows, and a table without the archived columns', async () => {
    const copy = path.join(tmp, `${d.kind}-${d.engine}-tampered`);
    const { cpSync } = await import('node:fs');
    cpSync(dir(), copy, { recursive: true });
    const file = path.join(copy, chunkFileName(3));
    const bytes = readFileSync(file);
    bytes[200]! ^= 0x10;
    writeFileSync(file, bytes);
    await d.exec(ddl(d, 'orders_again'));
    const e = await restoreArchiveSet(copy, { privateKey: dpo.identity, source, table: 'orders_again' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ArchiveError);
    expect((e as ArchiveError).chunk).toBe(chunkFileName(3));
    expect(Number((await d.db.selectFrom('orders_again').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())!.n)).toBe(0);

    await d.exec(d.pick({ postgres: 'create table narrow (id integer primary key)', mysql: 'create table narrow (id integer primary key)', sqlite: 'create table narrow (id integer primary key)' }));
    await expect(restoreArchiveSet(dir(), { privateKey: dpo.identity, source, table: 'narrow' })).rejects.toThrow(/has no column\(s\) big, name/);
    await expect(restoreArchiveSet(dir(), { privateKey: dpo.identity, source, table: 'nosuch' })).rejects.toThrow(/has no table nosuch/);
  });

  it('composite primary keys: restore skips exactly the present rows', async () => {
    await d.exec(
      d.pick({
        postgres: 'create table pairs (a integer, b varchar(20), v text, primary key (a, b)); create table pairs2 (a integer, b varchar(20), v text, primary key (a, b))',
        mysql: 'create table pairs (a integer, b varchar(20), v text, primary key (a, b)); create table pairs2 (a integer, b varchar(20), v text, primary key (a, b))',
        sqlite: 'create table pairs (a integer, b varchar(20), v text, primary key (a, b)); create table pairs2 (a integer, b varchar(20), v text, primary key (a, b))',
      }),
    );
    const rows = Array.from({ length: 30 }, (_, i) => ({ a: i % 5, b: `k${Math.floor(i / 5)}`, v: `v${i}` }));
    await d.db.insertInto('pairs').values(rows).execute();
    const table = await tableInfo(source, 'pairs');
    const pdir = path.join(tmp, `${d.kind}-${d.engine}-pairs`);
    const set = await openArchiveSet({ dir: pdir, recipients: [dpo.publicKey], source: source.name, table, primaryKey: table.primaryKey, columns: table.columns, runId: 'r', policy: 'p' });
    await set.writeChunk(rows.slice(0, 17));
    await set.writeChunk(rows.slice(17));
    await set.finish();
    await d.db.insertInto('pairs2').values([rows[4]!, rows[20]!]).execute();
    const r = await restoreArchiveSet(pdir, { privateKey: dpo.identity, source, table: 'pairs2', batchSize: 7 });
    expect(r).toMatchObject({ inserted: 28, present: 2 });
    const back = await d.db.selectFrom('pairs2').selectAll().orderBy('a').orderBy('b').execute();
    expect(back.map((x) => `${x.a}/${x.b}/${x.v}`)).toEqual([...rows].sort((x, y) => x.a - y.a || x.b.localeCompare(y.b)).map((x) => `${x.a}/${x.b}/${x.v}`));
  });
});
