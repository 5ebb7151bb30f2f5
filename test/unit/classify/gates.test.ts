import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../../src/detection/classify.js';
import { BUILTIN_DETECTORS } from '../../../src/detection/detectors/index.js';
import { LABELLED_TABLES } from '../../../bench/corpus/labelled.js';

/** Gates are an optimisation: they must never change which detectors accept a value. */
describe('detector gates', () => {
  const values: string[] = [
    'SW1A 1AA', 'W1A 0AX', 'K1A 0B1', '1234 AB', '10115', '90210-1234', 'Maria', 'José García', 'O\'Brien',
    '+44 20 7946 0958', '030 901820', '(415) 555-2671', '078-05-1120', '123456789', 'AB123456C', '12345678Z', 'X1234567L',
    '1 84 12 76 451 089 46', '184127645108946', '65929970489', '4111 1111 1111 1111', 'DE89 3704 0044 0532 0130 00',
    '192.168.0.1', '::1', '2001:db8::8a2e:370:7334', '48.8566, 2.3522', 'POINT(2.35 48.85)', '1984-03-12', '12.03.1984',
    '221B Baker Street', 'Calle Mayor 5', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'postgres://user:secret@db.example.com/app', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc', 'a@b.co', 'x@y', '',
  ];
  for (const table of LABELLED_TABLES) {
    for (const row of table.rows(5, 60)) for (const v of Object.values(row)) if (v !== null && typeof v !== 'boolean') values.push(String(v));
  }

  it(`gated and ungated classification agree on ${'≥'}2000 values`, () => {
    expect(values.length).toBeGreaterThan(2000);
    const gated = createClassifier();
    const ungated = createClassifier({ gates: false });
    const disagreements = values.filter((v) => JSON.stringify(gated.classifyValue(v)) !== JSON.stringify(ungated.classifyValue(v)));
    expect(disagreements).toEqual([]);
  });

  it('every value a detector accepts passes that detector\'s gate', async () => {
    const { GATES, features } = await import('../../../src/detection/classify.js');
    const failures: string[] = [];
    let checked = 0;
    for (const v of values) {
      const t = v.trim();
      for (const d of BUILTIN_DETECTORS) {
        const gate = GATES[d.id];
        if (!gate || !d.test(t)) continue;
        checked++;
        if (!gate(features(t))) failures.push(`${d.id}: ${t}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(500);
    expect(Object.keys(GATES).sort()).toEqual(BUILTIN_DETECTORS.map((d) => d.id).sort());
  });
});
