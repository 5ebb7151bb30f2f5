import { describe, expect, it } from 'vitest';
import { compileUserPattern, foldCase, loadConfigText, tryCompileUserPattern } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';

describe('user patterns on the linear-time engine', () => {
  it('compiles the catastrophic (a+)+$ and runs it on a hostile input quickly', () => {
    const re = compileUserPattern('(a+)+$', 'detection.columnRules[0].pattern');
    expect(re.flags).toContain('l');
    const hostile = `${'a'.repeat(1e5)}!`;
    const start = performance.now();
    expect(re.test(hostile)).toBe(false);
    // The backtracking engine needs ~2^100000 steps here; the linear one a fraction of a second.
    expect(performance.now() - start).toBeLessThan(2000);
    expect(re.test('xaaa')).toBe(true);
  });

  it('rejects a backreference with the path and the reason', () => {
    expect(() => compileUserPattern('(a)\\1', 'detection.detectors[2].pattern')).toThrow(ConfigError);
    try {
      compileUserPattern('(a)\\1', 'detection.detectors[2].pattern');
    } catch (e) {
      expect((e as ConfigError).code).toBe('CONFIG_INVALID');
      expect((e as ConfigError).message).toEqual(
        expect.stringContaining(
          'detection.detectors[2].pattern: must be a linear-time regular expression: no backreferences or lookaround; here it has a backreference',
        ),
      );
    }
  });

  it('names lookaround, big counts, \\p{…} and syntax errors', () => {
    const reason = (src: string): string => {
      const r = tryCompileUserPattern(src);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason('(?=x)y')).toEqual(expect.stringContaining('it has lookaround'));
    expect(reason('(?<!x)y')).toEqual(expect.stringContaining('it has lookaround'));
    expect(reason('[A-Z0-9]{11,30}')).toEqual(expect.stringContaining('a counted repetition {n,m} goes above 16: use + or * instead'));
    expect(reason('\\p{L}+')).toEqual(expect.stringContaining('Unicode property escapes'));
    expect(reason('(unclosed')).toEqual(expect.stringContaining('is not a valid regular expression: Unterminated group'));
    expect(reason('[0-9]{4}-[0-9]{2}')).toBe('ok');
  });

  it('matches case-insensitively without the i flag', () => {
    const re = compileUserPattern('^cust_[a-f0-9]+$', 'p');
    expect(re.flags).not.toContain('i');
    expect(re.test('CUST_ABC123')).toBe(true);
    expect(re.test('Cust_abc123')).toBe(true);
    expect(re.test('cust_xyz')).toBe(false);
    const whole = compileUserPattern('a|b', 'p', { whole: true });
    expect(whole.test('B')).toBe(true);
    expect(whole.test('ab')).toBe(false);
    const global = compileUserPattern('x+', 'p', { global: true });
    expect('aXxbx'.match(global)).toEqual(['Xx', 'x']);
  });

  it('folds only literal letters', () => {
    expect(foldCase('ab')).toBe('[aA][bB]');
    expect(foldCase('\\d\\w\\x4a\\u00e9')).toBe('\\d\\w\\x4a\\u00e9');
    expect(foldCase('[a-c_]')).toBe('[a-c_A-C]');
    expect(foldCase('[^x]')).toBe('[^xX]');
    expect(foldCase('(?<name>x)\\k<name>')).toBe('(?<name>[xX])\\k<name>');
    expect(foldCase('(?:é){2,3}')).toBe('(?:[éÉ]){2,3}');
  });

  it('rejects bad patterns in steward.yml at their YAML position and compiles good ones', () => {
    const text = `sources:
  - { name: shop, kind: sqlite, url: shop.db, owner: me, purposes: [] }
detection:
  columnRules:
    - pattern: '(a)\\1'
      category: null
    - pattern: '\\.sku$'
      category: null
  detectors:
    - id: cust
      category: identity.government_id
      pattern: 'CUST-[0-9]{8}'
      columnNames: ['(?!x)', 'customer_?(no|number)']
`;
    let err: ConfigError | undefined;
    try {
      loadConfigText(text, { env: {} });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.issues).toEqual([
      expect.stringContaining('steward.yml:5:16 detection.columnRules[0].pattern: must be a linear-time regular expression'),
      expect.stringContaining('steward.yml:13:21 detection.detectors[0].columnNames[0]: must be a linear-time regular expression'),
    ]);
    const good = loadConfigText(text.replace("'(a)\\1'", () => "'^legacy\\.notes$'").replace("'(?!x)', ", ''), { env: {} });
    expect(good.patterns.columnRules).toHaveLength(2);
    expect(good.patterns.columnRules[1]?.test('products.SKU')).toBe(true);
    expect(good.patterns.detectors[0]?.pattern.test('cust-12345678')).toBe(true);
    expect(good.patterns.detectors[0]?.columnNames[0]?.test('Customer_No')).toBe(true);
  });
});
