/**
 * Sources against real databases: PostgreSQL (or PGlite), MariaDB, SQLite.
 * Every schema lives in a fresh database from the dialect harness; roles and
 * users get random names and are dropped afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { openSource, type ColumnInfo, type Source, type SourceKind, type TableInfo } from '../../src/sources/index.js';
import { forEachDialect, uniqueName, type DialectHarness } from '../helpers/dialects.js';
import { inject, MYSQL_URL, PG_URL } from '../helpers/servers.js';

const servers = inject('servers');

const MIXED = 'Mixed Case "Quoted"';
const EVIL = 'x"; drop table y; --';
/** A backtick breaks MySQL quoting the way a double quote breaks Postgres'. */
const TICK = 'tick`) from y; --';

function col(name: string, dataType: string, typeClass: ColumnInfo['typeClass'], nullable: boolean, maxLength: number | null = null, comment: string | null = null): ColumnInfo {
  return { name, dataType, typeClass, nullable, maxLength, comment };
}

async function flavor(d: DialectHarness): Promise<'mariadb' | 'mysql' | 'other'> {
  if (d.kind !== 'mysql') return 'other';
  const [row] = await d.query<{ v: string }>('select version() as v');
  return /mariadb/i.test(row?.v ?? '') ? 'mariadb' : 'mysql';
}

function schemaDdl(d: DialectHarness, isMaria: boolean): string {
  const q = d.q;
  return d.pick({
    postgres: `
      create table customers (
        id integer generated always as identity primary key,
        email varchar(200) not null,
        full_name text,
        born date,
        created_at timestamptz not null default now(),
        active boolean,
        balance numeric(10,2),
        avatar bytea,
        prefs jsonb,
        external_id uuid
      );
      comment on table customers is 'People who bought something';
      comment on column customers.email is 'Login e-mail';
      create table orders (id bigint primary key, customer_id integer not null, "order" integer,
        constraint orders_customer_fk foreign key (customer_id) references customers (id));
      create table order_lines (line_no integer not null, order_id bigint not null, sku char(8),
        primary key (order_id, line_no), constraint order_lines_order_fk foreign key (order_id) references orders (id));
      create table shipments (id integer primary key, order_id bigint, line_no integer,
        constraint shipments_line_fk foreign key (order_id, line_no) references order_lines (order_id, line_no));
      create view customer_emails as select id, email from customers;
      create table ${q(MIXED)} (${q('Weird Col')} text, "order" integer, "select" text);
      create table ${q(EVIL)} (id integer primary key, "from" text, ${q(TICK)} text);
      create table y (id integer);
      insert into ${q(MIXED)} values ('w1', 1, 's1'), ('w2', 2, 's2');
      insert into ${q(EVIL)} values (1, 'a', 't1'), (2, 'b', 't2'), (3, 'c', 't3');
      insert into customers (email, full_name, avatar, prefs, external_id)
        values ('a@example.com', 'Ann', '\\x0102', '{"k": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    `,
    mysql: `
      create table customers (
        id int not null auto_increment primary key,
        email varchar(200) not null comment 'Login e-mail',
        full_name text,
        born date,
        created_at datetime not null default current_timestamp,
        active boolean,
        balance decimal(10,2),
        avatar blob,
        prefs json,
        external_id ${isMaria ? 'uuid' : 'char(36)'}
      ) comment 'People who bought something';
      create table orders (id bigint primary key, customer_id int not null, \`order\` int,
        constraint orders_customer_fk foreign key (customer_id) references customers (id));
      create table order_lines (line_no int not null, order_id bigint not null, sku char(8),
        primary key (order_id, line_no), constraint order_lines_order_fk foreign key (order_id) references orders (id));
      create table shipments (id int primary key, order_id bigint, line_no int,
        constraint shipments_line_fk foreign key (order_id, line_no) references order_lines (order_id, line_no));
      create view customer_emails as select id, email from customers;
      create table ${q(MIXED)} (${q('Weird Col')} text, \`order\` int, \`select\` text);
      create table ${q(EVIL)} (id int primary key, \`from\` text, ${q(TICK)} text);
      create table y (id int);
      insert into ${q(MIXED)} values ('w1', 1, 's1'), ('w2', 2, 's2');
      insert into ${q(EVIL)} values (1, 'a', 't1'), (2, 'b', 't2'), (3, 'c', 't3');
      insert into customers (email, full_name, avatar, prefs, external_id)
        values ('a@example.com', 'Ann', x'0102', '{"k": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    `,
    sqlite: `
      pragma foreign_keys = on;
      create table customers (
        id integer primary key,
        email varchar(200) not null,
        full_name text,
        born date,
        created_at datetime not null default current_timestamp,
        active boolean,
        balance decimal(10,2),
        avatar blob,
        prefs json,
        external_id uuid
      );
      create table orders (id bigint primary key, customer_id integer not null, "order" integer,
        constraint orders_customer_fk foreign key (customer_id) references customers (id));
      create table order_lines (line_no integer not null, order_id bigint not null, sku char(8),
        primary key (order_id, line_no), constraint order_lines_order_fk foreign key (order_id) references orders (id));
      create table shipments (id integer primary key, order_id bigint, line_no integer,
        constraint shipments_line_fk foreign key (order_id, line_no) references order_lines (order_id, line_no));
      create view customer_emails as select id, email from customers;
      create table ${q(MIXED)} (${q('Weird Col')} text, "order" integer, "select" text);
      create table ${q(EVIL)} (id integer primary key, "from" text, ${q(TICK)} text);
      create table y (id integer);
      insert into ${q(MIXED)} values ('w1', 1, 's1'), ('w2', 2, 's2');
      insert into ${q(EVIL)} values (1, 'a', 't1'), (2, 'b', 't2'), (3, 'c', 't3');
      insert into customers (email, full_name, avatar, prefs, external_id)
        values ('a@example.com', 'Ann', x'0102', '{"k": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    `,
  });
}

