/** Retention periods, cut-offs and cleanup methods (pure), and malformed policies in steward.yml. */
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { cutoffFor, parsePeriod, periodShorter } from '../../../src/retention/policy.js';
import { changes, cleanValue, HASH_PREFIX } from '../../../src/retention/cleanup.js';
import { createSecretKey } from 'node:crypto';

describe('periods', () => {
  it('reads shorthand and ISO-8601, and nothing else', () => {
    expect(parsePeriod('2y')).toMatchObject({ years: 2, months: 0 });
    expect(parsePeriod('18m')).toMatchObject({ months: 18 });
    expect(parsePeriod('90d')).toMatchObject({ days: 90 });
    expect(parsePeriod('P3M')).toMatchObject({ months: 3 });
    for (const bad of ['2 years', 'y2', '', '-1y', 'P', '3mo', 'PT']) expect(parsePeriod(bad), bad).toBeNull();
  });

  it('cut-offs are calendar-aware in UTC (month ends clamp, leap days)', () => {
    expect(cutoffFor('1m', new Date('2026-03-31T10:00:00Z')).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(cutoffFor('1y', new Date('2028-02-29T00:00:00Z')).toISOString()).toBe('2027-02-28T00:00:00.000Z');
    expect(cutoffFor('90d', new Date('2026-11-27T12:00:00Z')).toISOString()).toBe('2026-08-29T12:00:00.000Z');
  });

  it('compares periods by where they put the cut-off', () => {
    expect(periodShorter('5y', '6y')).toBe(true);
    expect(periodShorter('P6Y', '6y')).toBe(false);
    expect(periodShorter('72m', '6y')).toBe(false);
    expect(periodShorter('2190d', '6y')).toBe(true); // 6 × 365 days falls short of six calendar years with leap days
  });
});

describe('cleanup methods', () => {
  const key = createSecretKey(Buffer.alloc(32, 1));
  it('are idempotent: cleaning a cleaned value changes nothing', () => {
    for (const [value, method] of [
      ['ann@example.com', 'hash'],
      ['1984-07-12', 'year'],
      [new Date('1984-07-12T00:00:00Z'), 'month'],
      ['SW1A 1AA', 'prefix:3'],
      ['Ann', 'fixed:(removed)'],
      ['Ann', 'null'],
    ] as const) {
      const once = cleanValue(value, method, key);
      expect(changes(value, once), `${method} changes the value`).toBe(true);
      expect(changes(once, cleanValue(once, method, key)), `${method} is idempotent`).toBe(false);
    }
  });
  it('hashes with the key: same input, same output; another key, another output', () => {
    const a = cleanValue('ann@example.com', 'hash', key) as string;
    expect(a.startsWith(HASH_PREFIX)).toBe(true);
    expect(cleanValue('ann@example.com', 'hash', key)).toBe(a);
    expect(cleanValue('ann@example.com', 'hash', createSecretKey(Buffer.alloc(32, 2)))).not.toBe(a);
    expect(() => cleanValue('x', 'hash', null)).toThrow(/needs a key/);
  });
});

describe('malformed policies in steward.yml', () => {
  const yml = (policy: string) =>
    ['sources:', '  - { name: s, kind: sqlite, url: s.db, owner: t }', 'retention:', '  policies:', `    - ${policy}`].join('\n');
  it('names the field and what is expected', () => {
    const e = (() => {
      try {
        loadConfigText(yml('{ name: p, source: s, table: t, from: d, period: 2 years, method: erase, legalBasis: x }'), { file: 'steward.yml', cwd: '/', env: {} });
      } catch (x) {
        return x;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toMatch(/retention\.policies\[0\]\.period: a period such as "2y"/);
    expect(() => loadConfigText(yml('{ name: p, source: s, table: t, from: d, period: 2y, method: shred, legalBasis: x }'), { file: 'steward.yml', cwd: '/', env: {} })).toThrow(/retention\.policies\[0\]\.method/);
    expect(() => loadConfigText(yml('{ name: p, source: s, table: t, from: d, period: 2y, method: cleanup, legalBasis: x, cleanup: { c: scramble } }'), { file: 'steward.yml', cwd: '/', env: {} })).toThrow(/null, hash, year, month, prefix:N, fixed:VALUE/);
    expect(() => loadConfigText(yml('{ name: p, source: s, table: t, from: d, period: 2y, method: erase }'), { file: 'steward.yml', cwd: '/', env: {} })).toThrow(/legalBasis/);
  });
});

describe('key order for certificates', () => {
  it('numbers (and numeric text from bigint drivers) numerically, text by code point, part by part', async () => {
    const { compareKeys } = await import('../../../src/retention/apply.js');
    const keys = [[10], ['9'], [2], [1.5], ['b'], ['a'], [3n], [2, 'b'], [2, 'a']];
    expect([...keys].sort(compareKeys)).toEqual([[1.5], [2], [2, 'a'], [2, 'b'], [3n], ['9'], [10], ['a'], ['b']]);
  });
});
