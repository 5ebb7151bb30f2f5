import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, FREE_TEXT, LABELLED_TABLES, LABELS } from '../../../bench/corpus/labelled.js';
import { loadCorpus } from '../../../bench/corpus/load.js';
import { TAXONOMY } from '../../../src/detection/taxonomy.js';

describe('labelled corpus', () => {
  it('is big and mixed enough', () => {
    expect(LABELLED_TABLES.length).toBeGreaterThanOrEqual(8);
    expect(LABELS.length).toBeGreaterThanOrEqual(60);
    expect(LABELS.filter((l) => l.label !== null).length).toBeGreaterThanOrEqual(20);
    expect(LABELS.filter((l) => l.label === null).length).toBeGreaterThanOrEqual(20);
    // every category a detector must find appears at least once
    const used = new Set(LABELS.map((l) => l.label));
    for (const cat of [
      'contact.email', 'contact.phone', 'contact.postal_address', 'contact.postcode', 'identity.person_name',
      'identity.date_of_birth', 'identity.government_id', 'financial.card', 'financial.bank_account',
      'network.ip_address', 'location.geolocation', 'credentials.secret', FREE_TEXT,
    ]) {
      expect(used.has(cat), cat).toBe(true);
    }
  });

  it('labels every column with a taxonomy category or null', () => {
    for (const l of LABELS) {
      const where = `${l.table}.${l.column}`;
      if (l.label !== null) expect(TAXONOMY.has(l.label), where).toBe(true);
      if (l.label === FREE_TEXT) {
        expect(l.embedded?.length, where).toBeGreaterThan(0);
        for (const e of l.embedded ?? []) expect(TAXONOMY.has(e) && e !== FREE_TEXT, `${where} embeds ${e}`).toBe(true);
      } else {
        expect(l.embedded, where).toBeUndefined();
      }
      for (const d of DIALECTS) expect(l.sqlType[d], `${where} ${d}`).toMatch(/^[A-Za-z][A-Za-z ]*(\(\d+(,\d+)?\))?$/);
    }
  });

  it('has unique table names and unique column names per table, with a primary key each', () => {
    const tables = LABELLED_TABLES.map((t) => t.name);
    expect(new Set(tables).size).toBe(tables.length);
    for (const t of LABELLED_TABLES) {
      const cols = t.columns.map((c) => c.column);
      expect(new Set(cols).size, t.name).toBe(cols.length);
      expect(t.columns.filter((c) => c.primaryKey).length, t.name).toBe(1);
      for (const c of t.columns) expect(c.table).toBe(t.name);
    }
  });

  it('includes the tricky columns', () => {
    const label = (table: string, column: string) => LABELS.find((l) => l.table === table && l.column === column)?.label;
    // non-English names
    expect(label('clientes', 'correo')).toBe('contact.email');
    expect(label('kunden', 'geburtsdatum')).toBe('identity.date_of_birth');
    expect(label('utilisateurs', 'courriel')).toBe('contact.email');
    // names that suggest personal data, values that are not
    expect(label('customers', 'email_sent')).toBeNull();
    expect(label('customers', 'phone_verified_at')).toBeNull();
    expect(label('customers', 'card_count')).toBeNull();
    expect(label('products', 'name')).toBeNull();
    // personal data under uninformative names
    expect(label('legacy_import', 'col7')).toBe('identity.government_id');
    expect(label('legacy_import', 'data')).toBe('contact.email');
    expect(label('legacy_import', 'value')).toBe('contact.phone');
    expect(label('accounts', 'contact')).toBe('contact.email');
  });

  it('generates the same rows for the same seed, and other rows for another seed', () => {
    for (const t of LABELLED_TABLES) {
      const a = [...t.rows(11, 40)];
      const b = [...t.rows(11, 40)];
      expect(a).toHaveLength(40);
      expect(JSON.stringify(b), t.name).toBe(JSON.stringify(a));
      const c = [...t.rows(12, 40)];
      expect(JSON.stringify(c), t.name).not.toBe(JSON.stringify(a));
      for (const row of a) expect(Object.keys(row)).toEqual(t.columns.map((col) => col.column));
    }
  });

  it('fills personal columns mostly with values and free text sometimes with personal data', () => {
    for (const t of LABELLED_TABLES) {
      const rows = [...t.rows(3, 200)];
      for (const c of t.columns) {
        const filled = rows.filter((r) => r[c.column] !== null).length;
        expect(filled, `${t.name}.${c.column}`).toBeGreaterThanOrEqual(c.label ? 120 : 100);
      }
    }
    const body = [...LABELLED_TABLES.find((t) => t.name === 'support_messages')!.rows(3, 200)].map((r) => String(r.body));
    const withPii = body.filter((b) => b.includes('@') || /\d{3}/.test(b)).length;
    expect(withPii).toBeGreaterThan(60);
    expect(withPii).toBeLessThan(140);
  });

  it('loads into SQLite through Kysely with the requested row counts', async () => {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    try {
      await loadCorpus(db, 'sqlite', { rows: 250, seed: 5 });
      for (const t of LABELLED_TABLES) {
        const r = await db.selectFrom(t.name).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
        expect(r.n, t.name).toBe(250);
        const info = await sql<{ name: string; type: string }>`SELECT name, type FROM pragma_table_info(${t.name})`.execute(db);
        expect(info.rows.map((c) => c.name)).toEqual(t.columns.map((c) => c.column));
        expect(info.rows.map((c) => c.type)).toEqual(t.columns.map((c) => c.sqlType.sqlite));
      }
      // loading again replaces the tables rather than appending
      await loadCorpus(db, 'sqlite', { rows: 10, seed: 5, tables: ['customers'] });
      const again = await db.selectFrom('customers').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
      expect(again.n).toBe(10);
      const first = await db.selectFrom('customers').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
      const expected = [...LABELLED_TABLES.find((t) => t.name === 'customers')!.rows(5, 1)][0]!;
      expect(first.email).toBe(expected.email);
      expect(first.email_sent).toBe(expected.email_sent ? 1 : 0);
    } finally {
      await db.destroy();
    }
  });
});