function expectedCustomers(kind: SourceKind, isMaria: boolean): ColumnInfo[] {
  const int = isMaria ? 'int(11)' : 'int';
  const expected: Record<SourceKind, ColumnInfo[]> = {
    postgres: [
      col('id', 'integer', 'integer', false),
      col('email', 'character varying', 'text', false, 200, 'Login e-mail'),
      col('full_name', 'text', 'text', true),
      col('born', 'date', 'date', true),
      col('created_at', 'timestamp with time zone', 'timestamp', false),
      col('active', 'boolean', 'boolean', true),
      col('balance', 'numeric', 'decimal', true),
      col('avatar', 'bytea', 'binary', true),
      col('prefs', 'jsonb', 'json', true),
      col('external_id', 'uuid', 'uuid', true),
    ],
    mysql: [
      col('id', int, 'integer', false),
      col('email', 'varchar(200)', 'text', false, 200, 'Login e-mail'),
      col('full_name', 'text', 'text', true, 65535),
      col('born', 'date', 'date', true),
      col('created_at', 'datetime', 'timestamp', false),
      col('active', 'tinyint(1)', 'boolean', true),
      col('balance', 'decimal(10,2)', 'decimal', true),
      col('avatar', 'blob', 'binary', true),
      col('prefs', isMaria ? 'longtext' : 'json', 'json', true),
      isMaria ? col('external_id', 'uuid', 'uuid', true) : col('external_id', 'char(36)', 'text', true, 36),
    ],
    sqlite: [
      col('id', 'integer', 'integer', false),
      col('email', 'varchar(200)', 'text', false, 200),
      col('full_name', 'text', 'text', true),
      col('born', 'date', 'date', true),
      col('created_at', 'datetime', 'timestamp', false),
      col('active', 'boolean', 'boolean', true),
      col('balance', 'decimal(10,2)', 'decimal', true),
      col('avatar', 'blob', 'binary', true),
      col('prefs', 'json', 'json', true),
      col('external_id', 'uuid', 'uuid', true),
    ],
  };
  return expected[kind];
}

