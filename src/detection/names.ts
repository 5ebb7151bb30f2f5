/**
 * Column-name signals in English, German, French, Spanish, Italian and Dutch.
 *
 * A name is normalised (accents stripped, camelCase and separators split into
 * lower-case tokens) and matched against per-category term lists, both as whole
 * tokens and as the compacted name (`telefonnummer`, `emailaddress`). Modifier
 * tokens turn a match off: `email_sent`, `phone_verified_at`, `card_count` are
 * facts about the data, not the data.
 */
import type { Category } from './taxonomy.js';

export interface NameRule {
  readonly category: Category;
  /** Terms matched against a whole token, or a run of tokens joined by `_`. */
  readonly terms: readonly string[];
  /** Compound words matched against the name without separators. */
  readonly compounds?: readonly string[];
  readonly language: string;
  /** Ambiguous names (`name`, `long`, `location`) need value or context support. */
  readonly ambiguous?: boolean;
}

const R = (category: Category, language: string, terms: string[], compounds: string[] = [], ambiguous = false): NameRule => ({
  category,
  language,
  terms,
  compounds,
  ambiguous,
});

export const NAME_RULES: readonly NameRule[] = [
  // contact.email
  R('contact.email', 'en', ['email', 'e_mail', 'email_address', 'mail_address', 'emailaddress'], ['emailaddress', 'emailadresse']),
  R('contact.email', 'en', ['mail'], [], true),
  R('contact.email', 'es', ['correo', 'correo_electronico', 'email_contacto'], ['correoelectronico']),
  R('contact.email', 'fr', ['courriel', 'adresse_mail', 'adresse_email', 'mel'], ['adressemail', 'adresseemail']),
  R('contact.email', 'de', ['mail_adresse', 'e_post'], ['mailadresse', 'emailadresse']),
  R('contact.email', 'it', ['posta_elettronica'], ['postaelettronica']),
  // contact.phone
  R('contact.phone', 'en', ['phone', 'phone_number', 'telephone', 'tel', 'mobile', 'mobile_number', 'cell', 'cellphone', 'cell_phone', 'msisdn', 'fax', 'phone_no', 'contact_number'], ['phonenumber', 'mobilenumber', 'cellphone']),
  R('contact.phone', 'de', ['telefon', 'telefonnummer', 'handy', 'handynummer', 'mobil', 'mobilnummer', 'rufnummer', 'festnetz'], ['telefonnummer', 'handynummer', 'mobilnummer', 'rufnummer']),
  R('contact.phone', 'fr', ['telephone', 'portable', 'numero_telephone', 'numero_de_telephone', 'tel_portable'], ['numerotelephone']),
  R('contact.phone', 'es', ['telefono', 'movil', 'celular', 'numero_telefono', 'numero_de_telefono'], ['numerotelefono']),
  R('contact.phone', 'it', ['cellulare', 'telefono_cellulare', 'numero_di_telefono']),
  R('contact.phone', 'nl', ['telefoonnummer', 'mobiel'], ['telefoonnummer']),
  // identity.person_name
  R('identity.person_name', 'en', ['first_name', 'firstname', 'given_name', 'last_name', 'lastname', 'surname', 'family_name', 'full_name', 'fullname', 'middle_name', 'maiden_name', 'customer_name', 'contact_name', 'person_name', 'cardholder_name', 'holder_name', 'recipient_name', 'billing_name', 'shipping_name', 'forename'], ['firstname', 'lastname', 'fullname', 'givenname', 'familyname', 'surname']),
  R('identity.person_name', 'en', ['name', 'names'], [], true),
  R('identity.person_name', 'de', ['vorname', 'nachname', 'familienname', 'vollstaendiger_name', 'rufname', 'geburtsname'], ['vorname', 'nachname', 'familienname', 'geburtsname']),
  R('identity.person_name', 'fr', ['prenom', 'nom_de_famille', 'nom_complet', 'nom_famille'], ['prenom', 'nomdefamille']),
  R('identity.person_name', 'fr', ['nom'], [], true),
  R('identity.person_name', 'es', ['nombre_completo', 'apellido', 'apellidos', 'primer_apellido', 'segundo_apellido'], ['apellido', 'apellidos', 'nombrecompleto']),
  R('identity.person_name', 'es', ['nombre'], [], true),
  R('identity.person_name', 'it', ['cognome', 'nome_completo'], ['cognome']),
  R('identity.person_name', 'nl', ['voornaam', 'achternaam'], ['voornaam', 'achternaam']),
  // identity.date_of_birth
  R('identity.date_of_birth', 'en', ['dob', 'date_of_birth', 'birth_date', 'birthdate', 'birthday', 'born_on', 'birth_day', 'd_o_b'], ['dateofbirth', 'birthdate', 'birthday']),
  R('identity.date_of_birth', 'de', ['geburtsdatum', 'geburtstag', 'geb_datum'], ['geburtsdatum', 'geburtstag']),
  R('identity.date_of_birth', 'fr', ['date_naissance', 'date_de_naissance', 'naissance'], ['datenaissance', 'datedenaissance']),
  R('identity.date_of_birth', 'es', ['fecha_nacimiento', 'fecha_de_nacimiento', 'nacimiento'], ['fechanacimiento', 'fechadenacimiento']),
  R('identity.date_of_birth', 'it', ['data_di_nascita', 'data_nascita'], ['datadinascita']),
  R('identity.date_of_birth', 'nl', ['geboortedatum'], ['geboortedatum']),
  // identity.government_id
  R('identity.government_id', 'en', ['ssn', 'social_security', 'social_security_number', 'social_security_no', 'national_id', 'national_id_number', 'national_insurance', 'national_insurance_number', 'nino', 'ni_number', 'tax_id', 'tin', 'taxpayer_id', 'passport', 'passport_number', 'passport_no', 'driver_license', 'drivers_license', 'driving_licence', 'licence_number', 'id_card', 'id_number', 'government_id'], ['socialsecurity', 'nationalinsurance', 'passportnumber', 'nationalid', 'taxid']),
  R('identity.government_id', 'de', ['steuer_id', 'steuerid', 'steuernummer', 'steuer_identifikationsnummer', 'personalausweis', 'ausweisnummer', 'sozialversicherungsnummer', 'reisepass'], ['steueridentifikationsnummer', 'steuernummer', 'personalausweis', 'ausweisnummer', 'sozialversicherungsnummer', 'reisepassnummer']),
  R('identity.government_id', 'fr', ['nir', 'insee', 'numero_securite_sociale', 'securite_sociale', 'numero_secu', 'numero_fiscal', 'carte_identite', 'passeport'], ['numerosecuritesociale', 'securitesociale']),
  R('identity.government_id', 'es', ['dni', 'nie', 'nif', 'documento_identidad', 'numero_documento', 'pasaporte'], ['documentoidentidad']),
  R('identity.government_id', 'it', ['codice_fiscale'], ['codicefiscale']),
  R('identity.government_id', 'nl', ['bsn', 'burgerservicenummer'], ['burgerservicenummer']),
  // financial.card
  R('financial.card', 'en', ['card_number', 'credit_card', 'credit_card_number', 'cc_number', 'ccnum', 'cc_num', 'pan', 'card_no', 'card_num', 'debit_card', 'payment_card'], ['cardnumber', 'creditcard', 'creditcardnumber', 'ccnumber']),
  R('financial.card', 'de', ['kreditkarte', 'kreditkartennummer', 'kartennummer'], ['kreditkartennummer', 'kreditkarte', 'kartennummer']),
  R('financial.card', 'fr', ['carte_bancaire', 'numero_carte', 'numero_de_carte', 'carte_credit'], ['cartebancaire', 'numerocarte']),
  R('financial.card', 'es', ['tarjeta', 'numero_tarjeta', 'tarjeta_credito', 'numero_de_tarjeta'], ['numerotarjeta', 'tarjetacredito']),
  // financial.bank_account
  R('financial.bank_account', 'en', ['iban', 'bank_account', 'bank_account_number', 'account_number', 'sort_code', 'routing_number'], ['bankaccount', 'accountnumber', 'ibannumber']),
  R('financial.bank_account', 'de', ['kontonummer', 'bankverbindung'], ['kontonummer', 'bankverbindung']),
  R('financial.bank_account', 'fr', ['rib', 'compte_bancaire'], ['comptebancaire']),
  R('financial.bank_account', 'es', ['cuenta_bancaria', 'numero_cuenta'], ['cuentabancaria']),
  // contact.postal_address
  R('contact.postal_address', 'en', ['address', 'street', 'street_address', 'address_line', 'address_line1', 'address_line_1', 'address_line2', 'address_line_2', 'address1', 'address2', 'addr', 'addr1', 'line1', 'home_address', 'billing_address', 'shipping_address', 'mailing_address', 'postal_address', 'house_number'], ['streetaddress', 'addressline', 'homeaddress', 'billingaddress', 'shippingaddress']),
  R('contact.postal_address', 'de', ['strasse', 'anschrift', 'hausnummer', 'adresse', 'wohnort'], ['strasse', 'anschrift', 'hausnummer', 'lieferadresse', 'rechnungsadresse']),
  R('contact.postal_address', 'fr', ['rue', 'adresse_postale', 'domicile'], ['adressepostale']),
  R('contact.postal_address', 'es', ['direccion', 'calle', 'domicilio', 'direccion_postal'], ['direccion', 'direccionpostal']),
  R('contact.postal_address', 'it', ['indirizzo'], ['indirizzo']),
  R('contact.postal_address', 'nl', ['adres', 'straat', 'straatnaam', 'huisnummer'], ['straatnaam', 'huisnummer']),
  // contact.postcode
  R('contact.postcode', 'en', ['postcode', 'post_code', 'postal_code', 'zip', 'zipcode', 'zip_code', 'postalcode'], ['postcode', 'postalcode', 'zipcode']),
  R('contact.postcode', 'de', ['plz', 'postleitzahl'], ['postleitzahl']),
  R('contact.postcode', 'fr', ['code_postal'], ['codepostal']),
  R('contact.postcode', 'es', ['codigo_postal'], ['codigopostal']),
  R('contact.postcode', 'it', ['codice_postale'], ['codicepostale']),
  // network.ip_address
  R('network.ip_address', 'en', ['ip', 'ip_address', 'ip_addr', 'ipaddr', 'ipaddress', 'ipv4', 'ipv6', 'remote_addr', 'remote_ip', 'client_ip', 'last_ip', 'source_ip', 'x_forwarded_for', 'login_ip', 'signup_ip'], ['ipaddress', 'ipaddr', 'remoteaddr', 'clientip']),
  R('network.ip_address', 'de', ['ip_adresse'], ['ipadresse']),
  R('network.ip_address', 'fr', ['adresse_ip'], ['adresseip']),
  R('network.ip_address', 'es', ['direccion_ip'], ['direccionip']),
  // location.geolocation
  R('location.geolocation', 'en', ['lat', 'latitude', 'lng', 'lon', 'longitude', 'geolocation', 'geo_location', 'coordinates', 'coords', 'lat_lng', 'latlng', 'latlon', 'gps', 'geo_point', 'geopoint'], ['latitude', 'longitude', 'geolocation', 'latlng', 'latlon', 'geopoint']),
  R('location.geolocation', 'en', ['location', 'geo', 'long', 'position'], [], true),
  R('location.geolocation', 'de', ['breitengrad', 'laengengrad', 'standort', 'koordinaten'], ['breitengrad', 'laengengrad', 'koordinaten']),
  R('location.geolocation', 'fr', ['coordonnees_gps'], []),
  R('location.geolocation', 'es', ['latitud', 'longitud', 'coordenadas', 'ubicacion'], ['coordenadas']),
  // credentials.secret
  R('credentials.secret', 'en', ['password', 'passwd', 'pwd', 'pass', 'passphrase', 'api_key', 'apikey', 'api_token', 'api_secret', 'access_token', 'refresh_token', 'auth_token', 'bearer_token', 'secret', 'secret_key', 'client_secret', 'private_key', 'token', 'session_token', 'webhook_secret', 'signing_secret', 'access_key', 'secret_access_key', 'pin'], ['password', 'apikey', 'apitoken', 'accesstoken', 'refreshtoken', 'clientsecret', 'privatekey', 'secretkey']),
  R('credentials.secret', 'de', ['passwort', 'kennwort'], ['passwort', 'kennwort']),
  R('credentials.secret', 'fr', ['mot_de_passe', 'mdp'], ['motdepasse']),
  R('credentials.secret', 'es', ['contrasena', 'clave'], ['contrasena']),
  // demographic.gender
  R('demographic.gender', 'en', ['gender', 'sex'], []),
  R('demographic.gender', 'de', ['geschlecht'], ['geschlecht']),
  R('demographic.gender', 'fr', ['sexe'], []),
  R('demographic.gender', 'es', ['sexo', 'genero'], []),
  // special.health
  R('special.health', 'en', ['diagnosis', 'medical_condition', 'medical_history', 'health_condition', 'allergies', 'allergy', 'medication', 'medications', 'disability', 'blood_type', 'health_notes', 'symptoms'], ['medicalhistory', 'bloodtype']),
  R('special.health', 'de', ['diagnose', 'krankheit', 'vorerkrankungen', 'blutgruppe'], ['vorerkrankungen', 'blutgruppe']),
];

