import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoDatabase, demoConfigYaml, type DemoSummary } from '../../../src/demo/build-demo.js';
import { configSchema } from '../../../src/config/schema.js';
import { categoryMatches } from '../../../src/detection/taxonomy.js';

// ---- independent checksum implementations (deliberately not shared with the generators)

function luhnValid(pan: string): boolean {
  if (!/^\d{13,19}$/.test(pan)) return false;
  let sum = 0;
  const digits = pan.split('').reverse().map(Number);
  digits.forEach((d, i) => {
    if (i % 2 === 1) {
      const x = d * 2;
      sum += x > 9 ? x - 9 : x;
    } else sum += d;
  });
  return sum % 10 === 0;
}

function cardBrandOk(pan: string): boolean {
  if (pan.startsWith('4')) return pan.length === 16;
  if (/^3[47]/.test(pan)) return pan.length === 15;
  const p2 = Number(pan.slice(0, 2));
  const p4 = Number(pan.slice(0, 4));
  return pan.length === 16 && ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720));
}

function ssnValid(s: string): boolean {
  const m = /^(\d{3})-(\d{2})-(\d{4})$/.exec(s);
  if (!m) return false;
  const area = Number(m[1]);
  return area !== 0 && area !== 666 && area < 900 && m[2] !== '00' && m[3] !== '0000';
}

function ninoValid(s: string): boolean {
  const m = /^([A-CEGHJ-PR-TW-Z])([A-CEGHJ-NPR-TW-Z])\d{6}[A-D]$/.exec(s);
  return m !== null && !['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(s.slice(0, 2));
}

function dniValid(s: string): boolean {
  const m = /^([XYZ]?)(\d{7,8})([A-Z])$/.exec(s);
  if (!m) return false;
  const num = m[1] ? String('XYZ'.indexOf(m[1])) + m[2] : m[2]!;
  if (num.length !== 8) return false;
  return 'TRWAGMYFPDXBNJZSQVHLCKE'.charAt(Number(num) % 23) === m[3];
}

function nirValid(s: string): boolean {
  if (!/^[12]\d{14}$/.test(s)) return false;
  const key = Number(s.slice(13));
  return key === 97 - Number(BigInt(s.slice(0, 13)) % 97n);
}

function steuerIdValid(s: string): boolean {
  if (!/^[1-9]\d{10}$/.test(s)) return false;
  const counts = new Map<string, number>();
  for (const ch of s.slice(0, 10)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const multi = [...counts.values()].filter((n) => n > 1);
  if (multi.length !== 1 || multi[0]! > 3) return false;
  let product = 10;
  for (const ch of s.slice(0, 10)) {
    const sum = (Number(ch) + product) % 10 || 10;
    product = (sum * 2) % 11;
  }
  const check = (11 - product) % 10;
  return check === Number(s[10]);
}

const VALIDATORS: Record<string, (s: string) => boolean> = { US: ssnValid, GB: ninoValid, ES: dniValid, FR: nirValid, DE: steuerIdValid };

// ---- helpers

function tableDigests(file: string): Record<string, string> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .all() as Array<{ name: string }>;
    const out: Record<string, string> = {};
    for (const { name } of tables) {
      const h = createHash('sha256');
      for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).iterate()) h.update(JSON.stringify(row)).update('\n');
      out[name] = h.digest('hex');
    }
    return out;
  } finally {
    db.close();
  }
}

