/**
 * The data-subject fixture for `npm run bench -- subject`: N subjects (customers) and
 * 10·N related rows in two Postgres schemas and one SQLite file, created once per size
 * and reused (a marker table per store records the size and the fixture version).
 *
 * Postgres, one database per size (`steward_bench_subject_<N>`, so a quick small run
 * leaves the full-size fixture alone, and no other schema of the server gets mapped):
 *   bench_shop  (foreign keys everywhere)
 *     customers    N      id, email (mixed case), phone (+44 74xx xxxxxx, a UK mobile), full_name, created_at
 *     addresses    1.5·N  → customers (every customer one, every second customer two)
 *     orders       2·N    → customers, → addresses (shipping); customers drawn by a hash (0–10 orders each),
 *                         except one order in a hundred, which goes to customers 1..100 (N/5000 each, 200 at
 *                         N = 1M: heavy buyers; only when N ≥ 10,000)
 *     order_items  3.5·N  → orders, primary key (order_id, line_no); 1–3 lines per order
 *     tickets      0.5·N  → customers; body: free text that quotes the customer's email or phone
 *                         in 40% of tickets, another customer's email in 20% (a mention of someone else)
 *   bench_crm   (no foreign key at all: notes.contact_id → contacts.id is inferred)
 *     contacts     0.6·N  every second customer by email (other case) and phone (national format),
 *                         and every tenth by phone only (no email: found through the customer's phone)
 *     notes        N      contact_id (hash), body: free text, 20% quote the contact's phone
 * SQLite, `<tmp>/steward-bench-subject/marketing-<N>.db`, keyed by email (no key to the shop):
 *     subscribers  0.3·N  three customers in ten, email lower-cased
 *     events       0.6·N  email of a subscriber (hash), as typed (some upper-case)
 * Related rows: 1.5 + 2 + 3.5 + 0.5 + 0.6 + 1 + 0.3 + 0.6 = 10·N.
 *
 * Indexes as a deployment would have them: primary keys; `lower(email)` on every table
 * searched by email; every foreign-key column (and notes.contact_id). No index on phones
 * (the map says why: phones are compared by their digits, written any way) and none on
 * free text (see the benchmark's EXPLAIN output for what that costs).
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

/** Bump when the fixture's shape changes: older fixtures are rebuilt. */
export const FIXTURE_VERSION = 3;
/** Customers 1..HEAVY have about 200 orders each (one order in a hundred is theirs): the long tail of B2B buyers. */
export const HEAVY = 100;
export const SHOP = 'bench_shop';
export const CRM = 'bench_crm';

export interface Fixture {
  readonly url: string;
  readonly sqliteFile: string;
  readonly subjects: number;
  /** Rows per table, as loaded. */
  readonly rows: Readonly<Record<string, number>>;
  /** Seconds spent loading (0 when reused). */
  readonly loadSeconds: number;
  readonly reused: boolean;
}

export const defaultDatabaseUrl = (base: string, n: number): string => {
  const u = new URL(base);
  u.pathname = `/steward_bench_subject_${n}`;
  return u.toString();
};

const FIRST = ['anna', 'john', 'maria', 'lukas', 'camille', 'jose', 'emma', 'noah', 'sofia', 'liam'];
const LAST = ['schmidt', 'smith', 'garcia', 'dubois', 'rossi', 'muller', 'brown', 'martin', 'lopez', 'jones'];

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  await withClient(admin.toString(), async (c) => {
    const have = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (have.rowCount === 0) await c.query(`create database "${name.replace(/"/g, '""')}"`);
  });
}

async function pgMarker(url: string): Promise<{ subjects: number; version: number; rows: Record<string, number> } | null> {
  return withClient(url, async (c) => {
    const t = await c.query(`select to_regclass('${SHOP}.fixture_marker') as t`);
    if (!t.rows[0]?.t) return null;
    const r = await c.query<{ subjects: string; version: number; rows: Record<string, number> }>(`select subjects, version, rows from ${SHOP}.fixture_marker`);
    return r.rows[0] ? { subjects: Number(r.rows[0].subjects), version: r.rows[0].version, rows: r.rows[0].rows } : null;
  });
}

function sqliteMarker(file: string): { subjects: number; version: number } | null {
  if (!existsSync(file)) return null;
  const db = new Database(file, { readonly: true });
  try {
    const t = db.prepare(`select name from sqlite_master where type = 'table' and name = 'fixture_marker'`).get();
    if (!t) return null;
    return (db.prepare('select subjects, version from fixture_marker').get() as { subjects: number; version: number } | undefined) ?? null;
  } finally {
    db.close();
  }
}

