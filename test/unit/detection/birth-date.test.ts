import { describe, expect, it } from 'vitest';
import { birthDate, isBirthDate, looksLikeBirthDates, parseDateLike } from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

const utc = (y: number, m: number, d: number, h = 0, mi = 0, s = 0): number => Date.UTC(y, m - 1, d, h, mi, s);

describe('parseDateLike', () => {
  it.each([
    ['1985-03-12', utc(1985, 3, 12)],
    ['1985/03/12', utc(1985, 3, 12)],
    ['12.03.1985', utc(1985, 3, 12)],
    ['12/03/1985', utc(1985, 3, 12)],
    ['03/25/1985', utc(1985, 3, 25)], // month-first when day-first is impossible
    ['25/03/1985', utc(1985, 3, 25)],
    ['12-03-1985', utc(1985, 3, 12)],
    ['1985-03-12T14:22:01Z', utc(1985, 3, 12, 14, 22, 1)],
    ['1985-03-12 14:22', utc(1985, 3, 12, 14, 22)],
    ['2023-01-05T10:00:00.123+02:00', utc(2023, 1, 5, 10)],
    ['2024-02-29', utc(2024, 2, 29)],
  ])('%s', (v, t) => expect(parseDateLike(v)?.getTime()).toBe(t));
  it('month-first option', () => {
    expect(parseDateLike('03/12/1985', { monthFirst: true })?.getTime()).toBe(utc(1985, 3, 12));
  });
  it.each(['2023-02-30', '2023-13-01', '31.04.2020', '2023-02-29', '1985-03-12x', '12.03.85', 'hello', '1.2.3', '2023-01-05 25:00'])(
    'rejects %s',
    (v) => expect(parseDateLike(v)).toBeNull(),
  );
});

describe('birth_date', () => {
  it.each(['1985-03-12', '12.03.1985', '01/02/1900', '1985-03-12 00:00:00', '2020-07-01'])('accepts %s', (v) =>
    expect(birthDate.test(v)).toBe(true),
  );
  it.each([
    ['future', '2099-01-01'],
    ['before 1900', '1850-01-01'],
    ['impossible', '2023-02-30'],
    ['with a time of day', '1985-03-12T14:22:01Z'],
    ['not a date', '100234'],
  ])('rejects %s', (_, v) => expect(birthDate.test(v)).toBe(false));
  it('today is the upper bound', () => {
    const now = new Date(Date.UTC(2024, 5, 1));
    expect(isBirthDate('2024-06-01', now)).toBe(true);
    expect(isBirthDate('2024-06-02', now)).toBe(false);
  });
  it('scan needs a birth cue', () => {
    const t = 'Born 12.03.1985 in Bonn. Ordered 2023-01-05. Geburtsdatum: 1990-07-21. né le 01/02/1970';
    expect(scanTexts(birthDate, t)).toEqual(['12.03.1985', '1990-07-21', '01/02/1970']);
  });
});

describe('looksLikeBirthDates', () => {
  const now = new Date(Date.UTC(2025, 0, 1));
  it('spread of adult ages → yes', () => {
    const dates = [1950, 1962, 1971, 1978, 1985, 1990, 1994, 2001, 1968, 1983].map((y, i) => new Date(Date.UTC(y, i % 12, 3 + i)));
    expect(looksLikeBirthDates(dates, now)).toBe(true);
  });
  it('created_at timestamps clustered in recent months → no', () => {
    const dates = Array.from({ length: 20 }, (_, i) => new Date(Date.UTC(2024, 8 + (i % 4), 1 + i, 10, 15, i)));
    expect(looksLikeBirthDates(dates, now)).toBe(false);
  });
  it('recent dates at midnight, spread over three years → no (median age too low)', () => {
    const dates = Array.from({ length: 20 }, (_, i) => new Date(Date.UTC(2022 + (i % 3), i % 12, 1)));
    expect(looksLikeBirthDates(dates, now)).toBe(false);
  });
  it('future dates → no', () => {
    expect(looksLikeBirthDates([new Date(Date.UTC(2030, 0, 1)), new Date(Date.UTC(2031, 0, 1))], now)).toBe(false);
  });
  it('all the same year → no', () => {
    const dates = Array.from({ length: 10 }, (_, i) => new Date(Date.UTC(1980, i, 1)));
    expect(looksLikeBirthDates(dates, now)).toBe(false);
  });
  it('empty → no', () => expect(looksLikeBirthDates([], now)).toBe(false));
});
