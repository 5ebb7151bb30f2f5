/**
 * Legal holds on every database: holds by predicate, by subject identifier and
 * on a whole table; the exclusion fragment in a real `delete … where <due> and
 * <exclude>` leaves exactly the held rows; expiry at the boundary; release;
 * bad predicates refused in one line with nothing stored; and neither the
 * subject identifier nor a predicate's literal anywhere in the activity log,
 * the legal_holds table or the state store's file.
 */
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, UsageError } from '../../src/errors.js';
import { activeHolds, addHold, countHeld, expireHolds, holdExclusion, holdFilterFor, listHolds, releaseHold, type AddHoldOptions } from '../../src/retention/holds.js';
import type { StoredActivity } from '../../src/state/activity-log.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import type { Source } from '../../src/sources/types.js';
import { forEachDialect, uniqueName } from '../helpers/dialects.js';
import { PG_URL, inject } from '../helpers/servers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-holds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SUBJECT = 'Jane.Doe@Example.com';
const NOW = new Date('2026-03-10T12:00:00.000Z');

async function logOf(store: StateStore): Promise<StoredActivity[]> {
  const out: StoredActivity[] = [];
  for await (const b of store.activityBatches()) out.push(...b);
  return out;
}

async function refusal(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(Error);
  return e as Error;
}