const step = async <T>(what: string, fn: () => Promise<T> | T): Promise<T> => {
  const t = performance.now();
  const r = await fn();
  process.stderr.write(`  ${what}: ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  return r;
};

async function loadPostgres(url: string, n: number): Promise<Record<string, number>> {
  return withClient(url, async (c) => {
    await c.query(`set maintenance_work_mem = '512MB'`);
    await c.query(`set work_mem = '64MB'`);
    await c.query(`drop schema if exists ${SHOP} cascade; drop schema if exists ${CRM} cascade; create schema ${SHOP}; create schema ${CRM}`);
    const half = Math.floor(n / 2);
    // A customer drawn for row k of a table (the same hash spreads orders, tickets and notes: 0–10 per customer).
    const pick = (k: string, salt: number, of: string) => `(1 + (abs(hashint8(${k} + ${salt})::bigint) % ${of}))`;

    await c.query(`create table ${SHOP}.customers (id bigint primary key, email text not null, phone text, full_name text not null, created_at timestamptz not null)`);
    await step('customers', () =>
      c.query(
        `insert into ${SHOP}.customers
         select i,
                case when i % 3 = 0 then initcap(f) || '.' || initcap(l) else f || '.' || l end || i || '@' || (array['example.com','example.org','example.net','mail.example','shop.example'])[1 + i % 5],
                '+44 74' || lpad((i / 1000000)::text, 2, '0') || ' ' || lpad((i % 1000000)::text, 6, '0'),
                initcap(f) || ' ' || initcap(l),
                timestamptz '2020-01-01' + (i % 1500) * interval '1 day'
         from (select i, ($2::text[])[1 + i % 10] f, ($3::text[])[1 + (i / 10) % 10] l from generate_series(1, $1::bigint) i) s`,
        [n, FIRST, LAST],
      ),
    );
    await c.query(`create table ${SHOP}.addresses (id bigint primary key, customer_id bigint not null, line1 text not null, city text not null, postcode text not null)`);
    await step('addresses', () =>
      c.query(
        `insert into ${SHOP}.addresses
         select j, case when j <= $1 then j else (j - $1) * 2 end, (j % 200 + 1) || ' ' || (array['High Street','Station Road','Church Lane','Mill Road','Park Avenue'])[1 + j % 5],
                (array['London','Leeds','Bristol','York','Bath','Derby'])[1 + j % 6], 'AB' || (j % 90 + 10) || ' ' || (j % 9) || 'CD'
         from generate_series(1, $1::bigint + $2::bigint) j`,
        [n, half],
      ),
    );
    await c.query(`create table ${SHOP}.orders (id bigint primary key, customer_id bigint not null, shipping_address_id bigint, placed_at timestamptz not null, total numeric(10,2) not null)`);
    await step('orders', () =>
      c.query(
        `insert into ${SHOP}.orders
         select k, cu, case when cu % 2 = 0 and k % 3 = 0 then $1::bigint + cu / 2 else cu end, timestamptz '2021-01-01' + (k % 1400) * interval '1 day', (k % 50000) / 100.0
         from (select k, case when k % 100 = 0 and $1::bigint >= 100 * $2::bigint then 1 + (k / 100) % $2::bigint else ${pick('k', 0, '$1::bigint')} end cu from generate_series(1, 2 * $1::bigint) k) s`,
        [n, HEAVY],
      ),
    );
    await c.query(`create table ${SHOP}.order_items (order_id bigint not null, line_no int not null, sku text not null, quantity int not null, price numeric(10,2) not null, primary key (order_id, line_no))`);
    await step('order_items', () =>
      c.query(
        `insert into ${SHOP}.order_items
         select o, g, 'SKU-' || lpad(((o * 7 + g) % 5000)::text, 5, '0'), 1 + (o + g) % 3, ((o * 13 + g) % 10000) / 100.0
         from generate_series(1, 2 * $1::bigint) o cross join lateral generate_series(1, (array[1,2,3,1])[1 + o % 4]) g`,
        [n],
      ),
    );
    await c.query(`create table ${SHOP}.tickets (id bigint primary key, customer_id bigint not null, subject text not null, body text not null, created_at timestamptz not null)`);
    await step('tickets', () =>
      c.query(
        `insert into ${SHOP}.tickets
         select t.t, cu.id, (array['Invoice','Delivery','Account','Returns','Other'])[1 + t.t % 5],
                case t.t % 5
                  when 0 then 'Please send the invoice to ' || cu.email || ' from now on.'
                  when 1 then 'My number changed, please call me on ' || cu.phone || ' after 5pm.'
                  when 2 then 'The parcel arrived damaged, the box was open.'
                  when 3 then 'Could you also update the account of my partner, ' || other.email || '? Thanks.'
                  else 'Where is my order? It has been two weeks.' end,
                timestamptz '2022-01-01' + (t.t % 1000) * interval '1 day'
         from (select t, ${pick('t', 7777777, '$1::bigint')} cu, ${pick('t', 3333333, '$1::bigint')} ot from generate_series(1, $2::bigint) t) t
         join ${SHOP}.customers cu on cu.id = t.cu join ${SHOP}.customers other on other.id = t.ot`,
        [n, half],
      ),
    );
    // The CRM: no foreign keys. Contact ids 1..N/2 for the even customers, then the phone-only ones.
    await c.query(`create table ${CRM}.contacts (id bigint primary key, email text, phone text, full_name text not null, company text)`);
    const tenth = Math.floor(n / 10) + (n % 10 >= 1 ? 1 : 0);
    await step('contacts', async () => {
      await c.query(
        `insert into ${CRM}.contacts
         select cu.id / 2, case when cu.id % 4 = 0 then upper(cu.email) else cu.email end,
                '074' || lpad((cu.id / 1000000)::text, 2, '0') || ' ' || lpad((cu.id % 1000000)::text, 6, '0'), cu.full_name, (array['Acme Ltd','Globex','Initech',null])[1 + cu.id % 4]
         from ${SHOP}.customers cu where cu.id % 2 = 0`,
      );
      await c.query(
        `insert into ${CRM}.contacts
         select $1::bigint + (cu.id + 9) / 10, null, '+4474' || lpad((cu.id / 1000000)::text, 2, '0') || lpad((cu.id % 1000000)::text, 6, '0'), split_part(cu.full_name, ' ', 1) || ' (phone only)', null
         from ${SHOP}.customers cu where cu.id % 10 = 1`,
        [half],
      );
    });
    const contacts = half + tenth;
    await c.query(`create table ${CRM}.notes (id bigint primary key, contact_id bigint not null, body text not null, created_at timestamptz not null)`);
    await step('notes', () =>
      c.query(
        `insert into ${CRM}.notes
         select s.k, co.id, case when s.k % 5 = 0 then 'Left a voicemail on ' || co.phone || '.' else (array['Interested in the renewal.','Asked for a quote.','Not interested this year.','Sent the brochure.'])[1 + s.k % 4] end,
                timestamptz '2023-01-01' + (s.k % 700) * interval '1 day'
         from (select k, ${pick('k', 5555555, '$2::bigint')} co from generate_series(1, $1::bigint) k) s join ${CRM}.contacts co on co.id = s.co`,
        [n, contacts],
      ),
    );
    // Foreign keys after the load: one validating pass each instead of a trigger per inserted row.
    await step('foreign keys', async () => {
      for (const [t, col, parent] of [
        ['addresses', 'customer_id', 'customers'],
        ['orders', 'customer_id', 'customers'],
        ['orders', 'shipping_address_id', 'addresses'],
        ['order_items', 'order_id', 'orders'],
        ['tickets', 'customer_id', 'customers'],
      ] as const)
        await c.query(`alter table ${SHOP}.${t} add constraint ${t}_${col}_fkey foreign key (${col}) references ${SHOP}.${parent}(id)`);
    });
    await step('indexes', async () => {
      for (const q of [
        `create unique index customers_email_lower on ${SHOP}.customers (lower(email))`,
        `create index addresses_customer_id on ${SHOP}.addresses (customer_id)`,
        `create index orders_customer_id on ${SHOP}.orders (customer_id)`,
        `create index orders_shipping_address_id on ${SHOP}.orders (shipping_address_id)`,
        `create index tickets_customer_id on ${SHOP}.tickets (customer_id)`,
        `create index contacts_email_lower on ${CRM}.contacts (lower(email))`,
        `create index notes_contact_id on ${CRM}.notes (contact_id)`,
      ])
        await c.query(q);
    });
    await step('vacuum analyze', async () => {
      for (const t of [`${SHOP}.customers`, `${SHOP}.addresses`, `${SHOP}.orders`, `${SHOP}.order_items`, `${SHOP}.tickets`, `${CRM}.contacts`, `${CRM}.notes`]) await c.query(`vacuum analyze ${t}`);
    });
    const rows: Record<string, number> = {};
    for (const t of ['customers', 'addresses', 'orders', 'order_items', 'tickets']) rows[`${SHOP}.${t}`] = Number((await c.query(`select count(*) n from ${SHOP}.${t}`)).rows[0].n);
    for (const t of ['contacts', 'notes']) rows[`${CRM}.${t}`] = Number((await c.query(`select count(*) n from ${CRM}.${t}`)).rows[0].n);
    return rows;
  });
}

/** The marketing database: one transaction, prepared statements; emails taken from the shop. */
async function loadSqlite(url: string, file: string, n: number): Promise<Record<string, number>> {
  const emails = await withClient(url, async (c) => (await c.query<{ email: string }>(`select email from ${SHOP}.customers where id % 10 in (0, 3, 7) order by id`)).rows.map((r) => r.email));
  const tmp = `${file}.loading`;
  rmSync(tmp, { force: true });
  const db = new Database(tmp);
  try {
    db.pragma('journal_mode = wal');
    db.pragma('synchronous = normal');
    db.exec(`create table subscribers (id integer primary key, email text not null, status text not null, subscribed_at text not null);
      create table events (id integer primary key, email text not null, kind text not null, campaign text not null, at text not null);
      create table fixture_marker (subjects integer not null, version integer not null);`);
    const sub = db.prepare('insert into subscribers values (?, ?, ?, ?)');
    const ev = db.prepare('insert into events values (?, ?, ?, ?, ?)');
    const kinds = ['open', 'click', 'open', 'unsubscribe-view', 'open', 'click'];
    let events = 0;
    // The same spread as Postgres' hashes is not needed here: a small LCG picks each event's subscriber.
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 0x100000000);
    db.transaction(() => {
      emails.forEach((e, i) => sub.run(i + 1, e.toLowerCase(), i % 9 === 0 ? 'unsubscribed' : 'active', `2023-${String(1 + (i % 12)).padStart(2, '0')}-15`));
      const total = 2 * emails.length;
      for (let k = 1; k <= total; k++) {
        const e = emails[Math.floor(rand() * emails.length)]!;
        ev.run(k, k % 7 === 0 ? e.toUpperCase() : e.toLowerCase(), kinds[k % kinds.length]!, `campaign-${k % 40}`, `2024-${String(1 + (k % 12)).padStart(2, '0')}-${String(1 + (k % 28)).padStart(2, '0')}`);
        events++;
      }
      db.prepare('insert into fixture_marker values (?, ?)').run(n, FIXTURE_VERSION);
    })();
    db.exec('create index subscribers_email_lower on subscribers (lower(email)); create index events_email_lower on events (lower(email)); analyze;');
    db.pragma('wal_checkpoint(truncate)');
    db.pragma('journal_mode = delete');
    db.close();
    rmSync(file, { force: true });
    renameSync(tmp, file);
    return { 'marketing.subscribers': emails.length, 'marketing.events': events };
  } catch (e) {
    if (db.open) db.close();
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The fixture of `n` subjects: reused when both markers say so, else (re)built. */
export async function ensureSubjectFixture(baseUrl: string, n: number, options: { readonly url?: string; readonly dir?: string } = {}): Promise<Fixture> {
  const url = options.url ?? defaultDatabaseUrl(baseUrl, n);
  const dir = options.dir ?? path.join(os.tmpdir(), 'steward-bench-subject');
  mkdirSync(dir, { recursive: true });
  const sqliteFile = path.join(dir, `marketing-${n}.db`);
  await ensureDatabase(url);
  const pm = await pgMarker(url);
  const sm = sqliteMarker(sqliteFile);
  const pgOk = pm !== null && pm.subjects === n && pm.version === FIXTURE_VERSION;
  const sqliteOk = sm !== null && sm.subjects === n && sm.version === FIXTURE_VERSION;
  if (pgOk && sqliteOk) {
    const rows = { ...pm.rows, ...sqliteCounts(sqliteFile) };
    return { url, sqliteFile, subjects: n, rows, loadSeconds: 0, reused: true };
  }
  const t = performance.now();
  let rows: Record<string, number>;
  if (pgOk) {
    rows = { ...pm.rows };
  } else {
    process.stderr.write(`loading the Postgres fixture (${n.toLocaleString('en')} subjects) into ${new URL(url).pathname.slice(1)}…\n`);
    rows = await loadPostgres(url, n);
    await withClient(url, async (c) => {
      await c.query(`create table ${SHOP}.fixture_marker (subjects bigint not null, version int not null, rows jsonb not null)`);
      await c.query(`insert into ${SHOP}.fixture_marker values ($1, $2, $3)`, [n, FIXTURE_VERSION, JSON.stringify(rows)]);
    });
  }
  if (!sqliteOk || !pgOk) {
    process.stderr.write(`loading the SQLite fixture into ${sqliteFile}…\n`);
    await step('marketing (SQLite)', () => loadSqlite(url, sqliteFile, n));
  }
  rows = { ...rows, ...sqliteCounts(sqliteFile) };
  return { url, sqliteFile, subjects: n, rows, loadSeconds: (performance.now() - t) / 1000, reused: false };
}

function sqliteCounts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    return {
      'marketing.subscribers': (db.prepare('select count(*) n from subscribers').get() as { n: number }).n,
      'marketing.events': (db.prepare('select count(*) n from events').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}