/**
 * Last or first tokens that make a column a fact *about* personal data rather
 * than the data itself: `email_sent`, `is_email_verified`, `phone_count`.
 */
const MODIFIER_SUFFIXES = new Set([
  'at', 'on', 'sent', 'verified', 'confirmed', 'count', 'cnt', 'type', 'types', 'status', 'enabled', 'disabled', 'flag',
  'opt', 'optin', 'opted', 'template', 'templates', 'format', 'domain', 'provider', 'id', 'ids', 'hash', 'hashed', 'digest',
  'length', 'len', 'valid', 'validated', 'policy', 'changed', 'updated', 'expires', 'expiry', 'expiration', 'version',
  'strength', 'reset', 'attempts', 'bidx', 'fingerprint', 'last4', 'last_four', 'brand', 'country', 'prefix', 'required',
  'preference', 'preferences', 'visibility', 'consent', 'bounced', 'unsubscribed', 'label', 'kind', 'key_id', 'salt',
  'iterations', 'algo', 'algorithm', 'mask', 'masked', 'token_type', 'scope', 'scopes', 'enc', 'encrypted', 'ciphertext',
]);
const MODIFIER_PREFIXES = new Set(['is', 'has', 'num', 'count', 'total', 'n', 'max', 'min', 'avg', 'can', 'allow', 'should', 'needs', 'last4', 'hashed', 'enc', 'encrypted']);

