import { describe, expect, it } from 'vitest';
import { matchColumnName, normalizeName, tableContext } from '../../../src/detection/names.js';

describe('normalizeName', () => {
  it('splits camelCase, separators and strips accents', () => {
    expect(normalizeName('customerEmailAddress')).toEqual(['customer', 'email', 'address']);
    expect(normalizeName('Téléphone-Portable')).toEqual(['telephone', 'portable']);
    expect(normalizeName('Straße')).toEqual(['strasse']);
    expect(normalizeName('HTTPStatusCode')).toEqual(['http', 'status', 'code']);
  });
});

describe('matchColumnName', () => {
  const cases: [string, string | null, string?][] = [
    ['email', 'contact.email'],
    ['customer_email', 'contact.email'],
    ['correo', 'contact.email', 'es'],
    ['courriel', 'contact.email', 'fr'],
    ['emailAdresse', 'contact.email'],
    ['telefon', 'contact.phone', 'de'],
    ['telefonnummer', 'contact.phone', 'de'],
    ['Telefonnummer_privat', 'contact.phone', 'de'],
    ['telefono', 'contact.phone', 'es'],
    ['mobile_number', 'contact.phone'],
    ['geburtsdatum', 'identity.date_of_birth', 'de'],
    ['fecha_nacimiento', 'identity.date_of_birth', 'es'],
    ['date_de_naissance', 'identity.date_of_birth', 'fr'],
    ['dob', 'identity.date_of_birth'],
    ['nachname', 'identity.person_name', 'de'],
    ['prenom', 'identity.person_name', 'fr'],
    ['apellidos', 'identity.person_name', 'es'],
    ['first_name', 'identity.person_name'],
    ['ssn', 'identity.government_id'],
    ['national_insurance_number', 'identity.government_id'],
    ['steuer_id', 'identity.government_id', 'de'],
    ['national_id', 'identity.government_id'],
    ['card_number', 'financial.card'],
    ['iban', 'financial.bank_account'],
    ['code_postal', 'contact.postcode', 'fr'],
    ['plz', 'contact.postcode', 'de'],
    ['zip', 'contact.postcode'],
    ['ip_address', 'network.ip_address'],
    ['latitude', 'location.geolocation'],
    ['password', 'credentials.secret'],
    ['passwort', 'credentials.secret', 'de'],
    ['api_key', 'credentials.secret'],
    ['geschlecht', 'demographic.gender', 'de'],
    // Facts about personal data, not the data.
    ['email_sent', null],
    ['is_email_verified', null],
    ['phone_verified_at', null],
    ['card_count', null],
    ['password_changed_at', null],
    ['password_hash', null],
    ['email_template_id', null],
    ['address_id', null],
    ['card_last4', null],
    // Unrelated.
    ['sku', null],
    ['price_cents', null],
    ['created_at', null],
    ['status', null],
  ];
  it.each(cases)('%s → %s', (column, category, language) => {
    const m = matchColumnName(column);
    expect(m?.category ?? null).toBe(category);
    if (language) expect(m?.language).toBe(language);
  });

  it('marks ambiguous names', () => {
    expect(matchColumnName('name')).toMatchObject({ category: 'identity.person_name', ambiguous: true });
    expect(matchColumnName('full_name')).toMatchObject({ category: 'identity.person_name', ambiguous: false });
  });

  it('prefers the longest term', () => {
    expect(matchColumnName('email_address')?.rule).toBe('email_address');
  });
});

describe('tableContext', () => {
  it('tells people tables from thing tables', () => {
    expect(tableContext('customers')).toBe('person');
    expect(tableContext('Kunden')).toBe('person');
    expect(tableContext('products')).toBe('thing');
    expect(tableContext('product_categories')).toBe('thing');
    expect(tableContext('audit_log')).toBe('unknown');
  });
});
