import { describe, expect, it } from 'vitest';
import { DEFAULT_PHONE_REGIONS, isPhoneNumber, phone } from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

describe('phone', () => {
  it('exports the default region list', () => {
    expect(DEFAULT_PHONE_REGIONS).toEqual(['US', 'GB', 'DE', 'FR', 'ES', 'IT', 'NL', 'CA', 'AU']);
  });
  it.each([
    '+44 20 7946 0958',
    '+1 415 555 2671',
    '+49 30 901820',
    '+33 6 12 34 56 78',
    '+34 612 34 56 78',
    '+81 3-1234-5678', // any country when international
    '0044 20 7946 0958',
    '(415) 555-2671',
    '415-555-2671',
    '415.555.2671',
    '020 7946 0958',
    '02079460958',
    '030 901820',
    '06 12 34 56 78',
    '612 34 56 78',
    '0171 1234567',
    '016977 9751',
    '(02) 9374 4000',
    '415-555-2671 x123',
    '+44 20 7946 0958 ext. 12',
    '(415) 555-2671 #7',
  ])('accepts %s', (v) => expect(phone.test(v)).toBe(true));

  it.each([
    ['order id', '100234'],
    ['order id', '48213377'],
    ['bare 10 digits', '4155552671'],
    ['unix timestamp', '1699999999'],
    ['price', '12.99'],
    ['price', '1299.00'],
    ['year', '2023'],
    ['ISO date', '2023-01-05'],
    ['dotted date', '05.01.2023'],
    ['slash date', '01/05/2023'],
    ['timestamp', '2023-01-05 12:30:45'],
    ['UUID', '550e8400-e29b-41d4-a716-446655440000'],
    ['IP', '192.168.1.1'],
    ['SKU', 'SKU-12345-AB'],
    ['SKU digits', '12345-678'],
    ['SSN shape', '123-45-6789'],
    ['local number without area code', '555-0199'],
    ['invalid international', '+1 (555) 010-9999'],
    ['international, too short for GB', '+44 7911 12345'],
    ['card', '4111 1111 1111 1111'],
    ['version', '1.2.3'],
    ['letters', 'call me'],
    ['two plus signs', '+44 +20 7946 0958'],
    ['unbalanced', '(415 555-2671'],
    ['IMEI', '35-209900-176148-1'],
    ['ZIP+4', '07405-8849'],
    ['zero-padded account number', '08915534'],
    ['zero-padded id', '000123456789'],
    ['extension only', 'x123'],
    ['6-4 grouped id', '612712-2400'],
    ['13-digit bare run', '0757593505499'],
  ])('rejects %s %s', (_, v) => expect(phone.test(v)).toBe(false));

  it('honours a custom region list', () => {
    expect(isPhoneNumber('020 7946 0958', ['US'])).toBe(false);
    expect(isPhoneNumber('020 7946 0958', ['GB'])).toBe(true);
  });

  it('finds numbers in prose', () => {
    const t =
      'Call +44 20 7946 0958 or (415) 555-2671, mobile 06 12 34 56 78. Order 100234 of 2023-01-05 cost 12.99; ref 48213377. Tel. 020 7946 0958.';
    expect(scanTexts(phone, t)).toEqual(['+44 20 7946 0958', '(415) 555-2671', '06 12 34 56 78', '020 7946 0958']);
  });
  it('splits adjacent numbers and recovers a number after a long digit run', () => {
    expect(scanTexts(phone, '+44 20 7946 0958 +1 415 555 2671')).toEqual(['+44 20 7946 0958', '+1 415 555 2671']);
    expect(scanTexts(phone, 'ticket 12345 67890 020 7946 0958')).toEqual(['020 7946 0958']);
  });
  it('does not take numbers out of timestamps, dates or host:port', () => {
    const log = '2023-01-05 12:30:45 GET /x from 10.0.0.1:5432; 05.01.2023 14:22; at 2023-01-05 12 noon';
    expect(scanTexts(phone, log)).toEqual([]);
  });
  it('does not match inside words or ids', () => {
    expect(scanTexts(phone, 'id abc020 7946 0958 and 020 7946 0958x')).toEqual([]);
  });
});