forEachDialect('legal holds', (d) => {
  let store: StateStore;
  let storeFile: string;
  let source: Source;
  const place = (o: Partial<AddHoldOptions>) => addHold({ store, source, table: 'customers', reason: 'Litigation hold, case 2026-CV-118', actor: 'dpo', now: NOW, ...o });

  /** 200 customers: case 7 on ids 1..20, case_id null on ids 181..200; the subject (in three spellings) on ids 50, 51, 52. */
  async function reset(): Promise<void> {
    // Each test starts with no hold in force (a failed test may have left one).
    for (const h of await listHolds(store, { now: NOW })) await releaseHold(store, h.id, { actor: 'test', reason: 'test reset', now: NOW });
    await d.db.deleteFrom('customers').execute();
    await d.db
      .insertInto('customers')
      .values(
        Array.from({ length: 200 }, (_, k) => {
          const id = k + 1;
          const email = id === 50 ? 'jane.doe@example.com' : id === 51 ? ' JANE.DOE@EXAMPLE.COM' : id === 52 ? 'Jane.Doe@Example.com ' : `c${id}@example.com`;
          return { id, email, case_id: id <= 20 ? 7 : id > 180 ? null : id % 5, created_at: id <= 150 ? '2019-01-01' : '2026-01-01' };
        }),
      )
      .execute();
  }
  const ids = async () => (await d.db.selectFrom('customers').select('id').orderBy('id').execute()).map((r) => Number(r.id));
  /** What a retention run does: delete due rows (created before 2020) that no hold keeps. */
  const purge = async (exclude: ReturnType<typeof holdExclusion>['exclude']) =>
    d.db.executeQuery(sql`delete from ${sql.id('customers')} where created_at < '2020-01-01' ${exclude ? sql`and ${exclude}` : sql``}`.compile(d.db));

  beforeAll(async () => {
    storeFile = path.join(tmp, `${d.kind}-${d.engine}.db`);
    store = await openStateStore({ url: storeFile, baseDir: tmp });
    await d.exec(
      d.pick({
        postgres: `create table customers (id integer primary key, email varchar(100), case_id integer, created_at varchar(10));
                   create table nopk (email text);
                   create table keyed_by_email (email varchar(100) primary key, n integer);
                   create view v_customers as select * from customers;
                   create sequence s`,
        mysql: `create table customers (id integer primary key, email varchar(100), case_id integer, created_at varchar(10));
                create table nopk (email text);
                create table keyed_by_email (email varchar(100) primary key, n integer);
                create view v_customers as select * from customers`,
        sqlite: `create table customers (id integer primary key, email varchar(100), case_id integer, created_at varchar(10));
                 create table nopk (email text);
                 create table keyed_by_email (email varchar(100) primary key, n integer);
                 create view v_customers as select * from customers`,
      }),
    );
    await d.db.insertInto('nopk').values({ email: 'a@b.co' }).execute();
    await d.db.insertInto('keyed_by_email').values({ email: 'jane.doe@example.com', n: 1 }).execute();
    source = await d.openSource({}, { readonly: true });
  });
  afterAll(async () => {
    await source?.close();
    await store?.close();
  });

  it('a predicate hold counts its rows, is logged without its text, and a delete with the exclusion leaves exactly the held rows', async () => {
    await reset();
    const before = (await logOf(store)).length;
    const { hold, rows } = await place({ where: "case_id = 7 and email <> 'nobody@example.org'", until: '2027-06-30' });
    expect(rows).toBe(20);
    expect(hold).toMatchObject({ kind: 'where', status: 'active', heldRows: 20, resolvedTable: `${d.schema}.customers`, until: '2027-07-01T00:00:00.000Z', createdBy: 'dpo' });
    const entries = (await logOf(store)).slice(before);
    expect(entries.map((e) => e.action)).toEqual(['hold.added']);
    expect(entries[0]).toMatchObject({ actor: 'dpo', subject: { hold: hold.id, source: source.name, table: `${d.schema}.customers` }, details: { kind: 'where', rows: 20, until: '2027-07-01T00:00:00.000Z', reason: 'Litigation hold, case 2026-CV-118' } });
    expect(entries[0]!.details.predicateSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(entries)).not.toContain('nobody@example.org');
    expect(JSON.stringify(entries)).not.toContain('case_id');

    const holds = await activeHolds(store, source.name, 'customers', NOW);
    expect(holds.map((h) => h.id)).toEqual([hold.id]);
    expect(await activeHolds(store, source.name, { schema: d.schema, name: 'customers' }, NOW)).toHaveLength(1);
    expect(await activeHolds(store, source.name, `${d.schema}.customers`, NOW)).toHaveLength(1);
    expect(await activeHolds(store, source.name, 'other.customers', NOW)).toHaveLength(0);
    expect(await countHeld(source, { schema: d.schema, name: 'customers' }, holds)).toBe(20);
    // Held among the due rows (created before 2020): ids 1..20 are all due.
    expect(await countHeld(source, { schema: d.schema, name: 'customers' }, holds, sql`created_at < '2020-01-01'`)).toBe(20);

    const filter = await holdFilterFor(store, source, NOW)({ schema: d.schema, name: 'customers' });
    expect(filter.wholeTable).toBe(false);
    await purge(filter.exclude);
    // Held ids 1..20 stay, every other due row (21..150, including those whose case_id is NULL? none are due) is gone; 151..200 were not due.
    expect(await ids()).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), ...Array.from({ length: 50 }, (_, i) => i + 151)]);
    await releaseHold(store, hold.id, { actor: 'dpo', reason: 'case 2026-CV-118 settled', now: NOW });
  });

  it('a row for which the predicate is NULL is not held, and is deleted: held and excluded rows are exact complements', async () => {
    await reset();
    await d.db.updateTable('customers').set({ created_at: '2019-01-01' }).where('id', '>', 180).execute();
    const { hold, rows } = await place({ where: 'case_id = 7' });
    expect(rows).toBe(20);
    const x = holdExclusion(await activeHolds(store, source.name, 'customers', NOW), { kind: source.kind });
    const due = sql`created_at < '2020-01-01'`;
    const count = async (w: ReturnType<typeof sql>) => Number((await sql<{ n: unknown }>`select count(*) as ${sql.ref('n')} from customers where ${w}`.execute(d.db)).rows[0]!.n);
    const held = await count(sql`${due} and (${x.held!})`);
    const deletable = await count(sql`${due} and ${x.exclude!}`);
    expect(held + deletable).toBe(await count(due));
    await purge(x.exclude);
    const left = await ids();
    expect(left.filter((id) => id > 180)).toEqual([]); // case_id NULL, due, not held: deleted
    expect(left.filter((id) => id <= 20)).toHaveLength(20);
    await releaseHold(store, hold.id.slice(0, 8), { actor: 'dpo', reason: 'done', now: NOW });
  });

  it('a subject hold pins the rows that match now, stores and logs no identifier, and is found by the identifier', async () => {
    await reset();
    const before = (await logOf(store)).length;
    const { hold, rows } = await place({ subject: { column: 'email', value: `  ${SUBJECT} ` } });
    expect(rows).toBe(3);
    expect(hold).toMatchObject({ kind: 'subject', subjectColumn: 'email', keyCount: 3, predicate: null });
    const stored = (await store.holds.get(hold.id))!;
    expect(stored.keys).toEqual({ columns: ['id'], types: ['integer'], values: [[50], [51], [52]] });
    expect(stored.subjectHmac).toMatch(/^[0-9a-f]{64}$/);

    expect((await listHolds(store, { subjectValue: 'JANE.DOE@example.com', now: NOW })).map((h) => h.id)).toEqual([hold.id]);
    expect(await listHolds(store, { subjectValue: 'someone.else@example.com', now: NOW })).toEqual([]);

    const x = holdExclusion(await activeHolds(store, source.name, 'customers', NOW), { kind: source.kind });
    await purge(x.exclude);
    expect(await ids()).toEqual([50, 51, 52, ...Array.from({ length: 50 }, (_, i) => i + 151)]);
    // A row of the same person written after the hold was placed is not held by it.
    await d.db.insertInto('customers').values({ id: 1000, email: 'jane.doe@example.com', case_id: null, created_at: '2019-06-01' }).execute();
    await purge(x.exclude);
    expect(await ids()).not.toContain(1000);

    const entries = (await logOf(store)).slice(before);
    expect(entries.map((e) => e.action)).toEqual(['hold.added']);
    expect(entries[0]!.details).toMatchObject({ kind: 'subject', rows: 3, subjectColumn: 'email' });
    const everything = JSON.stringify([entries, await store.holds.list(), await listHolds(store, { includeReleased: true, now: NOW })]).toLowerCase();
    expect(everything).not.toContain('jane');
    // Nor anywhere in the state store's file.
    const bytes = Buffer.concat([readFileSync(storeFile), ...(existsSync(`${storeFile}-wal`) ? [readFileSync(`${storeFile}-wal`)] : [])]).toString('latin1').toLowerCase();
    expect(bytes).not.toContain('jane.doe');
    await releaseHold(store, hold.id, { actor: 'dpo', reason: 'done', now: NOW });
  });

  it('refuses subject holds that would store the identifier or cannot name rows, storing nothing', async () => {
    await reset();
    const count = (await store.holds.list()).length;
    const logged = (await logOf(store)).length;
    const e1 = await refusal(place({ subject: { column: 'email', value: 'nobody@nowhere.example' } }));
    expect(e1).toBeInstanceOf(UsageError);
    expect(e1.message).toMatch(/no row of .*customers has email equal to that value/);
    expect(e1.message).not.toContain('nobody@nowhere.example');
    expect((await refusal(addHold({ store, source, table: 'keyed_by_email', subject: { column: 'email', value: SUBJECT }, reason: 'r', actor: 'dpo', now: NOW }))).message).toMatch(/part of the primary key/);
    expect((await refusal(addHold({ store, source, table: 'nopk', subject: { column: 'email', value: 'a@b.co' }, reason: 'r', actor: 'dpo', now: NOW }))).message).toMatch(/no primary key/);
    expect((await refusal(place({ subject: { column: 'case_id', value: '7' } }))).message).toMatch(/matched as text/);
    expect((await refusal(place({ subject: { column: 'nope', value: '7' } }))).message).toMatch(/has no column nope/);
    expect(await store.holds.list()).toHaveLength(count);
    expect(await logOf(store)).toHaveLength(logged);
    expect(JSON.stringify(await logOf(store)).toLowerCase()).not.toContain('jane');
  });

  it('bad predicates are refused in one line, naming what is wrong, with nothing stored or logged', async () => {
    const count = (await store.holds.list()).length;
    const logged = (await logOf(store)).length;
    const syntax = await refusal(place({ where: "email = 'jane.doe@example.com' and and case_id = 1" }));
    expect(syntax).toBeInstanceOf(UsageError);
    // Caught by the dialect's parser before anything reaches the database.
    expect(syntax.message).toMatch(/^the --where predicate is not accepted: it does not parse as one (PostgreSQL|MySQL\/MariaDB|SQLite) boolean expression near character \d+/);
    expect(syntax.message).not.toContain('jane');
    expect(syntax.message).not.toContain('\n');
    const unknown = await refusal(place({ where: "email = 'jane.doe@example.com' and nope = 1" }));
    expect(unknown).toBeInstanceOf(UsageError);
    expect(unknown.message).toMatch(d.pick({ postgres: /column "nope" does not exist/, mysql: /Unknown column "nope"/, sqlite: /no such column: nope/ }));
    expect(unknown.message).not.toContain('jane');
    expect((await refusal(place({ where: 'case_id = 7; delete from customers' }))).message).toMatch(/contains ";"/);
    expect((await refusal(place({ where: 'case_id = 7 -- x' }))).message).toMatch(/comment/);
    expect((await refusal(place({ where: '1 = 1) or (1 = 1' }))).message).toMatch(/never opened/);
    expect((await refusal(place({ where: 'case_id = 7', until: '2026-03-10T12:00:00Z' }))).message).toMatch(/not in the future/);
    expect((await refusal(place({ where: 'case_id = 7', reason: 'asked by jane.doe@example.com' }))).message).toMatch(/personal data/);
    expect((await refusal(place({ where: 'case_id = 7', table: 'nosuch' }))).message).toMatch(/has no table nosuch/);
    expect((await refusal(place({ where: 'case_id = 7', table: 'v_customers' }))).message).toMatch(/is a view/);
    expect((await refusal(place({}))).message).toMatch(/exactly one of/);
    expect((await refusal(place({ where: 'case_id = 7', all: true }))).message).toMatch(/exactly one of/);
    expect(await store.holds.list()).toHaveLength(count);
    expect(await logOf(store)).toHaveLength(logged);
    expect(JSON.stringify(await logOf(store))).not.toContain('jane');
  });

  it.runIf(d.kind === 'postgres')('a predicate that writes is refused (read-only transaction); one that runs too long times out', async () => {
    const writes = await refusal(place({ where: "nextval('s') > 0" }));
    expect(writes).toBeInstanceOf(UsageError);
    expect(writes.message).toMatch(/tries to change data/);
    const slow = await refusal(place({ where: 'pg_sleep(2) is not null', timeoutMs: 200 }));
    expect(slow.message).toMatch(/did not finish on .*customers.* within 200 ms/);
    // The sequence was never advanced.
    expect((await sql<{ c: boolean }>`select is_called as c from s`.execute(d.db)).rows[0]!.c).toBe(false);
  });

  it.runIf(d.kind === 'mysql')('a predicate that runs too long times out', async () => {
    const slow = await refusal(place({ where: 'sleep(3) = 0', timeoutMs: 300 }));
    expect(slow.message).toMatch(/did not finish/);
  });

  it('expiry: in force until `until`, expired at `until` exactly, logged once; release is logged and refused twice', async () => {
    await reset();
    const until = new Date(NOW.getTime() + 3_600_000);
    const { hold } = await place({ where: 'case_id = 7', until: until.toISOString() });
    const justBefore = new Date(until.getTime() - 1);
    expect((await activeHolds(store, source.name, 'customers', justBefore)).map((h) => h.id)).toContain(hold.id);
    expect((await activeHolds(store, source.name, 'customers', until)).map((h) => h.id)).not.toContain(hold.id);
    expect((await listHolds(store, { now: until })).map((h) => h.id)).not.toContain(hold.id);
    expect((await listHolds(store, { now: until, includeReleased: true })).find((h) => h.id === hold.id)?.status).toBe('expired');
    // Expired: the exclusion no longer keeps its rows.
    const x = holdExclusion(await activeHolds(store, source.name, 'customers', until), { kind: source.kind, now: until });
    expect(x.exclude).toBeNull();

    const before = (await logOf(store)).length;
    expect((await expireHolds(store, { actor: 'steward run', now: justBefore })).expired).toEqual([]);
    const first = await expireHolds(store, { actor: 'steward run', now: until });
    expect(first.expired.map((h) => h.id)).toEqual([hold.id]);
    expect((await expireHolds(store, { actor: 'steward run', now: new Date(until.getTime() + 60_000) })).expired).toEqual([]);
    const entries = (await logOf(store)).slice(before);
    expect(entries.map((e) => `${e.action}:${String(e.subject.hold)}`)).toEqual([`hold.expired:${hold.id}`]);
    expect(entries[0]).toMatchObject({ actor: 'steward run', details: { until: until.toISOString() } });

    // An expired hold can still be released, for the record; a second release is refused.
    const released = await releaseHold(store, hold.id, { actor: 'dpo', reason: 'matter closed', now: new Date(until.getTime() + 120_000) });
    expect(released).toMatchObject({ status: 'released', releasedBy: 'dpo', releaseReason: 'matter closed' });
    const again = await refusal(releaseHold(store, hold.id, { actor: 'dpo', reason: 'again', now: NOW }));
    expect(again.message).toMatch(/already released/);
    expect((await refusal(releaseHold(store, 'ffffffff', { actor: 'dpo', reason: 'x' }))).message).toMatch(/there is no hold ffffffff/);
    expect((await refusal(releaseHold(store, hold.id, { actor: 'dpo', reason: '' }))).message).toMatch(/--reason is required/);
    const last = (await logOf(store)).at(-1)!;
    expect(last).toMatchObject({ action: 'hold.released', subject: { hold: hold.id }, details: { reason: 'matter closed', expired: true } });
    expect((await store.verifyActivityLog()).ok).toBe(true);
  });

  it('a whole-table hold keeps every row; released, the rows become deletable again', async () => {
    await reset();
    const { hold, rows } = await place({ all: true, table: `${d.schema}.customers` });
    expect(rows).toBe(200);
    const holds = await activeHolds(store, source.name, 'customers', NOW);
    const x = holdExclusion(holds, { kind: source.kind });
    expect(x.wholeTable).toBe(true);
    expect(await countHeld(source, { schema: d.schema, name: 'customers' }, holds)).toBe(200);
    await purge(x.exclude);
    expect(await ids()).toHaveLength(200);
    await releaseHold(store, hold.id, { actor: 'dpo', reason: 'released', now: NOW });
    const after = holdExclusion(await activeHolds(store, source.name, 'customers', NOW), { kind: source.kind });
    expect(after.wholeTable).toBe(false);
    await purge(after.exclude);
    expect(await ids()).toHaveLength(50);
  });

  it('with no hold in force nothing is held and the source connection stays read-only-safe', async () => {
    expect(await listHolds(store, { source: source.name, now: NOW })).toEqual([]);
    expect(await countHeld(source, { schema: d.schema, name: 'customers' }, [])).toBe(0);
    // The source was opened read-only: placing holds never needed a write to it.
    const e = await refusal(sql`insert into customers (id) values (99999)`.execute(source.db));
    expect(String((e as Error).message)).toMatch(/read.?only|readonly/i);
  });
});

