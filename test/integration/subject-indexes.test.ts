/**
 * The indexes `steward subject map` asks for, per dialect: a phone column without an
 * index on the expression the lookup compares is a finding whose CREATE INDEX, once run,
 * makes the finding go and (Postgres, SQLite) the lookup use the index; MySQL/MariaDB
 * says it scans. Postgres: free text in a large table gets a pg_trgm index suggestion
 * that the mention search then uses; `sources[].schemas` limits the map to those schemas.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InventoryItem } from '../../src/audit/types.js';
import { loadConfigText } from '../../src/config/load.js';
import { identifierMatch, mentionMatch, subjectTableSql } from '../../src/sources/subject-queries.js';
import type { Source } from '../../src/sources/types.js';
import { discoverSubjectMap } from '../../src/subjects/discover.js';
import { forEachDialect } from '../helpers/dialects.js';

const item = (schema: string, table: string, column: string, category: string): InventoryItem =>
  ({ source: 'shop', schema, table, column, dataType: 'text', category, risk: 'medium', confidence: 1, rowEstimate: 0, evidence: {}, examples: [], freeText: [], purpose: null }) as unknown as InventoryItem;

forEachDialect('subject map indexes (sidx)', (d) => {
  const opened: Source[] = [];
  afterAll(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
  });
  const configText = (schemas?: string[]) =>
    [
      'sources:',
      `  - { name: shop, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: shop-team${schemas ? `, schemas: [${schemas.join(', ')}]` : ''} }`,
      'subjects:',
      '  identifiers:',
      '    - { column: sidx_people.phone, kind: phone }',
    ].join('\n');
  const discover = async (schemas?: string[], inventory: InventoryItem[] = []) => {
    const source = await d.openSource();
    opened.push(source);
    const { config } = loadConfigText(configText(schemas), { env: {} });
    return (await discoverSubjectMap({ config, sources: new Map([['shop', source]]), store: null, freshInventory: async () => inventory })).map;
  };
  const phoneFinding = async () => (await discover()).findings.find((f) => f.rule === 'subjects.identifier-not-indexed' && f.location.name === 'sidx_people' && f.location.column === 'phone');
  /** The plan of Steward's own lookup statement (seq scans off on Postgres: the table is small). */
  const plan = async (where: ReturnType<typeof identifierMatch>, table: string): Promise<string> => {
    const t = { schema: d.schema, name: table };
    if (d.kind === 'postgres') {
      return d.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        const r = await sql<{ 'QUERY PLAN': string }>`explain select * from ${subjectTableSql(t, d.kind)} where ${where}`.execute(trx);
        return r.rows.map((x) => x['QUERY PLAN']).join('\n');
      });
    }
    const r = await sql<{ detail: string }>`explain query plan select * from ${subjectTableSql(t, d.kind)} where ${where}`.execute(d.db);
    return r.rows.map((x) => x.detail).join('\n');
  };

  beforeAll(async () => {
    const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    await d.exec(`create table sidx_people (id integer primary key, email ${text}, phone ${text})`);
    const rows = Array.from({ length: 300 }, (_, i) => `(${i + 1}, 'p${i}@example.org', '+44 20 7946 ${String(i).padStart(4, '0')}')`);
    await d.exec(`insert into sidx_people values ${rows.join(', ')}`);
    await d.analyze('sidx_people');
  });

  it('a phone column without an index on its lookup expression is a finding; its CREATE INDEX serves the lookup and the finding goes', async () => {
    const before = await phoneFinding();
    expect(before).toBeDefined();
    const lookup = identifierMatch(d.kind, 'phone', 'phone', ['442079460042', '02079460042']);
    if (d.kind === 'mysql') {
      // No index MariaDB can use for it: said to scan, with no statement to run.
      expect(before).toMatchObject({ severity: 'info' });
      expect(before!.message).toMatch(/cannot index, so every request scans the table/);
      expect(before!.remedy).not.toMatch(/CREATE INDEX/);
      return;
    }
    expect(before).toMatchObject({ severity: 'low' });
    const statement = /Add one: (.*)$/.exec(before!.remedy)![1]!;
    expect(statement).toMatch(/^CREATE INDEX /);
    expect(await plan(lookup, 'sidx_people')).not.toMatch(/sidx_people_phone|phone_subject|_expr/i);
    await d.exec(statement);
    await d.analyze('sidx_people');
    expect(await phoneFinding()).toBeUndefined();
    // The lookup still finds the row (the literals compare as the bound separators did). It runs first: on
    // SQLite, EXPLAIN alone does not notice that another connection changed the schema.
    const found = await sql<{ id: unknown }>`select id from ${subjectTableSql({ schema: d.schema, name: 'sidx_people' }, d.kind)} where ${lookup}`.execute(d.db);
    expect(found.rows.map((r) => Number(r.id))).toEqual([43]);
    expect(await plan(lookup, 'sidx_people')).toMatch(d.pick({ postgres: /Index Scan using sidx_people_replace_idx|Bitmap Index Scan on sidx_people_replace_idx/, mysql: /never/, sqlite: /USING INDEX sidx_people_phone_subject/ }));
  });

  it.skipIf(d.kind !== 'postgres' || d.engine === 'pglite')('Postgres: sources[].schemas limits the map to those schemas', async () => {
    await d.exec('create schema sidx_other; create table sidx_other.sidx_elsewhere (id integer primary key, email text)');
    const all = await discover();
    expect(all.tables.some((t) => t.schema === 'sidx_other')).toBe(true);
    const limited = await discover([d.schema]);
    expect(limited.tables.map((t) => t.schema).filter((s, i, a) => a.indexOf(s) === i)).toEqual([d.schema]);
    expect(limited.tables.some((t) => t.name === 'sidx_people')).toBe(true);
  });

  it.skipIf(d.kind !== 'postgres' || d.engine === 'pglite')('Postgres: free text in a large table gets a pg_trgm index suggestion, which the mention search then uses', async () => {
    await d.exec(`create table sidx_tickets (id integer primary key, body text);
      insert into sidx_tickets select g, 'ticket ' || g || ' from p' || (g % 300) || '@example.org' from generate_series(1, 12000) g;`);
    await d.analyze('sidx_tickets');
    const inventory = [item(d.schema, 'sidx_people', 'email', 'contact.email'), item(d.schema, 'sidx_tickets', 'body', 'content.free_text')];
    const finding = async () => (await discover(undefined, inventory)).findings.find((f) => f.rule === 'subjects.free-text-not-indexed' && f.location.name === 'sidx_tickets');
    const before = await finding();
    expect(before).toMatchObject({ severity: 'info', location: { column: 'body' } });
    const statement = /Add one: (.*)$/.exec(before!.remedy)![1]!;
    expect(statement).toBe(`CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX ON "${d.schema}"."sidx_tickets" USING gin (lower("body") gin_trgm_ops);`);
    await d.exec(statement);
    await d.analyze('sidx_tickets');
    expect(await finding()).toBeUndefined();
    const search = mentionMatch('body', ['p42@example.org', '+442079460042']);
    const r = await sql<{ 'QUERY PLAN': string }>`explain select * from ${subjectTableSql({ schema: d.schema, name: 'sidx_tickets' }, d.kind)} where ${search}`.execute(d.db);
    expect(r.rows.map((x) => x['QUERY PLAN']).join('\n')).toMatch(/Bitmap Index Scan on sidx_tickets_lower_idx/);
  });
  it('mention search in the form of each dialect: `%`, `_`, `!` and `\\` in an identifier match only themselves, any case; on Postgres the trigram index serves it', async () => {
    const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    await d.exec(`create table sidx_notes (id integer primary key, body ${text})`);
    const bodies = ['mail A_B@X.org here', 'mail axb@x.org here', 'pct 50%off', 'pct 50xoff', 'back a\\b!c', 'back ab!c', 'back a\\bxc', 'nothing'];
    await d.db.insertInto(`sidx_notes`).values(bodies.map((body, i) => ({ id: i + 1, body }))).execute();
    const t = { schema: d.schema, name: 'sidx_notes' };
    const ids = async (values: string[]) => (await sql<{ id: unknown }>`select id from ${subjectTableSql(t, d.kind)} where ${mentionMatch('body', values, d.kind)}`.execute(d.db)).rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(await ids(['a_b@x.org'])).toEqual([1]);
    expect(await ids(['50%off'])).toEqual([3]);
    expect(await ids(['a\\b!c'])).toEqual([5]);
    expect(await ids(['a_b@x.org', '50%off', 'zzz'])).toEqual([1, 3]);
    if (d.kind === 'postgres') {
      await d.exec(`create index sidx_notes_trgm on sidx_notes using gin (lower(body) gin_trgm_ops)`);
      expect(await plan(mentionMatch('body', ['a_b@x.org', '50%off'], d.kind), 'sidx_notes')).toMatch(/Bitmap Index Scan on sidx_notes_trgm/);
    }
  });
});