export function normalizeName(name: string): string[] {
  const ascii = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/ä/gi, 'ae')
    .replace(/ö/gi, 'oe')
    .replace(/ü/gi, 'ue');
  // camelCase and letter/digit boundaries become separators.
  const split = ascii.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2');
  return split
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 0);
}

export interface NameMatch {
  readonly category: Category;
  readonly rule: string;
  readonly language: string;
  readonly ambiguous: boolean;
}

/** Preprocessed for speed: term → rules, by token count. */
interface TermIndex {
  readonly byTerm: Map<string, NameRule>;
  readonly compounds: readonly { readonly word: string; readonly rule: NameRule }[];
  readonly maxTokens: number;
}

function buildIndex(rules: readonly NameRule[]): TermIndex {
  const byTerm = new Map<string, NameRule>();
  const compounds: { word: string; rule: NameRule }[] = [];
  let maxTokens = 1;
  for (const rule of rules) {
    for (const t of rule.terms) {
      if (!byTerm.has(t)) byTerm.set(t, rule);
      maxTokens = Math.max(maxTokens, t.split('_').length);
    }
    for (const c of rule.compounds ?? []) compounds.push({ word: c, rule });
  }
  compounds.sort((a, b) => b.word.length - a.word.length);
  return { byTerm, compounds, maxTokens };
}

