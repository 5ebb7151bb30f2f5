import { describe, expect, it } from 'vitest';
import { isNumericPostcode, isUkPostcode, postcode } from '../../../src/detection/detectors/index.js';

describe('postcode', () => {
  it.each(['SW1A 1AA', 'EC1A 1BB', 'M1 1AE', 'B33 8TH', 'CR2 6XH', 'DN55 1PT', 'W1A 0AX', 'sw1a1aa', 'GIR 0AA', '90210-1234', 'K1A 0B1', 'H3Z2Y7', '1234 AB', '1012AB'])(
    'accepts %s',
    (v) => expect(postcode.test(v)).toBe(true),
  );
  it.each([
    ['numeric DE (ambiguous)', '10115'],
    ['numeric US ZIP (ambiguous)', '90210'],
    ['UK first letter Q', 'QA1 1AA'],
    ['UK inward letter C', 'SW1A 1CA'],
    ['UK second letter I', 'AI1 1AA'],
    ['NL leading zero', '0123 AB'],
    ['NL SS', '1234 SS'],
    ['CA letter D', 'D1A 0B1'],
    ['ZIP+4 wrong', '90210-123'],
    ['word', 'HELLO'],
  ])('rejects %s %s', (_, v) => expect(postcode.test(v)).toBe(false));
  it('isNumericPostcode', () => {
    expect(isNumericPostcode('10115')).toBe(true);
    expect(isNumericPostcode('75001', 'FR')).toBe(true);
    expect(isNumericPostcode('60001', 'ES')).toBe(false);
    expect(isNumericPostcode('1010', 'AT')).toBe(true);
    expect(isNumericPostcode('00000')).toBe(false);
    expect(isNumericPostcode('123456')).toBe(false);
    expect(isNumericPostcode('12a45')).toBe(false);
  });
  it('UK outward shapes', () => {
    for (const v of ['A9 9AA', 'A99 9AA', 'AA9 9AA', 'AA99 9AA', 'A9A 9AA', 'AA9A 9AA']) {
      const real = v.replace(/A/g, 'B').replace(/9/g, '1').replace(/^B1B/, 'W1A').replace(/^BB1B/, 'EC1A');
      expect(isUkPostcode(real), real).toBe(true);
    }
  });
  it('has no scan()', () => expect(postcode.scan).toBeUndefined());
});
