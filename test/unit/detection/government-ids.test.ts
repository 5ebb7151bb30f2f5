import { describe, expect, it } from 'vitest';
import {
  deTaxCheckDigit,
  deTaxId,
  esDni,
  frNir,
  isDashedSsn,
  isSsn,
  isValidNinoPrefix,
  ssn,
  ukNino,
} from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

describe('ssn', () => {
  it.each(['536-90-4399', '536904399', '001-01-0001', '899-99-9999', '665-12-3456'])('accepts %s', (v) =>
    expect(ssn.test(v)).toBe(true),
  );
  it.each([
    ['area 000', '000-12-3456'],
    ['area 666', '666-12-3456'],
    ['area 9xx', '900-12-3456'],
    ['area 999', '999-12-3456'],
    ['group 00', '536-00-4399'],
    ['serial 0000', '536-90-0000'],
    ['advertising (Woolworth)', '078-05-1120'],
    ['advertising', '219-09-9999'],
    ['sample', '123-45-6789'],
    ['wrong dashes', '53-690-4399'],
    ['too many digits', '5369043991'],
    ['letters', '536-9O-4399'],
  ])('rejects %s %s', (_, v) => expect(ssn.test(v)).toBe(false));
  it('strict mode requires dashes', () => {
    expect(isSsn('536904399', true)).toBe(false);
    expect(isSsn('536-90-4399', true)).toBe(true);
    expect(isDashedSsn('536904399')).toBe(false);
  });
  it('scan finds only dashed SSNs', () => {
    expect(scanTexts(ssn, 'SSN 536-90-4399, not 536904399, not 000-12-3456, not 1-536-90-4399-2')).toEqual(['536-90-4399']);
  });
});

describe('uk_nino', () => {
  it.each(['AB123456C', 'AB 12 34 56 C', 'ab123456c', 'AB123456', 'JG 10 38 25 D', 'CE123456A'])('accepts %s', (v) =>
    expect(ukNino.test(v)).toBe(true),
  );
  it.each([
    ['forbidden prefix BG', 'BG123456A'],
    ['forbidden prefix GB', 'GB123456A'],
    ['forbidden prefix ZZ', 'ZZ123456A'],
    ['forbidden prefix NK', 'NK123456A'],
    ['first letter D', 'DA123456A'],
    ['first letter Q', 'QQ123456C'],
    ['second letter O', 'AO123456A'],
    ['suffix E', 'AB123456E'],
    ['five digits', 'AB12345C'],
    ['digits first', '12AB3456C'],
  ])('rejects %s', (_, v) => expect(ukNino.test(v)).toBe(false));
  it('prefix rules', () => {
    expect(isValidNinoPrefix('AB')).toBe(true);
    expect(isValidNinoPrefix('TN')).toBe(false);
    expect(isValidNinoPrefix('AV')).toBe(false);
  });
  it('scan requires the suffix', () => {
    expect(scanTexts(ukNino, 'NI number AB 12 34 56 C and AB123456D; not AB123456 nor BG123456A')).toEqual(['AB 12 34 56 C', 'AB123456D']);
  });
});

describe('es_dni', () => {
  it.each(['12345678Z', '12345678-Z', '12345678z', '00000000T', 'X1234567L', 'Y1234567X', 'Z1234567R'])('accepts %s', (v) =>
    expect(esDni.test(v)).toBe(true),
  );
  it.each([
    ['wrong letter', '12345678A'],
    ['NIE wrong letter', 'X1234567A'],
    ['7 digits', '1234567Z'],
    ['9 digits', '123456789Z'],
    ['no letter', '12345678'],
  ])('rejects %s', (_, v) => expect(esDni.test(v)).toBe(false));
  it('scan', () => {
    expect(scanTexts(esDni, 'DNI 12345678Z, NIE X1234567L, no 12345678A')).toEqual(['12345678Z', 'X1234567L']);
  });
});

describe('fr_nir', () => {
  it.each(['185057800608491', '1 85 05 78 006 084 91', '275122A12345603', '2 75 12 2B 123 456 30'])('accepts %s', (v) =>
    expect(frNir.test(v)).toBe(true),
  );
  it.each([
    ['wrong key', '185057800608492'],
    ['Corsica 2A with the 2B key', '275122A12345630'],
    ['sex digit 5', '585057800608491'],
    ['month 13', '185137800608491'],
    ['14 digits', '18505780060849'],
  ])('rejects %s', (_, v) => expect(frNir.test(v)).toBe(false));
  it('scan', () => {
    expect(scanTexts(frNir, 'NIR 1 85 05 78 006 084 91 et 185057800608491; pas 185057800608492')).toEqual([
      '1 85 05 78 006 084 91',
      '185057800608491',
    ]);
  });
});

describe('de_tax_id', () => {
  it.each(['86095742719', '65929970489', '57549285017', '25768131411', '86 095 742 719'])('accepts %s', (v) =>
    expect(deTaxId.test(v)).toBe(true),
  );
  it.each([
    ['wrong check digit', '86095742718'],
    ['leading zero', '06095742719'],
    ['no repeated digit', '12345678903'],
    ['all the same', '11111111111'],
    ['three adjacent repeats', '11123456789'],
    ['10 digits', '8609574271'],
  ])('rejects %s', (_, v) => expect(deTaxId.test(v)).toBe(false));
  it('check digit', () => {
    expect(deTaxCheckDigit('8609574271')).toBe(9);
  });
  it('scan', () => {
    expect(scanTexts(deTaxId, 'IdNr 86095742719, falsch 86095742718')).toEqual(['86095742719']);
  });
});