describe.skipIf(!inject('servers').postgres)('legal holds in a PostgreSQL state store', () => {
  it('add, list by subject, release and expire round-trip; nothing personal in the store', async () => {
    const schema = uniqueName('steward_holds');
    const store = await openStateStore({ url: PG_URL, baseDir: tmp, schema });
    const { default: Database } = await import('better-sqlite3');
    const file = path.join(tmp, 'pg-store-source.db');
    const db = new Database(file);
    db.exec('create table people (id integer primary key, email text)');
    db.prepare('insert into people values (?, ?)').run(1, SUBJECT);
    db.prepare('insert into people values (?, ?)').run(2, 'x@y.example');
    db.close();
    const { openSource } = await import('../../src/sources/index.js');
    const source = await openSource({ name: 'people', kind: 'sqlite', url: file }, { readonly: true });
    try {
      const a = await addHold({ store, source, table: 'people', subject: { column: 'email', value: SUBJECT.toUpperCase() }, reason: 'case 9', actor: 'dpo', now: NOW, until: '2026-04-01' });
      const b = await addHold({ store, source, table: 'people', where: 'id = 2', reason: 'case 10', actor: 'dpo', now: NOW });
      expect(a.rows).toBe(1);
      expect((await listHolds(store, { subjectValue: SUBJECT, now: NOW })).map((h) => h.id)).toEqual([a.hold.id]);
      expect((await activeHolds(store, 'people', 'people', NOW)).map((h) => h.id).sort()).toEqual([a.hold.id, b.hold.id].sort());
      expect(await countHeld(source, { schema: 'main', name: 'people' }, await activeHolds(store, 'people', 'people', NOW))).toBe(2);
      await releaseHold(store, b.hold.id.slice(0, 8), { actor: 'dpo', reason: 'closed', now: NOW });
      const later = new Date('2026-04-02T00:00:00Z');
      expect((await expireHolds(store, { actor: 'steward run', now: later })).expired.map((h) => h.id)).toEqual([a.hold.id]);
      expect(await activeHolds(store, 'people', 'people', later)).toEqual([]);
      expect((await store.verifyActivityLog()).ok).toBe(true);
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        const dump = JSON.stringify((await client.query(`select * from ${schema}.legal_holds`)).rows) + JSON.stringify((await client.query(`select * from ${schema}.activity_log`)).rows);
        expect(dump.toLowerCase()).not.toContain('jane');
        expect(dump).toContain('hold.expired');
      } finally {
        await client.query(`drop schema ${schema} cascade`);
        await client.end();
      }
    } finally {
      await source.close();
      await store.close();
    }
  });

  it('a source error while placing a hold is a SourceError, not a predicate problem', async () => {
    const store = await openStateStore({ url: path.join(tmp, 'err.db'), baseDir: tmp });
    const { openSource } = await import('../../src/sources/index.js');
    const { default: Database } = await import('better-sqlite3');
    const file = path.join(tmp, 'closing.db');
    new Database(file).exec('create table t (id integer primary key)');
    const source = await openSource({ name: 'c', kind: 'sqlite', url: file });
    await source.close();
    const e = await refusal(addHold({ store, source, table: 't', all: true, reason: 'r', actor: 'a', now: NOW }));
    expect(e).toBeInstanceOf(SourceError);
    expect(await store.holds.list()).toEqual([]);
    await store.close();
  });
});

