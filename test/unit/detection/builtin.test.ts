import { describe, expect, it } from 'vitest';
import { BUILTIN_DETECTORS, builtinDetector } from '../../../src/detection/detectors/index.js';
import { TAXONOMY } from '../../../src/detection/taxonomy.js';

describe('BUILTIN_DETECTORS', () => {
  it('has unique ids and taxonomy categories', () => {
    const ids = BUILTIN_DETECTORS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of BUILTIN_DETECTORS) expect(TAXONOMY.has(d.category), d.id).toBe(true);
  });
  it('includes every required detector', () => {
    for (const id of ['email', 'phone', 'card', 'iban', 'ssn', 'uk_nino', 'es_dni', 'fr_nir', 'de_tax_id', 'ipv4', 'ipv6', 'birth_date', 'person_name', 'postal_address', 'postcode', 'secrets', 'geolocation']) {
      expect(builtinDetector(id), id).toBeDefined();
    }
  });
  it('person_name and postcode have no scan()', () => {
    expect(builtinDetector('person_name')!.scan).toBeUndefined();
    expect(builtinDetector('postcode')!.scan).toBeUndefined();
  });
  it('no detector accepts empty or whitespace values', () => {
    for (const d of BUILTIN_DETECTORS) {
      expect(d.test(''), d.id).toBe(false);
      expect(d.test('   '), d.id).toBe(false);
    }
  });
  it('common non-personal values are rejected by every detector', () => {
    const values = ['550e8400-e29b-41d4-a716-446655440000', 'd41d8cd98f00b204e9800998ecf8427e', '100234', '12.99', '2023-01-05T10:22:01Z', 'SKU-4471-B', 'true', 'Pending', 'Blue Widget', '1.2.3'];
    for (const v of values) {
      const hits = BUILTIN_DETECTORS.filter((d) => d.test(v)).map((d) => d.id);
      expect(hits, v).toEqual([]);
    }
  });
});
