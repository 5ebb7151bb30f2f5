import { describe, expect, it } from 'vitest';
import { FIRST_NAMES, SURNAMES, nameScore, personName } from '../../../src/detection/detectors/index.js';

describe('person_name', () => {
  it.each([
    'Maria Schmidt',
    'John',
    'José García',
    "Seán O'Brien",
    'Anne-Marie Dupont',
    'MARIA SCHMIDT',
    'Schmidt, Maria',
    'J. Smith',
    'Giulia Rossi',
    'Lucas van der Berg',
    'María de la Cruz',
    'Hans Müller',
    'Sophie Müller-Lüdenscheidt',
    'Mohammed Ali',
  ])('accepts %s', (v) => expect(personName.test(v)).toBe(true));
  it.each([
    'Blue Widget',
    'Pending',
    'Active',
    'Red',
    'iPhone 12',
    'Order 12345',
    'maria schmidt',
    'the quick brown fox jumps',
    'Premium Account',
    'Large Green Widget Extra',
    'Widget',
    'ACME GmbH & Co. KG',
    'Hello World!',
    '',
    'A',
    'Sierra Leone',
    'Fort Hannah',
    'Saint Martin',
    'Daniel Inc',
    'Walter Cove',
    'Rustic Granite Chair',
  ])('rejects %s', (v) => expect(personName.test(v)).toBe(false));

  it('scores shape-only unknown names low but non-zero, products zero-ish', () => {
    expect(nameScore('Xiomara Okonkwo')).toBeGreaterThan(0.2);
    expect(nameScore('Xiomara Okonkwo')).toBeLessThan(0.6);
    expect(nameScore('Blue Widget')).toBeLessThan(0.1);
    expect(nameScore('Maria Schmidt')).toBe(1);
    expect(nameScore('x'.repeat(100))).toBe(0);
  });
  it('embedded lists are a few hundred names each', () => {
    expect(FIRST_NAMES.size).toBeGreaterThan(300);
    expect(SURNAMES.size).toBeGreaterThan(300);
  });
  it('has no scan()', () => expect(personName.scan).toBeUndefined());
});