forEachDialect('introspect', (d) => {
  let source: Source;
  let tables: readonly TableInfo[];
  let isMaria = false;
  const table = (name: string) => {
    const t = tables.find((x) => x.name === name);
    if (!t) throw new Error(`table ${name} not listed; got ${tables.map((x) => x.name).join(', ')}`);
    return t;
  };

  beforeAll(async () => {
    isMaria = (await flavor(d)) === 'mariadb';
    await d.exec(schemaDdl(d, isMaria));
    source = await d.openSource({ name: 'shop' });
    tables = await source.introspect();
  });
  afterAll(async () => {
    await source?.close();
  });

  it('lists exactly the tables and views of the database, sorted, in its schema', () => {
    expect(tables.map((t) => [t.schema, t.name, t.kind])).toEqual(
      [
        [d.schema, 'customer_emails', 'view'],
        [d.schema, 'customers', 'table'],
        [d.schema, MIXED, 'table'],
        [d.schema, 'order_lines', 'table'],
        [d.schema, 'orders', 'table'],
        [d.schema, 'shipments', 'table'],
        [d.schema, EVIL, 'table'],
        [d.schema, 'y', 'table'],
      ].sort((a, b) => (a[1]! < b[1]! ? -1 : 1)),
    );
  });

  it('describes every column: type, type class, nullability, length, comment, in ordinal order', () => {
    expect(table('customers').columns).toEqual(expectedCustomers(d.kind, isMaria));
  });

  it('reads table comments where the database has them', () => {
    expect(table('customers').comment).toBe(d.pick({ postgres: 'People who bought something', mysql: 'People who bought something', sqlite: null }));
  });

  it('gives primary keys in key order, not column order', () => {
    expect(table('customers').primaryKey).toEqual(['id']);
    expect(table('order_lines').primaryKey).toEqual(['order_id', 'line_no']);
    expect(table('order_lines').columns.map((c) => c.name)).toEqual(['line_no', 'order_id', 'sku']);
    expect(table('y').primaryKey).toEqual([]);
    expect(table('customer_emails').primaryKey).toEqual([]);
  });

  it('gives foreign keys, multi-column ones with matching column order', () => {
    const names: Record<SourceKind, [string, string, string]> = {
      postgres: ['orders_customer_fk', 'order_lines_order_fk', 'shipments_line_fk'],
      mysql: ['orders_customer_fk', 'order_lines_order_fk', 'shipments_line_fk'],
      // SQLite does not report constraint names; Steward names them like Postgres does.
      sqlite: ['orders_customer_id_fkey', 'order_lines_order_id_fkey', 'shipments_order_id_line_no_fkey'],
    };
    const [orders, lines, shipments] = names[d.kind];
    expect(table('orders').foreignKeys).toEqual([
      { name: orders, columns: ['customer_id'], referencedSchema: d.schema, referencedTable: 'customers', referencedColumns: ['id'] },
    ]);
    expect(table('order_lines').foreignKeys).toEqual([
      { name: lines, columns: ['order_id'], referencedSchema: d.schema, referencedTable: 'orders', referencedColumns: ['id'] },
    ]);
    expect(table('shipments').foreignKeys).toEqual([
      { name: shipments, columns: ['order_id', 'line_no'], referencedSchema: d.schema, referencedTable: 'order_lines', referencedColumns: ['order_id', 'line_no'] },
    ]);
    expect(table('customers').foreignKeys).toEqual([]);
  });

  it('lists views with their columns and an unknown row estimate', () => {
    const v = table('customer_emails');
    expect(v.columns.map((c) => [c.name, c.typeClass])).toEqual([
      ['id', 'integer'],
      ['email', 'text'],
    ]);
    expect(v.rowEstimate).toBe(-1);
  });

  it('handles awkward identifiers: mixed case, spaces, quotes, reserved words, SQL in a name', async () => {
    expect(table(MIXED).columns.map((c) => c.name)).toEqual(['Weird Col', 'order', 'select']);
    expect(table(EVIL).columns.map((c) => c.name)).toEqual(['id', 'from', TICK]);
    expect(table(EVIL).primaryKey).toEqual(['id']);
    const mixed = await source.sample(table(MIXED), { limit: 10 });
    expect([...mixed].sort((a, b) => String(a['Weird Col']).localeCompare(String(b['Weird Col'])))).toEqual([
      { 'Weird Col': 'w1', order: 1, select: 's1' },
      { 'Weird Col': 'w2', order: 2, select: 's2' },
    ]);
    const evil = await source.sample(table(EVIL), { limit: 10, columns: ['from'] });
    expect(evil.map((r) => r.from).sort()).toEqual(['a', 'b', 'c']);
    const ticks = await source.sample(table(EVIL), { limit: 10, columns: [TICK, 'id'] });
    expect(ticks.map((r) => [r[TICK], Number(r.id)]).sort()).toEqual([['t1', 1], ['t2', 2], ['t3', 3]]);
    expect(await source.estimateRows(table(EVIL))).toBe(3);
    // Had the name been spliced into SQL, "drop table y" would have run.
    expect(await d.query(`select count(*) as n from y`)).toHaveLength(1);
  });

  it('returns values as the driver gives them (binary as bytes)', async () => {
    const [row] = await source.sample(table('customers'), { limit: 5, columns: ['email', 'avatar'] });
    expect(Object.keys(row!)).toEqual(['email', 'avatar']);
    expect(row!.email).toBe('a@example.com');
    expect(row!.avatar).toBeInstanceOf(Uint8Array);
    expect([...(row!.avatar as Uint8Array)]).toEqual([1, 2]);
  });

  it('filters by schema', async () => {
    expect(await source.introspect({ schemas: ['no_such_schema'] })).toEqual([]);
    expect((await source.introspect({ schemas: [d.schema] })).length).toBe(tables.length);
  });

  it('says what it can do, and close() can be called twice', async () => {
    expect(source.capabilities.supportsTablesample).toBe(d.pick({ postgres: true, mysql: false, sqlite: false }));
    expect(source.kind).toBe(d.kind);
    const other = await d.openSource();
    await other.close();
    await other.close();
    await expect(other.introspect()).rejects.toMatchObject({ code: 'SOURCE_QUERY' });
  });
});