const DEFAULT_INDEX = buildIndex(NAME_RULES);

/**
 * The category a column name points to, or null. Longest token runs win
 * (`email_address` over `email`), then unambiguous over ambiguous rules.
 */
export function matchColumnName(column: string, rules: readonly NameRule[] = NAME_RULES): NameMatch | null {
  const index = rules === NAME_RULES ? DEFAULT_INDEX : buildIndex(rules);
  const tokens = normalizeName(column);
  if (tokens.length === 0) return null;

  let best: { rule: NameRule; term: string; start: number; end: number } | null = null;
  for (let len = Math.min(index.maxTokens, tokens.length); len >= 1 && !best; len--) {
    for (let i = 0; i + len <= tokens.length; i++) {
      const term = tokens.slice(i, i + len).join('_');
      const rule = index.byTerm.get(term);
      if (rule && (!best || (best.rule.ambiguous && !rule.ambiguous))) best = { rule, term, start: i, end: i + len };
    }
  }
  if (!best) {
    const compact = tokens.join('');
    for (const { word, rule } of index.compounds) {
      if (compact.includes(word)) {
        const modified = tokens.some(
          (t, i) => !word.includes(t) && (MODIFIER_SUFFIXES.has(t) || (i === 0 && MODIFIER_PREFIXES.has(t))),
        );
        return modified ? null : { category: rule.category, rule: word, language: rule.language, ambiguous: !!rule.ambiguous };
      }
    }
    return null;
  }
  if (suppressed(tokens, best.end, best.start)) return null;
  return { category: best.rule.category, rule: best.term, language: best.rule.language, ambiguous: !!best.rule.ambiguous };
}

