import { describe, expect, it } from 'vitest';
import { isHouseNumber, postalAddress } from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

describe('postal_address', () => {
  it.each([
    '221B Baker Street',
    '123 Main St, Springfield, IL 62704',
    '10 Downing St.',
    '742 Evergreen Terrace',
    '12 rue de la Paix',
    '12 bis rue Victor Hugo',
    '5, avenue des Champs-Élysées',
    'Hauptstraße 5',
    'Hauptstrasse 5',
    'Bahnhofstr. 3',
    'Berliner Straße 12a',
    'Lindenweg 7, 10115 Berlin',
    'Calle Mayor, 10',
    'Avenida de América 5',
    'Via Roma 12',
    'Piazza Navona 5',
    'Kerkstraat 12',
    'Dorpslaan 7',
    '764 Alene Expressway',
    '3 Elisha Mead',
    'Am Benthal 318',
    'An der Kirche 3',
    'Calle Mayor s/n, 28013 Madrid',
    'Borgo Angelini 80',
    'Rietmanplantsoen 11',
  ])('accepts %s', (v) => expect(postalAddress.test(v)).toBe(true));
  it.each([
    '2 Drive Bays',
    'Blue Widget',
    'Street',
    'Main Street',
    'Hauptstraße',
    '12345',
    'Order 12 shipped',
    'Way 2 go',
    'Premium plan 2024',
    'x'.repeat(300) + ' 12 Main Street',
  ])('rejects %s', (v) => expect(postalAddress.test(v)).toBe(false));
  it('house numbers', () => {
    for (const v of ['1', '221b', '12-14', '12/3', '12bis', '99999']) expect(isHouseNumber(v), v).toBe(true);
    for (const v of ['0', '123456', '12ab', 'abc', '500GB']) expect(isHouseNumber(v), v).toBe(false);
  });
  it('scan', () => {
    const t = 'Please ship to 221B Baker Street, London. Rechnung an Hauptstr. 5 in Köln.\nThanks!';
    expect(scanTexts(postalAddress, t)).toEqual(['221B Baker Street', 'Hauptstr. 5']);
  });
});
