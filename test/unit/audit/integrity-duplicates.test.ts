/** The exact-duplicate arithmetic behind hashed grouping: a hash collision never changes a count. */
import { describe, expect, it } from 'vitest';
import { duplicateCounts } from '../../../src/audit/integrity.js';
import { InternalError } from '../../../src/errors.js';

describe('duplicateCounts', () => {
  it('counts one duplicated value per confirmed group (min = max) and the rows beyond the first', () => {
    // Groups of 3, 2 and 4 rows, each holding one value: 3 values, 2 + 1 + 3 extra rows.
    expect(duplicateCounts({ groups: 3, rows: 9 }, 0)).toEqual({ duplicatedValues: 3, duplicateRows: 6 });
  });

  it('is zero when no group repeats', () => {
    expect(duplicateCounts({ groups: 0, rows: 0 }, 0)).toEqual({ duplicatedValues: 0, duplicateRows: 0 });
  });

  it('takes a collided group (two values, one hash) from the recount by value, not from its size', () => {
    // One confirmed group of 2 rows; one collided group of 5 rows holding "a" ×3 and "b" ×2
    // would count as 1 value and 4 extra rows if trusted; by value it is 2 values, 3 extra rows.
    expect(duplicateCounts({ groups: 1, rows: 2 }, 1, { duplicatedValues: 2, duplicateRows: 3 })).toEqual({ duplicatedValues: 3, duplicateRows: 4 });
    // Two distinct single values sharing a hash are no duplicate at all.
    expect(duplicateCounts({ groups: 0, rows: 0 }, 1, { duplicatedValues: 0, duplicateRows: 0 })).toEqual({ duplicatedValues: 0, duplicateRows: 0 });
  });

  it('refuses to answer for collided groups without a recount', () => {
    expect(() => duplicateCounts({ groups: 1, rows: 2 }, 2)).toThrow(InternalError);
    expect(() => duplicateCounts({ groups: 1, rows: 2 }, 2)).toThrow(/not recounted/);
  });
});
