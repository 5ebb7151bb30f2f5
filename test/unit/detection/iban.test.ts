import { describe, expect, it } from 'vitest';
import { iban, ibanMod97, isIban } from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

const VALID = [
  'DE89 3704 0044 0532 0130 00',
  'DE89370400440532013000',
  'GB82 WEST 1234 5698 7654 32',
  'GB82WEST12345698765432',
  'FR14 2004 1010 0505 0001 3M02 606',
  'NL91ABNA0417164300',
  'ES9121000418450200051332',
  'IT60X0542811101000000123456',
  'BE68539007547034',
  'CH9300762011623852957',
  'NO9386011117947',
  'de89370400440532013000',
];

describe('iban', () => {
  it.each(VALID)('accepts %s', (v) => expect(iban.test(v)).toBe(true));

  it('rejects each valid IBAN with one digit changed', () => {
    for (const v of VALID) {
      const i = v.search(/\d(?=\D*$)/); // last digit
      const d = Number(v[i]);
      const changed = v.slice(0, i) + String((d + 1) % 10) + v.slice(i + 1);
      expect(isIban(changed), changed).toBe(false);
    }
  });
  it.each([
    ['wrong length for DE', 'DE89 3704 0044 0532 0130 0'],
    ['unknown country', 'XX89370400440532013000'],
    ['check digits not digits', 'DEAB370400440532013000'],
    ['bad grouping', 'DE89 37040044 0532 0130 00'],
    ['punctuation', 'DE89-3704-0044-0532-0130-00'],
    ['too short', 'DE89'],
  ])('rejects %s', (_, v) => expect(isIban(v)).toBe(false));

  it('mod-97 of a valid IBAN is 1', () => {
    expect(ibanMod97('GB82WEST12345698765432')).toBe(1);
  });
  it('finds IBANs in prose', () => {
    const t = 'Pay to DE89 3704 0044 0532 0130 00, or NL91ABNA0417164300. Not DE89 3704 0044 0532 0130 01 nor XDE89370400440532013000.';
    expect(scanTexts(iban, t)).toEqual(['DE89 3704 0044 0532 0130 00', 'NL91ABNA0417164300']);
  });
});
