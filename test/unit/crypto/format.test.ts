import { describe, expect, it } from 'vitest';
import { aadPrefix, associatedData, ciphertextLength, encodeRowKey, formatCiphertext, parseCiphertext, scopeKey } from '../../../src/crypto/format.js';
import { decodeBase64urlStrict } from '../../../src/crypto/primitives.js';
import { createClassifier, maskValue } from '../../../src/detection/index.js';
import { isStewardCiphertext } from '../../../src/detection/detectors/ciphertext.js';

const scope = { source: 'shop', table: 'customers', column: 'email' };

describe('stw1 text format', () => {
  it('formats and parses key id, version and payload', () => {
    const payload = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
    const text = formatCiphertext('Abc_-09xyzQ', 12, payload);
    expect(text).toBe(`stw1:Abc_-09xyzQ:12:${payload.toString('base64url')}`);
    const parsed = parseCiphertext(text);
    expect(parsed).toEqual({ keyId: 'Abc_-09xyzQ', version: 12, payload });
  });

  it('says why a value is not a ciphertext, without echoing it', () => {
    const cases: [string, RegExp][] = [
      ['ann@example.com', /does not start with "stw1:"/],
      ['stw1:abc', /lacks the key id or version/],
      ['stw1:a b:1:' + 'A'.repeat(40), /key id field is malformed/],
      ['stw1::1:' + 'A'.repeat(40), /key id field is malformed/],
      ['stw1:k1:v1:' + 'A'.repeat(40), /key version field is malformed/],
      ['stw1:k1:01:' + 'A'.repeat(40), /key version field is malformed/],
      ['stw1:k1:0:' + 'A'.repeat(40), /key version field is malformed/],
      ['stw1:k1:9999999999:' + 'A'.repeat(40), /out of range/],
      ['stw1:k1:1:' + 'A'.repeat(39) + '=', /not canonical base64url/],
      ['stw1:k1:1:' + 'A'.repeat(38) + '+/', /not canonical base64url/],
      ['stw1:k1:1:' + 'A'.repeat(20), /too short/],
    ];
    for (const [text, why] of cases) {
      const r = parseCiphertext(text);
      expect('invalid' in r ? r.invalid : 'parsed', text).toMatch(why);
      if ('invalid' in r) expect(r.invalid).not.toContain(text);
    }
  });

  it('accepts only canonical base64url, so every text has one decoding', () => {
    expect(decodeBase64urlStrict('AQ')?.toString('hex')).toBe('01');
    expect(decodeBase64urlStrict('AR')).toBeNull(); // unused low bits set
    expect(decodeBase64urlStrict('AQI')?.toString('hex')).toBe('0102');
    expect(decodeBase64urlStrict('AQJ')).toBeNull();
    expect(decodeBase64urlStrict('A')).toBeNull();
    expect(decodeBase64urlStrict('AQ==')).toBeNull();
    expect(decodeBase64urlStrict('A!AA')).toBeNull();
    expect(decodeBase64urlStrict('')?.length).toBe(0);
  });

  it('predicts the stored length', () => {
    for (const n of [0, 1, 2, 3, 20, 100]) {
      const text = formatCiphertext('k'.repeat(11), 1, Buffer.alloc(28 + n));
      expect(text.length).toBe(ciphertextLength(n));
    }
  });

  it('is recognised by the detection code as encrypted, masked as such, and never called a secret', () => {
    const text = formatCiphertext('Q2x1c3Rlcg0', 3, Buffer.alloc(60, 7));
    expect(isStewardCiphertext(text)).toBe(true);
    expect(maskValue(text)).toBe('stw1:****');
    const classifier = createClassifier();
    expect(classifier.classifyValue(text)).toBeNull();
    const values = Array.from({ length: 20 }, (_, i) => formatCiphertext('Q2x1c3Rlcg0', 1, Buffer.alloc(40 + i, i)));
    const named = classifier.classifyColumn({ table: 'customers', column: 'email', typeClass: 'text', values });
    expect(named.category).toBe('contact.email');
    expect(named.evidence.signals).toContainEqual({ kind: 'steward-ciphertext' });
    expect(classifier.classifyColumn({ table: 't', column: 'blob7', typeClass: 'text', values }).category).toBeNull();
  });
});

describe('associated data', () => {
  it('is length-prefixed, so shifting characters between fields changes it', () => {
    const a = associatedData('k', 1, { source: 'ab', table: 'c', column: 'd', rowKey: 1 });
    const b = associatedData('k', 1, { source: 'a', table: 'bc', column: 'd', rowKey: 1 });
    const c = associatedData('k', 1, { source: 'a', table: 'b', column: 'cd', rowKey: 1 });
    expect(a.equals(b)).toBe(false);
    expect(b.equals(c)).toBe(false);
    expect(encodeRowKey(['1', '2']).equals(encodeRowKey('12'))).toBe(false);
    expect(encodeRowKey(['1|2']).equals(encodeRowKey(['1', '2']))).toBe(false);
    expect(encodeRowKey(['', 'a']).equals(encodeRowKey(['a', '']))).toBe(false);
  });

  it('binds key id and version', () => {
    expect(aadPrefix('k1', 1, scope).equals(aadPrefix('k1', 2, scope))).toBe(false);
    expect(aadPrefix('k1', 1, scope).equals(aadPrefix('k2', 1, scope))).toBe(false);
  });

  it('writes numeric row keys in decimal: 42, 42n and "42" are one row', () => {
    expect(encodeRowKey(42).equals(encodeRowKey('42'))).toBe(true);
    expect(encodeRowKey(42n).equals(encodeRowKey('42'))).toBe(true);
    expect(encodeRowKey([7, 'x']).equals(encodeRowKey(['7', 'x']))).toBe(true);
    expect(encodeRowKey(42).toString('hex')).toBe('00000001' + '00000002' + Buffer.from('42').toString('hex'));
  });

  it('refuses row keys with no stable text form', () => {
    expect(() => encodeRowKey([])).toThrow(TypeError);
    expect(() => encodeRowKey(Number.NaN)).toThrow(TypeError);
    expect(() => encodeRowKey(null as unknown as string)).toThrow(TypeError);
    expect(() => encodeRowKey([{}] as unknown as string[])).toThrow(TypeError);
  });

  it('scope keys are unambiguous', () => {
    expect(scopeKey({ source: 'a|1:b', table: 'c', column: 'd' })).not.toBe(scopeKey({ source: 'a', table: '1:b|c', column: 'd' }));
  });
});
