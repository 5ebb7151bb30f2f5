import { describe, expect, it } from 'vitest';
import { card, cardBrand, isCardNumber, luhn } from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

describe('card', () => {
  it.each([
    ['visa', '4111 1111 1111 1111'],
    ['visa', '4111-1111-1111-1111'],
    ['visa', '4111111111111111'],
    ['visa', '4222222222222'],
    ['mastercard', '5555555555554444'],
    ['mastercard', '2223003122003222'],
    ['amex', '378282246310005'],
    ['amex', '3714 496353 98431'],
    ['discover', '6011111111111117'],
    ['discover', '6445644564456445'],
    ['jcb', '3530111333300000'],
    ['diners', '30569309025904'],
    ['diners', '36227206271667'],
    ['unionpay', '6200000000000005'],
    ['maestro', '6759649826438453'],
    ['maestro', '501800000009'],
  ])('accepts %s %s', (brand, v) => {
    expect(card.test(v)).toBe(true);
    expect(cardBrand(v.replace(/[ -]/g, ''))).toBe(brand);
  });

  it.each([
    ['16 digits failing Luhn', '4111111111111112'],
    ['Luhn-valid without issuer prefix', '1234567812345670'],
    ['Luhn-valid with no issuer (9…)', '9999999999999995'],
    ['visa with wrong length', '41111111111111111'],
    ['amex with wrong length', '3782822463100055'],
    ['mastercard 15 digits', '555555555555444'],
    ['too short', '41111111111'],
    ['too long', '41111111111111111111'],
    ['mixed separators', '4111 1111-1111 1111'],
    ['double separator', '4111  1111 1111 1111'],
    ['letters', '4111 1111 1111 111a'],
    ['order id', '100234'],
    ['IMEI grouping (Luhn-valid, 35 prefix)', '35-209900-176148-1'],
    ['first group not 4 digits', '41 1111 1111 1111 11'],
  ])('rejects %s', (_, v) => expect(isCardNumber(v)).toBe(false));

  it('Luhn', () => {
    expect(luhn('79927398713')).toBe(true);
    expect(luhn('79927398710')).toBe(false);
  });

  it('finds cards in prose, also followed by an expiry', () => {
    const t = 'card 4111 1111 1111 1111 exp 12/25; other 4111111111111112; amex 378282246310005. 5555 5555 5555 4444 12 25';
    expect(scanTexts(card, t)).toEqual(['4111 1111 1111 1111', '378282246310005', '5555 5555 5555 4444']);
  });
  it('needs 15+ digits for an unseparated run in prose (EAN-13 codes pass Luhn by chance)', () => {
    expect(card.test('5630048243975')).toBe(true); // Maestro-shaped, Luhn-valid: the column decides
    expect(scanTexts(card, 'ean 5630048243975, card 5018 0000 0009')).toEqual(['5018 0000 0009']);
  });
  it('ignores digits glued to words', () => {
    expect(scanTexts(card, 'x4111111111111111 4111111111111111y')).toEqual([]);
  });
});