const BIG = 50_000;

forEachDialect('estimate and sample', (d) => {
  let source: Source;
  let tables: readonly TableInfo[];
  const table = (name: string) => tables.find((t) => t.name === name)!;

  beforeAll(async () => {
    await d.exec(
      d.pick({
        postgres: `
          create table events (id integer primary key, kind text not null, payload text);
          create table nokey (n integer, label text);
          create table textkey (code varchar(20) primary key, label text);
          create table small (id integer primary key, label text);
          create table fresh (id integer primary key);
          create view recent as select id, kind from events;`,
        mysql: `
          create table events (id int primary key, kind text not null, payload text);
          create table nokey (n int, label text);
          create table textkey (code varchar(20) primary key, label text);
          create table small (id int primary key, label text);
          create table fresh (id int primary key);
          create view recent as select id, kind from events;`,
        sqlite: `
          create table events (id integer primary key, kind text not null, payload text);
          create table nokey (n integer, label text);
          create table textkey (code varchar(20) primary key, label text) without rowid;
          create table small (id integer primary key, label text);
          create table fresh (id integer primary key);
          create view recent as select id, kind from events;`,
      }),
    );
    const batch = 2000;
    for (let start = 1; start <= BIG; start += batch) {
      const ids = Array.from({ length: Math.min(batch, BIG - start + 1) }, (_, i) => start + i);
      await d.db.insertInto('events').values(ids.map((id) => ({ id, kind: id % 2 ? 'odd' : 'even', payload: `p${id}` }))).execute();
      await d.db.insertInto('nokey').values(ids.map((n) => ({ n, label: `l${n}` }))).execute();
      await d.db.insertInto('textkey').values(ids.map((n) => ({ code: `c${String(n).padStart(6, '0')}`, label: `l${n}` }))).execute();
    }
    await d.db.insertInto('small').values([1, 2, 3, 4, 5].map((id) => ({ id, label: `s${id}` }))).execute();
    await d.db.insertInto('fresh').values(Array.from({ length: 1234 }, (_, i) => ({ id: i + 1 }))).execute();
    await d.analyze('events', 'nokey', 'textkey', 'small');
    source = await d.openSource({ name: 'events-db' });
    tables = await source.introspect();
  });
  afterAll(async () => {
    await source?.close();
  });

  it('estimates rows from catalog statistics after ANALYZE, within tolerance', async () => {
    const tolerance = d.pick({ postgres: 0.1, mysql: 0.5, sqlite: 0 });
    for (const name of ['events', 'nokey', 'textkey']) {
      const est = await source.estimateRows(table(name));
      expect(Math.abs(est - BIG) / BIG, `${name}: estimate ${est}`).toBeLessThanOrEqual(tolerance);
      expect(table(name).rowEstimate).toBe(est);
    }
    expect(await source.estimateRows(table('small'))).toBe(5);
    expect(await source.estimateRows(table('recent'))).toBe(-1);
  });

  it('estimates a never-analyzed table by a bounded count', async () => {
    // Autovacuum may analyze it meanwhile; either way the answer is close.
    const est = await source.estimateRows(table('fresh'));
    expect(Math.abs(est - 1234)).toBeLessThanOrEqual(d.pick({ postgres: 60, mysql: 600, sqlite: 0 }));
  });

  it('draws a bounded sample of distinct rows from across a 50k-row table', async () => {
    const rows = await source.sample(table('events'), { limit: 200 });
    expect(rows.length).toBe(200);
    const ids = rows.map((r) => Number(r.id));
    expect(new Set(ids).size).toBe(200);
    expect(ids.some((id) => id <= BIG / 2)).toBe(true);
    expect(ids.some((id) => id > BIG / 2)).toBe(true);
    for (const r of rows) expect(r.payload).toBe(`p${String(r.id)}`);
  });

  it('gives different samples on different calls (random start points)', async () => {
    const a = (await source.sample(table('events'), { limit: 50, columns: ['id'] })).map((r) => Number(r.id));
    const b = (await source.sample(table('events'), { limit: 50, columns: ['id'] })).map((r) => Number(r.id));
    expect(a.sort().join()).not.toBe(b.sort().join());
  });

  it('reads only the requested columns, in order', async () => {
    const rows = await source.sample(table('events'), { limit: 10, columns: ['payload', 'id'] });
    expect(rows).toHaveLength(10);
    for (const r of rows) expect(Object.keys(r)).toEqual(['payload', 'id']);
  });

  it('returns the whole table when it is smaller than the limit', async () => {
    const rows = await source.sample(table('small'), { limit: 100 });
    expect(rows.map((r) => Number(r.id)).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('stays bounded on tables without an integer key and on views', async () => {
    for (const name of ['nokey', 'textkey', 'recent']) {
      const rows = await source.sample(table(name), { limit: 30 });
      expect(rows.length, name).toBe(30);
    }
    expect(await source.sample(table('events'), { limit: 0 })).toEqual([]);
  });

  it('rejects a negative limit with a clear error', async () => {
    await expect(source.sample(table('events'), { limit: -1 })).rejects.toMatchObject({ code: 'SOURCE_QUERY', message: expect.stringContaining('limit') });
  });

  it('reports a table that disappeared as SOURCE_NOT_FOUND naming it', async () => {
    const ghost: TableInfo = { ...table('small'), name: 'ghost_table' };
    const err = await source.sample(ghost, { limit: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err).toMatchObject({ code: 'SOURCE_NOT_FOUND', message: expect.stringContaining('ghost_table') });
  });
});

forEachDialect(
  'partitions and materialized views',
  (d) => {
    let source: Source;
    let tables: readonly TableInfo[];
    beforeAll(async () => {
      await d.exec(`
        create table visits (id integer not null, at date not null, ip text, primary key (id, at)) partition by range (at);
        create table visits_2024 partition of visits for values from ('2024-01-01') to ('2025-01-01');
        create table visits_2025 partition of visits for values from ('2025-01-01') to ('2026-01-01');
        insert into visits select g, date '2024-01-01' + (g % 700), '10.0.0.' || (g % 250) from generate_series(1, 30000) g;
        create materialized view visit_ips as select distinct ip from visits;
        create table refs (id integer primary key, visit_id integer, visit_at date, foreign key (visit_id, visit_at) references visits (id, at));
        analyze;`);
      source = await d.openSource();
      tables = await source.introspect();
    });
    afterAll(async () => {
      await source?.close();
    });

    it('lists a partitioned table once, with the sum of its partitions as estimate', () => {
      expect(tables.map((t) => [t.name, t.kind])).toEqual([
        ['refs', 'table'],
        ['visit_ips', 'view'],
        ['visits', 'table'],
      ]);
      const visits = tables.find((t) => t.name === 'visits')!;
      expect(visits.primaryKey).toEqual(['id', 'at']);
      expect(Math.abs(visits.rowEstimate - 30000)).toBeLessThanOrEqual(3000);
      const refs = tables.find((t) => t.name === 'refs')!;
      expect(refs.foreignKeys).toEqual([
        { name: 'refs_visit_id_visit_at_fkey', columns: ['visit_id', 'visit_at'], referencedSchema: 'public', referencedTable: 'visits', referencedColumns: ['id', 'at'] },
      ]);
      expect(tables.find((t) => t.name === 'visit_ips')!.rowEstimate).toBe(250);
    });

    it('samples partitioned tables and materialized views, bounded', async () => {
      const visits = tables.find((t) => t.name === 'visits')!;
      const rows = await source.sample(visits, { limit: 100 });
      expect(rows).toHaveLength(100);
      expect(new Set(rows.map((r) => r.id)).size).toBe(100);
      expect(await source.sample(tables.find((t) => t.name === 'visit_ips')!, { limit: 10 })).toHaveLength(10);
    });
  },
  { kinds: ['postgres'] },
);

describe.runIf(servers.postgres)('postgres: sampling a 1M-row table', () => {
  let source: Source;
  let name: string;
  beforeAll(async () => {
    const admin = await openSource({ name: 'admin', kind: 'postgres', url: PG_URL });
    name = uniqueName('steward_big');
    const rows = Number(process.env.STEWARD_TEST_BIG_ROWS ?? 1_000_000);
    const { sql } = await import('kysely');
    await sql`create table ${sql.id('public', name)} as select g as id, md5(g::text) as email from generate_series(1, ${rows}::int) g`.execute(admin.db);
    await sql`analyze ${sql.id('public', name)}`.execute(admin.db);
    await admin.close();
    source = await openSource({ name: 'big', kind: 'postgres', url: PG_URL }, { readonly: true });
  }, 300_000);
  afterAll(async () => {
    await source?.close();
    const admin = await openSource({ name: 'admin', kind: 'postgres', url: PG_URL });
    const { sql } = await import('kysely');
    await sql`drop table if exists ${sql.id('public', name)}`.execute(admin.db);
    await admin.close();
  });

  it('samples with TABLESAMPLE in well under a second, from across the table', async () => {
    const [table] = await source.introspect({ schemas: ['public'] }).then((ts) => ts.filter((t) => t.name === name));
    expect(table).toBeDefined();
    const started = performance.now();
    const rows = await source.sample(table!, { limit: 1000 });
    const ms = performance.now() - started;
    expect(rows).toHaveLength(1000);
    expect(ms).toBeLessThan(1000);
    const ids = rows.map((r) => Number(r.id));
    const total = table!.rowEstimate;
    expect(ids.some((id) => id < total / 3)).toBe(true);
    expect(ids.some((id) => id > (2 * total) / 3)).toBe(true);
  });
});

describe('bad input', () => {
  const password = 'Sup3r-Secret-pw';

  it.each([
    ['postgres', `postgres://postgres:${password}@127.0.0.1:1/test`],
    ['mysql', `mysql://root:${password}@127.0.0.1:1/test`],
  ] as const)('%s: an unreachable port is SOURCE_UNREACHABLE without the password', async (kind, url) => {
    const err = await openSource({ name: 'down', kind, url, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    const e = err as SourceError;
    expect(e.code).toBe('SOURCE_UNREACHABLE');
    expect(e.exitCode).toBe(4);
    expect(e.message).toContain('Source "down"');
    expect(e.message).toContain('connection refused');
    expect(e.message).toContain('127.0.0.1:1');
    expect(e.toUserString()).not.toContain(password);
    expect(e.message).toContain('***');
    expect(e.hint).toContain('Check that the server is running and that sources[].url points at it');
  });

  it('sqlite: a missing file is SOURCE_NOT_FOUND and no file is created', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-t-'));
    try {
      for (const url of [path.join(dir, 'typo.db'), `sqlite:${path.join(dir, 'typo.db')}`, `file://${path.join(dir, 'typo.db')}`, path.join(dir, 'no-dir', 'x.db')]) {
        const err = await openSource({ name: 'lite', kind: 'sqlite', url }).catch((e: unknown) => e);
        expect(err, url).toMatchObject({ code: 'SOURCE_NOT_FOUND', message: expect.stringContaining('the file does not exist') });
        expect((err as SourceError).message).toContain(dir);
        expect((err as SourceError).hint).toContain('never creates');
      }
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sqlite: a file that is not a database is reported, not opened', async () => {
    const file = path.join(os.tmpdir(), `${uniqueName()}.db`);
    fs.writeFileSync(file, 'this is a text file, not a database '.repeat(40));
    try {
      const err = await openSource({ name: 'lite', kind: 'sqlite', url: file }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SOURCE_NOT_FOUND', message: expect.stringContaining('not a SQLite database') });
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('sqlite: a read-only open refuses writes with SOURCE_PERMISSION', async () => {
    const file = path.join(os.tmpdir(), `${uniqueName()}.db`);
    const { default: Database } = await import('better-sqlite3');
    new Database(file).exec('create table t (id integer primary key)').close();
    const source = await openSource({ name: 'lite', kind: 'sqlite', url: `sqlite:${file}` }, { readonly: true });
    try {
      const { sql } = await import('kysely');
      const err = await sql`insert into t values (1)`.execute(source.db).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SQLITE_READONLY' });
      expect((await source.introspect()).map((t) => t.name)).toEqual(['t']);
    } finally {
      await source.close();
      fs.rmSync(file, { force: true });
    }
  });

  describe.runIf(servers.postgres)('postgres server', () => {
    it('a missing database is SOURCE_NOT_FOUND', async () => {
      const u = new URL(PG_URL);
      u.pathname = `/${uniqueName('steward_missing')}`;
      u.password = password;
      const err = await openSource({ name: 'pg', kind: 'postgres', url: u.toString() }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SOURCE_NOT_FOUND', message: expect.stringContaining('database does not exist') });
      expect((err as SourceError).toUserString()).not.toContain(password);
      expect((err as SourceError).hint).toContain('Create the database');
    });

    // 127.0.0.1 uses trust auth here, so any password is accepted: SOURCE_AUTH is shown
    // with a role that does not exist (SQLSTATE 28000); a wrong password is tested on MariaDB.
    it('an unknown role is SOURCE_AUTH', async () => {
      const u = new URL(PG_URL);
      u.username = uniqueName('steward_nobody');
      u.password = password;
      const err = await openSource({ name: 'pg', kind: 'postgres', url: u.toString() }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SOURCE_AUTH', message: expect.stringContaining(u.username) });
      expect((err as SourceError).toUserString()).not.toContain(password);
    });
  });

  describe.runIf(servers.mysql)('mariadb server', () => {
    it('a missing database is SOURCE_NOT_FOUND', async () => {
      const u = new URL(MYSQL_URL);
      u.pathname = `/${uniqueName('steward_missing')}`;
      const err = await openSource({ name: 'my', kind: 'mysql', url: u.toString() }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SOURCE_NOT_FOUND', message: expect.stringContaining('database does not exist') });
    });
  });
});

/** Roles and grants need a real server: PGlite has one user. */
forEachDialect(
  'permissions',
  (d) => {
    const role = uniqueName('steward_r');
    const password = 'Role-Pw-9f3a';
    let limited: Source | undefined;

    beforeAll(async () => {
      if (d.engine !== 'server') return;
      if (d.kind === 'postgres') {
        await d.exec(`
          create table readable (id integer primary key, email text);
          create table secret_cards (id integer primary key, card text);
          insert into readable values (1, 'a@example.com');
          insert into secret_cards values (1, '4111111111111111');
          create role ${role} login password '${password}';
          grant select on readable to ${role};`);
      } else {
        await d.exec(`
          create table readable (id int primary key, email text);
          create table secret_cards (id int primary key, card text);
          create table hidden (id int primary key);
          insert into readable values (1, 'a@example.com');
          insert into secret_cards values (1, '4111111111111111');
          create user '${role}'@'%' identified by '${password}';
          create user '${role}'@'localhost' identified by '${password}';
          grant select on \`${d.schema}\`.readable to '${role}'@'%';
          grant select on \`${d.schema}\`.readable to '${role}'@'localhost';
          grant insert on \`${d.schema}\`.secret_cards to '${role}'@'%';
          grant insert on \`${d.schema}\`.secret_cards to '${role}'@'localhost';`);
      }
    });
    afterAll(async () => {
      await limited?.close();
      if (d.engine !== 'server') return;
      if (d.kind === 'postgres') await d.exec(`drop owned by ${role}; drop role if exists ${role};`);
      else await d.exec(`drop user if exists '${role}'@'%'; drop user if exists '${role}'@'localhost';`);
    });

    const limitedUrl = () => {
      const u = new URL(d.url!);
      u.username = role;
      u.password = password;
      return u.toString();
    };

    it.skipIf(d.engine !== 'server')('a table the user cannot read is SOURCE_PERMISSION from sample(), naming the table', async () => {
      limited = await openSource({ name: 'limited', kind: d.kind, url: limitedUrl() }, { readonly: true });
      const tables = await limited.introspect();
      const secret = tables.find((t) => t.name === 'secret_cards');
      expect(secret, 'secret_cards is listed (Postgres lists every table; MariaDB those with any grant)').toBeDefined();
      const readable = tables.find((t) => t.name === 'readable')!;
      expect(await limited.sample(readable, { limit: 5 })).toEqual([{ id: 1, email: 'a@example.com' }]);

      const err = await limited.sample(secret!, { limit: 5 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      const e = err as SourceError;
      expect(e.code).toBe('SOURCE_PERMISSION');
      expect(e.source).toBe('limited');
      expect(e.message).toContain('secret_cards');
      expect(e.hint).toContain('Grant SELECT on');
      expect(e.hint).toContain('secret_cards');
      expect(e.hint).toContain(role);
      expect(e.hint).toContain('or exclude the table in steward.yml');
      expect(e.toUserString()).not.toContain(password);
      expect(e.toUserString()).not.toContain('4111111111111111');
    });

    it.skipIf(d.engine !== 'server' || d.kind !== 'mysql')('mariadb: a wrong password is SOURCE_AUTH without the password', async () => {
      const u = new URL(limitedUrl());
      u.password = 'Wrong-Pw-77';
      const err = await openSource({ name: 'limited', kind: 'mysql', url: u.toString() }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SOURCE_AUTH', message: expect.stringContaining('access denied') });
      expect((err as SourceError).toUserString()).not.toContain('Wrong-Pw-77');
      expect((err as SourceError).hint).toContain('user name and password');
    });

    it.skipIf(d.engine !== 'server' || d.kind !== 'mysql')('mariadb: a table with no grant at all is SOURCE_PERMISSION too', async () => {
      const admin = await d.openSource();
      const hidden = (await admin.introspect()).find((t) => t.name === 'hidden')!;
      await admin.close();
      const src = await openSource({ name: 'limited', kind: 'mysql', url: limitedUrl() });
      try {
        expect((await src.introspect()).map((t) => t.name)).not.toContain('hidden');
        await expect(src.sample(hidden, { limit: 5 })).rejects.toMatchObject({ code: 'SOURCE_PERMISSION', message: expect.stringContaining('hidden') });
      } finally {
        await src.close();
      }
    });

    it.skipIf(d.engine !== 'server')('a read-only source cannot write', async () => {
      const src = await openSource({ name: 'ro', kind: d.kind, url: d.url! }, { readonly: true });
      try {
        const { sql } = await import('kysely');
        const err = await sql`insert into readable values (2, 'b@example.com')`.execute(src.db).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect(await d.query('select id from readable where id = 2')).toEqual([]);
      } finally {
        await src.close();
      }
    });
  },
  { kinds: ['postgres', 'mysql'] },
);