let dir: string;
let dbA: string;
let summary: DemoSummary;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'steward-demo-'));
  dbA = path.join(dir, 'a.db');
  summary = await buildDemoDatabase(dbA, { seed: 7, customers: 400 });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('buildDemoDatabase', () => {
  it('creates every table and reports row counts', () => {
    const names = summary.tables.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        'addresses', 'customers', 'events', 'integrations', 'marketing_leads', 'order_items', 'orders', 'products',
        'steward_demo_meta', 'support_tickets', 'users',
      ].sort(),
    );
    const rows = Object.fromEntries(summary.tables.map((t) => [t.name, t.rows]));
    expect(rows.customers).toBe(400);
    for (const t of summary.tables) expect(t.rows, t.name).toBeGreaterThan(0);
    const db = new Database(dbA, { readonly: true });
    for (const t of summary.tables) {
      expect((db.prepare(`SELECT count(*) AS n FROM "${t.name}"`).get() as { n: number }).n).toBe(t.rows);
    }
    db.close();
  });

  it('is deterministic: the same seed gives identical rows in every table', async () => {
    const dbB = path.join(dir, 'b.db');
    await buildDemoDatabase(dbB, { seed: 7, customers: 400 });
    expect(tableDigests(dbB)).toEqual(tableDigests(dbA));
    expect(readFileSync(dbB).equals(readFileSync(dbA))).toBe(true);
    const dbC = path.join(dir, 'c.db');
    await buildDemoDatabase(dbC, { seed: 8, customers: 400 });
    expect(tableDigests(dbC).customers).not.toBe(tableDigests(dbA).customers);
  });

  it('stores checksum-valid national IDs for every country', () => {
    const db = new Database(dbA, { readonly: true });
    const rows = db.prepare(`SELECT country, national_id FROM customers WHERE national_id IS NOT NULL`).all() as Array<{ country: string; national_id: string }>;
    db.close();
    const seen = new Set<string>();
    for (const { country, national_id: id } of rows) {
      seen.add(country);
      const ok = VALIDATORS[country]?.(id);
      expect(ok, `${country} ${id}`).toBe(true);
    }
    expect([...seen].sort()).toEqual(['DE', 'ES', 'FR', 'GB', 'US']);
  });

  it('stores Luhn-valid card numbers in real issuer ranges', () => {
    const db = new Database(dbA, { readonly: true });
    const cards = (db.prepare(`SELECT DISTINCT card_number FROM orders WHERE card_number IS NOT NULL`).all() as Array<{ card_number: string }>).map((r) => r.card_number);
    db.close();
    expect(cards.length).toBeGreaterThan(100);
    for (const pan of cards) {
      expect(luhnValid(pan), pan).toBe(true);
      expect(cardBrandOk(pan), pan).toBe(true);
    }
    expect(cards.some((c) => c.startsWith('4'))).toBe(true);
    expect(cards.some((c) => c.length === 15)).toBe(true);
  });

  it('mentions phones or emails in about 30% of support ticket bodies, in several languages', () => {
    const db = new Database(dbA, { readonly: true });
    const bodies = (db.prepare(`SELECT body FROM support_tickets`).all() as Array<{ body: string }>).map((r) => r.body);
    const ips = (db.prepare(`SELECT ip_address FROM events`).all() as Array<{ ip_address: string }>).map((r) => r.ip_address);
    db.close();
    const withContact = bodies.filter((b) => /@[a-z0-9-]+\.[a-z]/i.test(b) || /\+\d{1,3}[ \d]{6,}\d/.test(b) || /\b0\d[\d ]{7,}\d\b/.test(b));
    const share = withContact.length / bodies.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.45);
    expect(bodies.some((b) => b.includes('Bestellung'))).toBe(true);
    expect(bodies.some((b) => b.includes('commande'))).toBe(true);
    expect(bodies.some((b) => b.includes('pedido'))).toBe(true);
    expect(ips.some((ip) => ip.includes(':'))).toBe(true);
    expect(ips.some((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip))).toBe(true);
  });

  it('keeps foreign keys consistent', () => {
    const db = new Database(dbA, { readonly: true });
    expect(db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
    const fks = db.prepare(`SELECT "table" FROM pragma_foreign_key_list('orders')`).all();
    expect(fks.length).toBeGreaterThan(0);
    db.close();
  });

  it('overwrites an earlier demo database', async () => {
    const file = path.join(dir, 'again.db');
    await buildDemoDatabase(file, { seed: 1, customers: 20 });
    const again = await buildDemoDatabase(file, { seed: 2, customers: 30 });
    expect(again.tables.find((t) => t.name === 'customers')?.rows).toBe(30);
  });

  it('refuses to overwrite a file that is not a demo database', async () => {
    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'precious data\n');
    await expect(buildDemoDatabase(text, { customers: 10 })).rejects.toThrow(/refusing to overwrite .*not a SQLite database/);
    expect(readFileSync(text, 'utf8')).toBe('precious data\n');

    const real = path.join(dir, 'real.db');
    const db = new Database(real);
    db.exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO customers (email) VALUES ('a@b.example')`);
    db.close();
    const before = readFileSync(real);
    await expect(buildDemoDatabase(real, { customers: 10 })).rejects.toThrow(/refusing to overwrite .*not a Steward demo database/);
    expect(readFileSync(real).equals(before)).toBe(true);
  });

  it('rejects bad options', async () => {
    await expect(buildDemoDatabase(path.join(dir, 'x.db'), { customers: 0 })).rejects.toThrow(/customers/);
  });
});

describe('demoConfigYaml', () => {
  const text = demoConfigYaml('shop.db');
  const parsed = configSchema.safeParse(parse(text));

  it('parses and passes the config schema', () => {
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.success).toBe(true);
    expect(parsed.data?.sources[0]?.url).toBe('shop.db');
    expect(parsed.data?.sources[0]?.kind).toBe('sqlite');
  });

  it('leaves government IDs and dates of birth without a purpose, and covers the rest', () => {
    const purposes = parsed.data!.purposes;
    const covered = (cat: string) => purposes.some((p) => p.categories.some((pattern) => categoryMatches(pattern, cat)));
    expect(covered('identity.government_id')).toBe(false);
    expect(covered('identity.date_of_birth')).toBe(false);
    for (const cat of ['contact.email', 'contact.phone', 'contact.postal_address', 'identity.person_name', 'financial.card', 'network.ip_address', 'location.geolocation']) {
      expect(covered(cat), cat).toBe(true);
    }
    expect(text).toMatch(/# .*identity\.government_id/);
  });

  it('quotes unusual paths safely', () => {
    const odd = 'dir with spaces/shop: "x".db';
    const cfg = configSchema.parse(parse(demoConfigYaml(odd)));
    expect(cfg.sources[0]?.url).toBe(odd);
  });
});