function suppressed(tokens: readonly string[], matchEnd: number, matchStart: number): boolean {
  // Tokens after the matched term that describe a fact about it: email_sent, phone_verified_at.
  for (let i = matchEnd; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (MODIFIER_SUFFIXES.has(t)) return true;
  }
  for (let i = 0; i < matchStart; i++) {
    if (MODIFIER_PREFIXES.has(tokens[i]!)) return true;
  }
  return false;
}

/** Table names whose rows are people: an ambiguous `name` there is a person's name. */
const PERSON_TABLES = /(^|_)(customers?|users?|clients?|contacts?|people|persons?|members?|employees?|staff|patients?|leads?|subscribers?|accounts?|profiles?|students?|applicants?|candidates?|guests?|recipients?|kunden?|mitarbeiter|clientes?|usuarios?|utilisateurs?|personnes?|adherents?|pacientes?|klanten?|gebruikers?)($|_)/;
/** Table names whose rows are things: `name` there is a product/city/company name. */
const THING_TABLES = /(^|_)(products?|items?|skus?|categor(y|ies)|companies|company|organi[sz]ations?|orgs?|cities|city|countries|country|regions?|files?|templates?|events?|plans?|roles?|tags?|teams?|services?|campaigns?|projects?|stores?|shops?|warehouses?|brands?|vendors?|suppliers?|departments?|permissions?|features?|settings?|currenc(y|ies)|languages?|tasks?|jobs?|queues?|migrations?|integrations?|providers?|produkte?|productos?|produits?)($|_)/;

export function tableContext(table: string): 'person' | 'thing' | 'unknown' {
  const t = normalizeName(table).join('_');
  if (THING_TABLES.test(t)) return 'thing';
  if (PERSON_TABLES.test(t)) return 'person';
  return 'unknown';
}
