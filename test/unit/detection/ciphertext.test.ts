/**
 * The collection audit's idea of "already encrypted" (issue 11): a bare `stw1:` prefix is
 * what anyone who can write a field can write, so only a whole envelope counts.
 */
import { describe, expect, it } from 'vitest';
import { reviewInventory } from '../../../src/audit/collection-review.js';
import type { InventoryItem } from '../../../src/audit/types.js';
import { formatCiphertext } from '../../../src/crypto/format.js';
import { createClassifier } from '../../../src/detection/classify.js';
import { isStewardCiphertext } from '../../../src/detection/detectors/ciphertext.js';
import { maskValue } from '../../../src/detection/mask.js';

const FORGED = [
  'stw1:hello',
  'stw1:abc:1:xyz',
  'stw1:078-05-1120',
  'stw1:Q2x1c3Rlcg0:1:not base64!',
  'stw1:Q2x1c3Rlcg0:0:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', // version 0
  'stw1:Q2x1c3Rlcg0:1:AAAA', // too short for a nonce and a tag
  'stw1:Q2x1c3Rlcg0:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', // padded: not canonical
  ` ${formatCiphertext('Q2x1c3Rlcg0', 1, Buffer.alloc(40, 1))}`, // Steward never writes a leading space
];

describe('Steward ciphertext in detection', () => {
  it('is a whole envelope, not a prefix', () => {
    expect(isStewardCiphertext(formatCiphertext('Q2x1c3Rlcg0', 1, Buffer.alloc(40, 1)))).toBe(true);
    for (const v of FORGED) expect(isStewardCiphertext(v), v).toBe(false);
  });

  it('masks a forged prefix like any other value', () => {
    expect(maskValue(formatCiphertext('Q2x1c3Rlcg0', 1, Buffer.alloc(40, 1)))).toBe('stw1:****');
    expect(maskValue('stw1:hello')).not.toBe('stw1:****');
  });

  it('a column of forged `stw1:` values is not reported as encrypted by the collection review', () => {
    const classifier = createClassifier();
    const values = Array.from({ length: 40 }, (_, i) => `stw1:078-05-${String(1100 + i)}`);
    const c = classifier.classifyColumn({ table: 'customers', column: 'ssn', typeClass: 'text', values });
    expect(c.evidence.signals).not.toContainEqual({ kind: 'steward-ciphertext' });

    const real = Array.from({ length: 40 }, (_, i) => formatCiphertext('Q2x1c3Rlcg0', 1, Buffer.alloc(40 + i, i)));
    const enc = classifier.classifyColumn({ table: 'customers', column: 'ssn', typeClass: 'text', values: real });
    expect(enc.evidence.signals).toContainEqual({ kind: 'steward-ciphertext' });

    // What the review does with each signal set, for the category the column's name gives:
    // the forged column is plain text of a high-risk category, the real one is encrypted.
    const item = (category: string, signals: InventoryItem['evidence']['signals']): InventoryItem => ({
      source: 'shop',
      schema: 'main',
      table: 'customers',
      column: 'ssn',
      dataType: 'text',
      category: category as InventoryItem['category'],
      risk: 'high',
      confidence: 0.9,
      rowEstimate: 40,
      evidence: { signals, sampled: 40, matched: 40 },
      examples: [],
      freeText: [],
      purpose: null,
    });
    const purposes = [{ name: 'all', categories: ['*'] }];
    expect(enc.category).toBe('identity.government_id');
    expect(reviewInventory('shop', purposes, [item('identity.government_id', c.evidence.signals)]).map((f) => f.rule)).toContain('collection.plaintext-high-risk');
    expect(reviewInventory('shop', purposes, [item('identity.government_id', enc.evidence.signals)]).map((f) => f.rule)).not.toContain('collection.plaintext-high-risk');
  });
});
