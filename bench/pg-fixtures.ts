/** Large Postgres tables for the audit benchmark, created once and reused. */
import pg from 'pg';

export const schemaFor = (n: number): string => `bench_audit_${n}`;

export async function ensureBenchTable(URL_: string, n: number): Promise<void> {
  const client = new pg.Client({ connectionString: URL_ });
  await client.connect();
  try {
    const schema = schemaFor(n);
    const have = await client.query<{ n: string }>(
      `select reltuples::bigint as n from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname = $1 and c.relname = 'customers'`,
      [schema],
    );
    if (have.rows[0] && Math.abs(Number(have.rows[0].n) - n) < n * 0.05) return;
    process.stderr.write(`creating ${schema}.customers with ${n} rows…\n`);
    await client.query(`drop schema if exists ${schema} cascade; create schema ${schema}`);
    await client.query(`create table ${schema}.customers (
      id bigint primary key, email text not null, phone text, full_name text, date_of_birth date,
      country char(2), created_at timestamptz not null, lifetime_value numeric(12,2), notes text)`);
    await client.query(`set maintenance_work_mem = '512MB'`);
    const first = ['Anna', 'John', 'Maria', 'Lukas', 'Camille', 'José', 'Emma', 'Noah', 'Sofia', 'Liam'];
    const last = ['Schmidt', 'Smith', 'García', 'Dubois', 'Rossi', 'Müller', 'Brown', 'Martin', 'López', 'Jones'];
    await client.query(
      `insert into ${schema}.customers
       select i, 'user' || i || '@example.com', '+44 20 7946 ' || lpad((i % 10000)::text, 4, '0'),
              ($2::text[])[1 + i % 10] || ' ' || ($3::text[])[1 + (i / 10) % 10],
              date '1950-01-01' + (i % 20000)::int, (array['GB','DE','FR','ES','US'])[1 + i % 5],
              now() - (i % 1000) * interval '1 day', (i % 100000) / 100.0,
              case when i % 7 = 0 then 'Customer asked to be called back on +44 20 7946 0' || lpad((i % 1000)::text, 3, '0') else 'Prefers delivery in the afternoon' end
       from generate_series(1, $1::bigint) i`,
      [n, first, last],
    );
    await client.query(`analyze ${schema}.customers`);
  } finally {
    await client.end();
  }
}


/**
 * The same rows as `customers`, in `customers_uq` with a unique index on lower(email), as
 * most customer tables have: the integrity check's duplicate count is skipped there.
 * Created once from `customers` and reused.
 */
export async function ensureUniqueEmailTable(URL_: string, n: number): Promise<void> {
  const client = new pg.Client({ connectionString: URL_ });
  await client.connect();
  try {
    const schema = schemaFor(n);
    const have = await client.query<{ n: string }>(
      `select reltuples::bigint as n from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname = $1 and c.relname = 'customers_uq'`,
      [schema],
    );
    if (have.rows[0] && Math.abs(Number(have.rows[0].n) - n) < n * 0.05) return;
    process.stderr.write(`creating ${schema}.customers_uq with ${n} rows…\n`);
    await client.query(`drop table if exists ${schema}.customers_uq; create table ${schema}.customers_uq (like ${schema}.customers including all)`);
    await client.query(`set maintenance_work_mem = '512MB'`);
    await client.query(`insert into ${schema}.customers_uq select * from ${schema}.customers`);
    await client.query(`create unique index customers_uq_email on ${schema}.customers_uq (lower(email))`);
    await client.query(`analyze ${schema}.customers_uq`);
  } finally {
    await client.end();
  }
}
