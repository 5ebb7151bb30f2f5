import { describe, expect, it } from 'vitest';
import { geolocation, isLatitude, isLongitude } from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

describe('geolocation', () => {
  it.each(['48.8566, 2.3522', '48.8566,2.3522', '-33.8688, 151.2093', '40.7128;-74.0060', '51.5074 -0.1278', 'POINT(2.35 48.85)', 'point (-74.006 40.7128)'])(
    'accepts %s',
    (v) => expect(geolocation.test(v)).toBe(true),
  );
  it.each([
    ['too few decimals', '48.85, 2.35'],
    ['latitude out of range', '95.1234, 2.3456'],
    ['longitude out of range', '45.1234, 200.3456'],
    ['POINT latitude out of range', 'POINT(2.35 98.85)'],
    ['null island', '0.000, 0.000'],
    ['ratios near (0, 0)', '0.9565, 0.4355'],
    ['version', '1.2.3'],
    ['three numbers', '48.8566, 2.3522, 3.4444'],
    ['single number', '48.8566'],
  ])('rejects %s', (_, v) => expect(geolocation.test(v)).toBe(false));
  it('separate columns', () => {
    expect(isLatitude('48.8566')).toBe(true);
    expect(isLatitude(-33.8688)).toBe(true);
    expect(isLatitude('91.0000')).toBe(false);
    expect(isLatitude('48.85')).toBe(false);
    expect(isLongitude('151.2093')).toBe(true);
    expect(isLongitude('-181.0000')).toBe(false);
    expect(isLongitude('12')).toBe(false);
  });
  it('scan', () => {
    expect(scanTexts(geolocation, 'Seen at 48.8566, 2.3522 yesterday; price 12.50, 13.75; v1.234, 5.678.9')).toEqual(['48.8566, 2.3522']);
  });
});