describe('legal holds and the activity log when things go wrong', () => {
  it('a hold whose hold.added entry cannot be written is taken back; a release that cannot be logged stays unreleased', async () => {
    const { default: Database } = await import('better-sqlite3');
    const { openSource } = await import('../../src/sources/index.js');
    const file = path.join(tmp, 'log-fail-source.db');
    new Database(file).exec('create table t (id integer primary key, case_id integer); insert into t values (1, 5), (2, 6)');
    const storeFile = path.join(tmp, 'log-fail-store.db');
    const store = await openStateStore({ url: storeFile, baseDir: tmp });
    const source = await openSource({ name: 'lf', kind: 'sqlite', url: file }, { readonly: true });
    try {
      const kept = await addHold({ store, source, table: 't', where: 'case_id = 5', reason: 'case 5', actor: 'dpo', now: NOW });
      // Damage the log's last entry the way a write cut short would: nothing can be chained to it.
      const raw = new Database(storeFile);
      const last = raw.prepare('select seq, hash from activity_log order by seq desc limit 1').get() as { seq: number; hash: string };
      raw.prepare('update activity_log set hash = null where seq = ?').run(last.seq);
      const e = await refusal(addHold({ store, source, table: 't', where: 'case_id = 6', reason: 'case 6', actor: 'dpo', now: NOW }));
      expect(e.message).toMatch(/incomplete or damaged/);
      expect((await store.holds.list()).map((h) => h.id)).toEqual([kept.hold.id]);
      const r = await refusal(releaseHold(store, kept.hold.id, { actor: 'dpo', reason: 'closed', now: NOW }));
      expect(r.message).toMatch(/incomplete or damaged/);
      expect((await activeHolds(store, 'lf', 't', NOW)).map((h) => h.id)).toEqual([kept.hold.id]);
      raw.prepare('update activity_log set hash = ? where seq = ?').run(last.hash, last.seq);
      raw.close();
      expect((await store.verifyActivityLog()).ok).toBe(true);
    } finally {
      await source.close();
      await store.close();
    }
  });

  it('entries a crash kept from being written are caught up once, marked late, after a grace period', async () => {
    const store = await openStateStore({ url: path.join(tmp, 'late.db'), baseDir: tmp });
    try {
      // As if the process died between storing the hold (and its release) and logging them.
      await store.holds.insert({
        id: '0badc0de-0000-4000-8000-000000000001',
        source: 's',
        table: 'orders',
        schema: 'public',
        tableName: 'orders',
        kind: 'where',
        predicate: "note = 'jane.doe@example.com'",
        subjectColumn: null,
        subjectHmac: null,
        keys: null,
        heldRows: 3,
        reason: 'case 12',
        createdBy: 'dpo',
        createdAt: NOW.toISOString(),
        until: null,
      });
      await store.holds.release('0badc0de-0000-4000-8000-000000000001', { at: new Date(NOW.getTime() + 1000).toISOString(), by: 'dpo', reason: 'closed' });
      expect((await expireHolds(store, { actor: 'steward run', now: new Date(NOW.getTime() + 60_000) })).late).toBe(0); // maybe still in progress
      const later = new Date(NOW.getTime() + 10 * 60_000);
      expect((await expireHolds(store, { actor: 'steward run', now: later })).late).toBe(2);
      expect((await expireHolds(store, { actor: 'steward run', now: later })).late).toBe(0);
      const entries = await logOf(store);
      expect(entries.map((e) => `${e.action}:${String(e.details.late)}`)).toEqual(['hold.added:true', 'hold.released:true']);
      expect(JSON.stringify(entries)).not.toContain('jane');
      expect(entries[0]!.details.predicateSha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await store.close();
    }
  });
});
