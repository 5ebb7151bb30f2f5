import { describe, expect, it } from 'vitest';
import { coveringPurpose, findingId, reviewInventory } from '../../../src/audit/collection-review.js';
import type { InventoryItem } from '../../../src/audit/types.js';

function item(over: Partial<InventoryItem>): InventoryItem {
  return {
    source: 'shop',
    schema: 'main',
    table: 'customers',
    column: 'email',
    dataType: 'text',
    category: 'contact.email',
    risk: 'medium',
    confidence: 0.95,
    rowEstimate: 2000,
    evidence: { signals: [], sampled: 100, matched: 98 },
    examples: [],
    freeText: [],
    purpose: null,
    ...over,
  };
}

describe('findingId', () => {
  it('is stable and depends on rule, location and category', () => {
    const a = findingId('collection.plaintext-high-risk', { source: 's', schema: 'p', table: 't', column: 'c' }, 'financial.card');
    expect(a).toBe(findingId('collection.plaintext-high-risk', { source: 's', schema: 'p', table: 't', column: 'c' }, 'financial.card'));
    expect(a).toMatch(/^PHR-[0-9a-f]{10}$/);
    expect(a).not.toBe(findingId('collection.plaintext-high-risk', { source: 's', schema: 'p', table: 't', column: 'd' }, 'financial.card'));
    expect(a).not.toBe(findingId('collection.purpose-not-declared', { source: 's', schema: 'p', table: 't', column: 'c' }, 'financial.card'));
    // No separator ambiguity: ("ab","c") differs from ("a","bc").
    expect(findingId('collection.no-tables', { source: 'ab', schema: 'c' })).not.toBe(findingId('collection.no-tables', { source: 'a', schema: 'bc' }));
  });
});

describe('coveringPurpose', () => {
  const purposes = [
    { name: 'orders', categories: ['contact.*', 'financial.card'] },
    { name: 'security', categories: ['network.ip_address'] },
  ];
  it('matches exact ids and group wildcards', () => {
    expect(coveringPurpose(purposes, 'contact.phone')).toBe('orders');
    expect(coveringPurpose(purposes, 'network.ip_address')).toBe('security');
    expect(coveringPurpose(purposes, 'identity.date_of_birth')).toBeNull();
    expect(coveringPurpose([{ name: 'all', categories: ['*'] }], 'special.health')).toBe('all');
  });
});

describe('reviewInventory', () => {
  const purposes = [{ name: 'orders', categories: ['contact.*', 'identity.person_name'] }];

  it('reports categories no purpose covers, and nothing for covered ones', () => {
    const f = reviewInventory('shop', purposes, [item({}), item({ column: 'date_of_birth', category: 'identity.date_of_birth' })]);
    expect(f.map((x) => x.rule)).toEqual(['collection.purpose-not-declared']);
    expect(f[0]!.location.column).toBe('date_of_birth');
    expect(f[0]!.remedy).toContain('identity.date_of_birth');
  });

  it('reports high-risk plaintext with severity by category', () => {
    const f = reviewInventory('shop', [{ name: 'all', categories: ['*'] }], [
      item({ table: 'orders', column: 'card_number', category: 'financial.card', risk: 'high' }),
      item({ column: 'ssn', category: 'identity.government_id', risk: 'high' }),
      item({ table: 'integrations', column: 'api_token', category: 'credentials.secret', risk: 'high' }),
    ]);
    expect(f.map((x) => [x.rule, x.location.column, x.severity])).toEqual([
      ['collection.plaintext-high-risk', 'card_number', 'critical'],
      ['collection.plaintext-high-risk', 'ssn', 'high'],
      ['collection.plaintext-high-risk', 'api_token', 'critical'],
    ]);
    expect(f[0]!.remedy).toMatch(/PCI DSS/);
    // The remedy is the exact command that encrypts the column in place.
    expect(f[1]!.remedy).toContain('`steward encrypt --source shop --column customers.ssn --dry-run`');
  });

  it('does not report Steward-encrypted high-risk columns as plaintext', () => {
    const f = reviewInventory('shop', [{ name: 'all', categories: ['*'] }], [
      item({ column: 'card_number', category: 'financial.card', evidence: { signals: [{ kind: 'steward-ciphertext' }], sampled: 10, matched: 10 } }),
    ]);
    expect(f).toEqual([]);
  });

  it('reports free text with embedded personal data and checks purposes of the embedded categories', () => {
    const f = reviewInventory('shop', purposes, [
      item({
        table: 'support_tickets',
        column: 'body',
        category: 'content.free_text',
        evidence: { signals: [], sampled: 200, matched: 61 },
        freeText: [
          { category: 'contact.email', detector: 'email', rows: 40 },
          { category: 'financial.card', detector: 'card', rows: 3 },
        ],
      }),
    ]);
    const rules = f.map((x) => `${x.rule}:${x.category ?? ''}:${x.severity}`);
    expect(rules).toContain('collection.purpose-not-declared:financial.card:high');
    expect(rules).toContain('collection.free-text-pii::high');
    expect(rules).not.toContain('collection.purpose-not-declared:contact.email:medium');
    const ft = f.find((x) => x.rule === 'collection.free-text-pii')!;
    expect(ft.message).toContain('61 of 200');
    expect(ft.message).toContain('contact.email in 40');
  });
});
