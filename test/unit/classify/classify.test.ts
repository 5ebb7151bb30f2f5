import { describe, expect, it } from 'vitest';
import { createClassifier, type ColumnInput } from '../../../src/detection/classify.js';
import { createCustomDetector } from '../../../src/detection/custom.js';
import { compileUserPattern } from '../../../src/config/index.js';

const c = createClassifier();
const col = (table: string, column: string, values: unknown[], typeClass: ColumnInput['typeClass'] = 'text'): ColumnInput => ({ table, column, typeClass, values });
const cat = (input: ColumnInput) => c.classifyColumn(input).category;
const repeat = <T>(xs: T[], n: number): T[] => Array.from({ length: n }, (_, i) => xs[i % xs.length]!);

describe('classifyColumn', () => {
  it('emails by values even under an uninformative name, with evidence', () => {
    const r = c.classifyColumn(col('t', 'col7', repeat(['ana@example.com', 'b.smith@mail.co.uk', 'x+y@corp.io'], 50)));
    expect(r.category).toBe('contact.email');
    expect(r.evidence.matched).toBe(50);
    expect(r.evidence.sampled).toBe(50);
    expect(r.evidence.signals).toContainEqual({ kind: 'values', detector: 'email', matched: 50, sampled: 50 });
    expect(r.confidence).toBeGreaterThanOrEqual(0.9);
    expect(r.examples.join(' ')).not.toContain('ana@example.com');
  });

  it('a column named like personal data whose values contradict it is not personal', () => {
    expect(cat(col('orders', 'email_sent', [true, false], 'boolean'))).toBeNull();
    expect(cat(col('orders', 'email', repeat(['yes', 'no', 'pending'], 30)))).toBeNull();
    expect(cat(col('users', 'phone_verified_at', ['2024-01-01T10:00:00Z'], 'timestamp'))).toBeNull();
  });

  it('16-digit numbers failing Luhn are not cards; valid ones are', () => {
    expect(cat(col('orders', 'ref', repeat(['4111111111111112', '5500000000000005'], 20)))).not.toBe('financial.card');
    expect(cat(col('orders', 'pan_copy', repeat(['4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005'], 20)))).toBe('financial.card');
  });

  it('order ids and prices are not phones', () => {
    expect(cat(col('orders', 'id', repeat([100234, 100235, 48213377], 30), 'integer'))).toBeNull();
    expect(cat(col('orders', 'total', repeat(['19.99', '120.00'], 30), 'decimal'))).toBeNull();
  });

  it('international phone numbers by values; national ones need the name', () => {
    expect(cat(col('t', 'contact', repeat(['+44 20 7946 0958', '+49 30 901820', '+1 (415) 555-2671'], 30)))).toBe('contact.phone');
    expect(cat(col('kunden', 'telefon', repeat(['030 901820', '089 1234567'], 30)))).toBe('contact.phone');
  });

  it('hashed passwords are fine, plain ones are secrets', () => {
    const bcrypt = '$2b$12$KIXQJ0tOa5t3bXr6n6e3pO8N5rD9F2e7bTqz0m1u2V3w4X5y6Z7a.';
    expect(cat(col('users', 'password', repeat([bcrypt], 20)))).toBeNull();
    expect(cat(col('users', 'password', repeat(['hunter2', 'Summer2024!', 'letmein'], 20)))).toBe('credentials.secret');
  });

  it('person names: names in a people table, not a product name', () => {
    expect(cat(col('customers', 'name', repeat(['Maria Schmidt', 'John Smith', 'Camille Dubois', 'José García'], 40)))).toBe('identity.person_name');
    expect(cat(col('products', 'name', repeat(['Blue Widget', 'Garden Hose 20m', 'Desk Lamp'], 40)))).toBeNull();
  });

  it('dates of birth by name; created_at timestamps are not', () => {
    expect(cat(col('customers', 'geburtsdatum', repeat(['1984-03-12', '1990-11-02', '1975-06-30'], 30), 'date'))).toBe('identity.date_of_birth');
    const recent = Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2025, 0, 1 + i, 10)));
    expect(cat(col('orders', 'created_at', recent, 'timestamp'))).toBeNull();
  });

  it('numeric postcodes only with a postcode name', () => {
    expect(cat(col('addresses', 'plz', repeat(['10115', '80331', '50667'], 30)))).toBe('contact.postcode');
    expect(cat(col('products', 'stock', repeat(['10115', '80331', '50667'], 30)))).toBeNull();
  });

  it('latitude and longitude columns', () => {
    expect(cat(col('events', 'latitude', repeat([48.8566, 51.5072, 40.4168], 30), 'decimal'))).toBe('location.geolocation');
    expect(cat(col('events', 'lng', repeat([2.3522, -0.1276, -3.7038], 30), 'decimal'))).toBe('location.geolocation');
  });

  it('free text with embedded personal data, and without', () => {
    const withPii = repeat(
      [
        'Hello, please call me back on +44 20 7946 0958 about my order, thanks a lot',
        'My new email is anna.schulz@example.de, please update my account details',
        'The parcel arrived damaged and I would like a refund for the lamp please',
      ],
      30,
    );
    const r = c.classifyColumn(col('support_tickets', 'body', withPii));
    expect(r.category).toBe('content.free_text');
    expect(r.freeText.map((h) => h.category).sort()).toEqual(['contact.email', 'contact.phone']);
    expect(r.freeText.find((h) => h.category === 'contact.email')!.rows).toBe(10);
    const clean = repeat(['A sturdy lamp with a brass base and a linen shade, ideal for reading', 'Garden hose of 20 metres with a brass nozzle and a wall bracket'], 30);
    expect(cat(col('products', 'description', clean))).toBeNull();
  });

  it('uses the name alone when the table is empty or unreadable', () => {
    const r = c.classifyColumn(col('customers', 'email', []));
    expect(r.category).toBe('contact.email');
    expect(r.confidence).toBe(0.5);
  });

  it('recognises Steward ciphertexts and never calls them secrets', () => {
    const r = c.classifyColumn(col('customers', 'ssn', repeat(['stw1:k1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], 10)));
    expect(r.category).toBe('identity.government_id');
    expect(r.evidence.signals).toContainEqual({ kind: 'steward-ciphertext' });
    // The prefix alone is what anyone can write: not an envelope (here: version "v1"), not encrypted.
    const forged = c.classifyColumn(col('customers', 'ssn', repeat(['stw1:k1:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], 10)));
    expect(forged.evidence.signals).not.toContainEqual({ kind: 'steward-ciphertext' });
  });

  it('UUIDs and hex hashes are not personal data', () => {
    expect(cat(col('t', 'external_ref', repeat(['3f2504e0-4f89-11d3-9a0c-0305e82c3301', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'], 20)))).toBeNull();
    expect(cat(col('t', 'checksum', repeat(['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'], 20)))).toBeNull();
  });
});

describe('user rules and detectors', () => {
  it('column rules decide outright, including "not personal"', () => {
    const k = createClassifier({
      columnRules: [
        { pattern: compileUserPattern('^customers\\.email$', 'x'), category: null },
        { pattern: compileUserPattern('loyalty_no', 'x'), category: 'identity.loyalty_id' },
      ],
    });
    expect(k.classifyColumn(col('customers', 'email', ['a@b.co'])).category).toBeNull();
    expect(k.classifyColumn(col('customers', 'loyalty_no', ['123'])).category).toBe('identity.loyalty_id');
  });

  it('custom detectors classify values', () => {
    const loyalty = createCustomDetector({ id: 'loyalty', category: 'identity.loyalty_id', pattern: compileUserPattern('LC[0-9]{10}', 'x'), scanFreeText: true });
    const k = createClassifier({ detectors: [loyalty] });
    expect(k.classifyColumn(col('t', 'ref', repeat(['LC0123456789', 'lc9876543210'], 20))).category).toBe('identity.loyalty_id');
    expect(k.scanText('card LC0123456789 used').map((m) => m.detector)).toContain('loyalty');
  });
});

describe('free-text scanning of user agents', () => {
  it('does not take browser version numbers for IP addresses', () => {
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/584.52 (KHTML, like Gecko) Chrome/76.3.1.4 Safari/551.83 Edg/122.2.0.13';
    expect(c.scanText(ua)).toEqual([]);
    expect(c.scanText('request from http://192.168.1.20/admin').map((m) => m.detector)).toEqual(['ipv4']);
    expect(cat(col('access_log', 'user_agent', repeat([ua], 40)))).toBeNull();
  });
});
