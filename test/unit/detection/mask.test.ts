import { describe, expect, it } from 'vitest';
import { maskValue } from '../../../src/detection/mask.js';

describe('maskValue', () => {
  it.each([
    ['john.doe@example.com', 'contact.email', 'j***@e***.com'],
    ['+44 20 7946 0958', 'contact.phone', '+44 ******** 58'],
    ['0044 20 7946 0958', 'contact.phone', '+44 ******** 58'],
    ['(415) 555-2671', 'contact.phone', '******** 71'],
    ['4111 1111 1111 1234', 'financial.card', '**** **** **** 1234'],
    ['378282246310005', 'financial.card', '**** **** **** 0005'],
    ['DE89 3704 0044 0532 0130 00', 'financial.bank_account', 'DE** **** **** **** **** 00'],
    ['536-90-4399', 'identity.government_id', '***-**-**99'],
    ['AB 12 34 56 C', 'identity.government_id', '** ** ** *6 C'],
    ['Maria Schmidt', 'identity.person_name', 'M*** S***'],
    ['192.168.1.1', 'network.ip_address', '192.168.*.*'],
    ['2001:db8::1', 'network.ip_address', '2001:*:*:*:*:*:*:*'],
    ['1985-03-12', 'identity.date_of_birth', '19**-**-**'],
    ['12.03.1985', 'identity.date_of_birth', '19**-**-**'],
    ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'credentials.secret', 'sk_live_****'],
    ['ghp_a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8', 'credentials.secret', 'ghp_****'],
    ['hunter2', 'credentials.secret', '****'],
    ['pass_word123', 'credentials.secret', '****'],
    ['postgres://admin:s3cret@db.example.com/app', 'credentials.secret', 'postgres://****'],
    ['48.8566, 2.3522', 'location.geolocation', '48.8**, 2.3**'],
    ['221B Baker Street', 'contact.postal_address', '** B*** S***'],
    ['SW1A 1AA', 'contact.postcode', 'SW***'],
    ['whatever', undefined, 'w***'],
    ['anything', 'custom.thing', 'a***'],
  ])('%s (%s) → %s', (v, c, expected) => {
    expect(maskValue(v, c)).toBe(expected);
  });

  it('infers the category when none is given', () => {
    expect(maskValue('john.doe@example.com')).toBe('j***@e***.com');
    expect(maskValue('4111 1111 1111 1111')).toBe('**** **** **** 1111');
    expect(maskValue('536-90-4399')).toBe('***-**-**99');
    expect(maskValue('AKIAIOSFODNN7EXAMPLE')).toBe('AKIA****');
    expect(maskValue('Maria Schmidt')).toBe('M*** S***');
  });

  it('hides the length of generic values and very short values entirely', () => {
    expect(maskValue('ab')).toBe('***');
    expect(maskValue('abcdefghijklmnop')).toBe('a***');
    expect(maskValue('')).toBe('');
  });

  it('truncates values longer than 64 characters before masking', () => {
    const long = 'x'.repeat(10_000);
    const out = maskValue(long);
    expect(out.length).toBeLessThanOrEqual(64);
    expect(maskValue(`john@example.com${'y'.repeat(100)}`, 'contact.email')).toBe('j***@e***');
  });

  it('never returns the raw value or a long raw substring', () => {
    const samples: Array<[string, string | undefined]> = [
      ['john.doe@example.com', undefined],
      ['+44 20 7946 0958', undefined],
      ['4111 1111 1111 1111', undefined],
      ['DE89370400440532013000', undefined],
      ['536-90-4399', undefined],
      ['Maria Schmidt', 'identity.person_name'],
      ['1985-03-12', undefined],
      ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', undefined],
      ['Tr0ub4dor&3', 'credentials.secret'],
      ['a', undefined],
      ['Hauptstraße 5', undefined],
    ];
    for (const [v, c] of samples) {
      const m = maskValue(v, c);
      expect(m, v).not.toBe(v);
      // no run of 5+ raw characters survives (other than the card's last 4 / shapes)
      for (let i = 0; i + 5 <= v.length; i++) {
        const piece = v.slice(i, i + 5);
        if (/[*\s]/.test(piece)) continue;
        expect(m.includes(piece), `${v} → ${m} contains ${piece}`).toBe(piece === 'sk_li' || piece === 'k_liv' || piece === '_live' || piece === 'live_');
      }
    }
  });

  it('Steward ciphertext is shown by its prefix only', () => {
    expect(maskValue('stw1:Q2x1c3Rlcg0:1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJyg')).toBe('stw1:****');
    expect(maskValue('stw1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYX')).toBe('s***'); // a prefix alone is no envelope
  });
});
