/**
 * Known-answer tests through the exact primitives the library uses:
 * Wycheproof AES-GCM (256-bit key, 96-bit IV, 128-bit tag — the only shape
 * Steward uses) through gcmSeal/gcmOpen, and Wycheproof HMAC-SHA256 through
 * hmacSha256 and the BlindIndexer. Vectors: /work/shared/vectors (README there).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BlindIndexer } from '../../../src/crypto/blind-index.js';
import { AuthenticationFailed, gcmOpen, gcmSeal, gcmSealInto, hmacSha256 } from '../../../src/crypto/primitives.js';

const VECTORS = '/work/shared/vectors/wycheproof';

interface GcmTest { tcId: number; comment: string; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: 'valid' | 'invalid' | 'acceptable' }
interface GcmGroup { keySize: number; ivSize: number; tagSize: number; tests: GcmTest[] }
interface MacTest { tcId: number; comment: string; key: string; msg: string; tag: string; result: 'valid' | 'invalid' }
interface MacGroup { keySize: number; tagSize: number; tests: MacTest[] }

const gcm = JSON.parse(readFileSync(`${VECTORS}/aes_gcm_test.json`, 'utf8')) as { testGroups: GcmGroup[] };
const mac = JSON.parse(readFileSync(`${VECTORS}/hmac_sha256_test.json`, 'utf8')) as { testGroups: MacGroup[] };

const hex = (s: string) => Buffer.from(s, 'hex');
const gcmCases = gcm.testGroups.filter((g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128).flatMap((g) => g.tests);

describe('Wycheproof AES-256-GCM (96-bit IV, 128-bit tag) through gcmSeal / gcmOpen', () => {
  it('has the expected vectors', () => {
    expect(gcmCases.length).toBeGreaterThanOrEqual(60);
    expect(gcmCases.some((t) => t.result === 'invalid')).toBe(true);
    expect(gcmCases.some((t) => t.result === 'valid')).toBe(true);
  });

  for (const t of gcmCases) {
    it(`tcId ${t.tcId} (${t.result}${t.comment ? `: ${t.comment}` : ''})`, () => {
      const key = hex(t.key);
      const iv = hex(t.iv);
      const aad = hex(t.aad);
      const sealed = Buffer.concat([hex(t.ct), hex(t.tag)]);
      if (t.result === 'valid') {
        expect(gcmSeal(key, iv, aad, hex(t.msg)).toString('hex')).toBe(sealed.toString('hex'));
        // The in-place variant the field encryption uses, with a 12-byte head.
        expect(gcmSealInto(key, iv, aad, hex(t.msg), 12).subarray(12).toString('hex')).toBe(sealed.toString('hex'));
        expect(gcmOpen(key, iv, aad, sealed).toString('hex')).toBe(t.msg);
      } else {
        expect(() => gcmOpen(key, iv, aad, sealed)).toThrow(AuthenticationFailed);
      }
    });
  }

  it('rejects truncated tags that Node would otherwise accept', () => {
    const t = gcmCases.find((c) => c.result === 'valid' && c.msg.length > 0)!;
    const sealed = Buffer.concat([hex(t.ct), hex(t.tag)]);
    // Drop 12 tag bytes: a 4-byte tag Node accepts without authTagLength.
    expect(() => gcmOpen(hex(t.key), hex(t.iv), hex(t.aad), sealed.subarray(0, sealed.length - 12))).toThrow(AuthenticationFailed);
    expect(() => gcmOpen(hex(t.key), hex(t.iv), hex(t.aad), Buffer.alloc(5))).toThrow(AuthenticationFailed);
  });

  it('refuses nonces that are not 96 bits', () => {
    expect(() => gcmSeal(Buffer.alloc(32), Buffer.alloc(16), Buffer.alloc(0), Buffer.from('x'))).toThrow(RangeError);
    expect(() => gcmOpen(Buffer.alloc(32), Buffer.alloc(8), Buffer.alloc(0), Buffer.alloc(32))).toThrow(RangeError);
  });
});

describe('Wycheproof HMAC-SHA256 through the blind-index primitive', () => {
  const groups = mac.testGroups;

  it('has the expected vectors', () => {
    expect(groups.flatMap((g) => g.tests).length).toBeGreaterThanOrEqual(170);
  });

  for (const g of groups) {
    it(`key ${g.keySize} bits, tag ${g.tagSize} bits: ${g.tests.length} cases`, () => {
      let checked = 0;
      for (const t of g.tests) {
        const tag = hmacSha256(hex(t.key), hex(t.msg), g.tagSize / 8);
        if (t.result === 'valid') expect(tag.toString('hex'), `tcId ${t.tcId}`).toBe(t.tag);
        else expect(tag.toString('hex'), `tcId ${t.tcId}`).not.toBe(t.tag);
        // The BlindIndexer over the same key (for messages that are UTF-8 text).
        const text = hex(t.msg).toString('utf8');
        if (Buffer.from(text, 'utf8').equals(hex(t.msg)) && g.tagSize / 8 >= 4) {
          const idx = new BlindIndexer(hex(t.key), { bytes: g.tagSize / 8, encoding: 'hex' }).index(text);
          if (t.result === 'valid') expect(idx, `tcId ${t.tcId}`).toBe(t.tag);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  }

  it('refuses output lengths outside 1–32 bytes', () => {
    expect(() => hmacSha256(Buffer.alloc(32), 'x', 0)).toThrow(RangeError);
    expect(() => hmacSha256(Buffer.alloc(32), 'x', 33)).toThrow(RangeError);
  });
});
