/**
 * The labelled accuracy corpus: tables whose every column carries the answer a
 * perfect detector would give (a taxonomy category, or null for "not personal
 * data"), with a seeded row generator, so that the same corpus can be loaded into
 * PostgreSQL, MySQL/MariaDB and SQLite and scored for precision and recall.
 *
 * It mixes the easy (an `email` column of emails) with the hard: non-English
 * column names (`correo`, `geburtsdatum`, `courriel`), names that suggest personal
 * data over values that are not (`email_sent`, `phone_verified_at`, a product's
 * `name`, `card_count`), personal data under uninformative names (`col7`, `data`,
 * `value`, `contact`), and prose with and without personal data in it.
 *
 * Labelling rules:
 * - A column is labelled with the category of its values when most non-null
 *   values are of that category; free text in which some values carry personal
 *   data is `content.free_text`, with the categories it carries in `embedded`.
 * - Facts *about* personal data (a flag, a timestamp, a count) are not personal data.
 * - Hashed passwords (bcrypt) and content hashes (sha256) are not secrets; plain
 *   passwords and API tokens are `credentials.secret`.
 * - Surrogate keys, order numbers, UUIDs, SKUs, enums, prices, country and
 *   currency codes, and user agents are not personal data on their own.
 */
import { createHash } from 'node:crypto';
import { Faker, base, de, en, en_GB, en_US, es, fr, type LocaleDefinition } from '@faker-js/faker';
import {
  type DemoCountry,
  type TokenKind,
  fakeApiToken,
  fakeBcryptHash,
  fakeCardNumber,
  fakeDni,
  fakeIban,
  fakeNino,
  fakeNir,
  fakePhone,
  fakePostcode,
  fakeSsn,
  fakeUkPostcode,
  fakeSteuerId,
  isoDate,
  isoTimestamp,
} from '../../src/demo/generators.js';

export type Dialect = 'postgres' | 'mysql' | 'sqlite';
export const DIALECTS: readonly Dialect[] = ['postgres', 'mysql', 'sqlite'];

/** The expected answer for one column. */
export interface LabelSpec {
  readonly table: string;
  readonly column: string;
  readonly sqlType: Readonly<Record<Dialect, string>>;
  /** Taxonomy category id, or null for "not personal data". */
  readonly label: string | null;
  /** For `content.free_text`: the categories found inside the prose. */
  readonly embedded?: readonly string[];
}

export type CorpusValue = string | number | boolean | null;
export type CorpusRow = Record<string, CorpusValue>;

export interface LabelledColumn extends LabelSpec {
  readonly primaryKey?: boolean;
  /** One value for the current row. */
  readonly value: (r: RowContext) => CorpusValue;
}

export interface LabelledTable {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly LabelledColumn[];
  /** `count` rows, the same for the same seed. */
  rows(seed: number, count: number): Generator<CorpusRow>;
}

/** The label of free text that carries personal data of other categories. */
export const FREE_TEXT = 'content.free_text';

/** What a column's value function can use for the current row. */
export interface RowContext {
  /** 0-based row number. */
  readonly i: number;
  /** The table's own faker (English), for non-personal values. */
  readonly f: Faker;
  /** The person this row is about (created on first use, in one of the table's countries). */
  readonly person: Person;
  /** The faker of a given country, for values that must come from that locale. */
  locale(country: DemoCountry): Faker;
}

export interface Person {
  readonly country: DemoCountry;
  readonly f: Faker;
  readonly sex: 'male' | 'female';
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly birth: Date;
  readonly street: string;
  readonly city: string;
  readonly postcode: string;
}

// ------------------------------------------------------------ SQL types

type Types = Record<Dialect, string>;
const T = {
  id: (): Types => ({ postgres: 'bigint', mysql: 'BIGINT', sqlite: 'INTEGER' }),
  int: (): Types => ({ postgres: 'integer', mysql: 'INT', sqlite: 'INTEGER' }),
  varchar: (n: number): Types => ({ postgres: `varchar(${n})`, mysql: `VARCHAR(${n})`, sqlite: `VARCHAR(${n})` }),
  char: (n: number): Types => ({ postgres: `char(${n})`, mysql: `CHAR(${n})`, sqlite: `CHAR(${n})` }),
  text: (): Types => ({ postgres: 'text', mysql: 'TEXT', sqlite: 'TEXT' }),
  date: (): Types => ({ postgres: 'date', mysql: 'DATE', sqlite: 'DATE' }),
  ts: (): Types => ({ postgres: 'timestamp', mysql: 'DATETIME', sqlite: 'DATETIME' }),
  bool: (): Types => ({ postgres: 'boolean', mysql: 'BOOLEAN', sqlite: 'BOOLEAN' }),
  dec: (p: number, s: number): Types => ({ postgres: `numeric(${p},${s})`, mysql: `DECIMAL(${p},${s})`, sqlite: 'NUMERIC' }),
  real: (): Types => ({ postgres: 'double precision', mysql: 'DOUBLE', sqlite: 'REAL' }),
  uuid: (): Types => ({ postgres: 'uuid', mysql: 'CHAR(36)', sqlite: 'TEXT' }),
  json: (): Types => ({ postgres: 'jsonb', mysql: 'JSON', sqlite: 'TEXT' }),
  inet: (): Types => ({ postgres: 'inet', mysql: 'VARCHAR(45)', sqlite: 'TEXT' }),
};

// ------------------------------------------------------------ helpers

const REF_DATE = new Date('2025-06-30T12:00:00Z');
const EPOCH = new Date('2018-01-01T00:00:00Z');

const LOCALES: Record<DemoCountry, LocaleDefinition> = { US: en_US, GB: en_GB, DE: de, FR: fr, ES: es };
const COUNTRY_INDEX: Record<DemoCountry, number> = { US: 0, GB: 1, DE: 2, FR: 3, ES: 4 };

function mix(seed: number, k: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

function makeFaker(locale: LocaleDefinition, seed: number): Faker {
  const f = new Faker({ locale: [locale, en, base], seed });
  f.setDefaultRefDate(REF_DATE);
  return f;
}

/** Returns null with probability `p`, else the value. */
function sometimesNull<V extends CorpusValue>(f: Faker, p: number, value: () => V): V | null {
  return f.datatype.boolean({ probability: p }) ? null : value();
}

const ts = (f: Faker, from = EPOCH): string => isoTimestamp(f.date.between({ from, to: REF_DATE }));

function makePerson(f: Faker, country: DemoCountry): Person {
  const sex: 'male' | 'female' = f.person.sexType() === 'female' ? 'female' : 'male';
  const firstName = f.person.firstName(sex);
  const lastName = f.person.lastName();
  return {
    country,
    f,
    sex,
    firstName,
    lastName,
    email: f.internet.email({ firstName, lastName }).toLowerCase(),
    birth: f.date.birthdate({ mode: 'age', min: 18, max: 90 }),
    street: f.location.streetAddress(),
    city: f.location.city(),
    postcode: fakePostcode(f, country),
  };
}

function defineTable(
  name: string,
  description: string,
  countries: readonly DemoCountry[],
  columns: ReadonlyArray<Omit<LabelledColumn, 'table'>>,
): LabelledTable {
  const cols: LabelledColumn[] = columns.map((c) => ({ table: name, ...c }));
  const tableKey = [...name].reduce((h, ch) => (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0, 7);
  return {
    name,
    description,
    columns: cols,
    *rows(seed: number, count: number): Generator<CorpusRow> {
      const f = makeFaker(en, mix(seed, tableKey));
      const locales = (Object.keys(LOCALES) as DemoCountry[]).map((c) => makeFaker(LOCALES[c], mix(seed, tableKey + 1 + COUNTRY_INDEX[c])));
      const locale = (c: DemoCountry): Faker => locales[COUNTRY_INDEX[c]]!;
      for (let i = 0; i < count; i++) {
        let person: Person | undefined;
        const ctx: RowContext = {
          i,
          f,
          locale,
          get person(): Person {
            if (!person) {
              const country = countries.length === 1 ? countries[0]! : f.helpers.arrayElement(countries);
              person = makePerson(locale(country), country);
            }
            return person;
          },
        };
        const row: CorpusRow = {};
        for (const c of cols) row[c.column] = c.value(ctx);
        yield row;
      }
    },
  };
}

const id: Omit<LabelledColumn, 'table'> = { column: 'id', sqlType: T.id(), label: null, primaryKey: true, value: (r) => r.i + 1 };

function nationalFormat(f: Faker, country: DemoCountry): string {
  return fakePhone(f, country, 'national');
}

const ALL: readonly DemoCountry[] = ['US', 'GB', 'DE', 'FR', 'ES'];

// ------------------------------------------------------------ free text

type Lang = 'en' | 'de' | 'fr' | 'es';
const LANG: Record<DemoCountry, Lang> = { US: 'en', GB: 'en', DE: 'de', FR: 'fr', ES: 'es' };
const SUPPORT_PLAIN: Record<Lang, string[]> = {
  en: [
    'Hi, my parcel still has not arrived. The tracking page has not changed for a week.',
    'The zip on the backpack broke after two days. Can I get a replacement?',
    'I was charged twice for the same order, please refund one of the payments.',
    'Can I change the colour of my order before it ships?',
  ],
  de: ['Hallo, die Lieferung war unvollständig, es fehlt ein Artikel.', 'Guten Tag, wann ist die Jacke in Größe L wieder lieferbar?'],
  fr: ['Bonjour, le colis est arrivé abîmé. Que dois-je faire ?', 'Bonjour, puis-je modifier ma commande avant son expédition ?'],
  es: ['Hola, ¿cuándo vuelve a estar disponible la talla M?', 'Buenas, me han cobrado dos veces el mismo pedido.'],
};
const SUPPORT_PII: Record<Lang, Array<(p: { phone: string; email: string }) => string>> = {
  en: [
    (p) => `Please call me back on ${p.phone}, I am at home all afternoon.`,
    (p) => `My email changed, please use ${p.email} from now on.`,
    (p) => `You can reach me at ${p.email} or on ${p.phone}.`,
  ],
  de: [(p) => `Bitte rufen Sie mich unter ${p.phone} zurück.`, (p) => `Meine neue E-Mail-Adresse ist ${p.email}.`],
  fr: [(p) => `Merci de me rappeler au ${p.phone} ou de m'écrire à ${p.email}.`, (p) => `Ma nouvelle adresse e-mail : ${p.email}.`],
  es: [(p) => `Por favor, escríbanme a ${p.email}, gracias.`, (p) => `Llámenme al ${p.phone} por la mañana.`],
};
const INTERNAL_NOTES = [
  'Escalated to the warehouse team; replacement shipped with the next pick run.',
  'Refund of 45.90 EUR approved by finance, reference R-2024-118.',
  'SKU KTC-10442 out of stock until 2025-07-15; customer informed.',
  'Duplicate of an earlier ticket, merged and closed.',
  'Courier confirmed the parcel was left at the depot for 7 days.',
  'Price match granted: 12% discount code applied to the order.',
  'Batch 2024-11 of this product had faulty zips; see QA report 77.',
  'No action needed, customer found the parcel with a neighbour.',
];
const DELIVERY_PLAIN = [
  'Leave at the back door.',
  'Please do not ring the bell, baby sleeping.',
  'Deliver to the reception desk on the ground floor.',
  'Bitte beim Nachbarn abgeben.',
  'Laisser le colis chez le gardien.',
  'Dejar en conserjería, por favor.',
  'Gate code 4471, parcel box on the left.',
];
const DELIVERY_PII: Array<(phone: string) => string> = [
  (p) => `Call ${p} when you are outside.`,
  (p) => `Ring me on ${p} if nobody answers the door.`,
  (p) => `Bei Problemen bitte ${p} anrufen.`,
  (p) => `Appelez le ${p} à votre arrivée.`,
];

// ------------------------------------------------------------ the tables

const TOKEN_KINDS: TokenKind[] = ['stripe', 'github', 'slack', 'openai', 'aws', 'sendgrid'];
const HUMAN_PASSWORDS = ['Summer2024!', 'letmein123', 'Password1', 'qwerty!234', 'Hunter2hunter2', 'Bayern1900', 'soleil2023', 'madrid#2022'];

function plainPassword(f: Faker): string {
  return f.datatype.boolean({ probability: 0.3 })
    ? f.helpers.arrayElement(HUMAN_PASSWORDS) + String(f.number.int({ min: 0, max: 99 }))
    : f.internet.password({ length: f.number.int({ min: 9, max: 16 }) });
}

export const LABELLED_TABLES: readonly LabelledTable[] = [
  defineTable('customers', 'An English-named customer table, with PII-sounding columns that are not PII.', ALL, [
    id,
    { column: 'first_name', sqlType: T.varchar(100), label: 'identity.person_name', value: (r) => r.person.firstName },
    { column: 'last_name', sqlType: T.varchar(100), label: 'identity.person_name', value: (r) => r.person.lastName },
    { column: 'email', sqlType: T.varchar(255), label: 'contact.email', value: (r) => r.person.email },
    {
      column: 'phone',
      sqlType: T.varchar(32),
      label: 'contact.phone',
      value: (r) => sometimesNull(r.f, 0.1, () => fakePhone(r.person.f, r.person.country, r.f.helpers.arrayElement(['international', 'e164'] as const))),
    },
    { column: 'date_of_birth', sqlType: T.date(), label: 'identity.date_of_birth', value: (r) => isoDate(r.person.birth) },
    { column: 'ssn', sqlType: T.char(11), label: 'identity.government_id', value: (r) => sometimesNull(r.f, 0.3, () => fakeSsn(r.f)) },
    { column: 'card_count', sqlType: T.int(), label: null, value: (r) => r.f.number.int({ min: 0, max: 4 }) },
    { column: 'email_sent', sqlType: T.bool(), label: null, value: (r) => r.f.datatype.boolean() },
    { column: 'phone_verified_at', sqlType: T.ts(), label: null, value: (r) => sometimesNull(r.f, 0.4, () => ts(r.f)) },
    { column: 'country', sqlType: T.char(2), label: null, value: (r) => r.person.country },
    { column: 'loyalty_tier', sqlType: T.varchar(16), label: null, value: (r) => r.f.helpers.arrayElement(['bronze', 'silver', 'gold', 'platinum']) },
    { column: 'created_at', sqlType: T.ts(), label: null, value: (r) => ts(r.f) },
  ]),

  defineTable('kunden', 'A German customer table: German column names and formats.', ['DE'], [
    { ...id, column: 'kunden_id' },
    { column: 'vorname', sqlType: T.varchar(100), label: 'identity.person_name', value: (r) => r.person.firstName },
    { column: 'nachname', sqlType: T.varchar(100), label: 'identity.person_name', value: (r) => r.person.lastName },
    {
      column: 'geburtsdatum',
      sqlType: T.varchar(10),
      label: 'identity.date_of_birth',
      value: (r) => {
        const d = r.person.birth;
        return `${String(d.getUTCDate()).padStart(2, '0')}.${String(d.getUTCMonth() + 1).padStart(2, '0')}.${d.getUTCFullYear()}`;
      },
    },
    { column: 'telefon', sqlType: T.varchar(32), label: 'contact.phone', value: (r) => nationalFormat(r.person.f, 'DE') },
    { column: 'strasse', sqlType: T.varchar(200), label: 'contact.postal_address', value: (r) => r.person.street },
    { column: 'plz', sqlType: T.char(5), label: 'contact.postcode', value: (r) => r.person.postcode },
    { column: 'steuer_id', sqlType: T.char(11), label: 'identity.government_id', value: (r) => fakeSteuerId(r.f) },
    { column: 'iban', sqlType: T.varchar(34), label: 'financial.bank_account', value: (r) => fakeIban(r.f, 'DE', r.f.datatype.boolean()) },
    { column: 'newsletter', sqlType: T.bool(), label: null, value: (r) => r.f.datatype.boolean({ probability: 0.3 }) },
    { column: 'erstellt_am', sqlType: T.ts(), label: null, value: (r) => ts(r.f) },
  ]),

  defineTable('clientes', 'A Spanish customer table.', ['ES'], [
    id,
    { column: 'nombre_completo', sqlType: T.varchar(200), label: 'identity.person_name', value: (r) => `${r.person.firstName} ${r.person.lastName}` },
    { column: 'correo', sqlType: T.varchar(255), label: 'contact.email', value: (r) => r.person.email },
    {
      column: 'telefono',
      sqlType: T.varchar(32),
      label: 'contact.phone',
      value: (r) => fakePhone(r.person.f, 'ES', r.f.helpers.arrayElement(['international', 'national'] as const)),
    },
    { column: 'fecha_nacimiento', sqlType: T.date(), label: 'identity.date_of_birth', value: (r) => isoDate(r.person.birth) },
    { column: 'dni', sqlType: T.varchar(10), label: 'identity.government_id', value: (r) => fakeDni(r.f, r.f.datatype.boolean({ probability: 0.15 })) },
    {
      column: 'direccion',
      sqlType: T.varchar(255),
      label: 'contact.postal_address',
      value: (r) => `${r.person.street}, ${r.person.postcode} ${r.person.city}`,
    },
    { column: 'codigo_postal', sqlType: T.char(5), label: 'contact.postcode', value: (r) => r.person.postcode },
    { column: 'cuenta_bancaria', sqlType: T.varchar(34), label: 'financial.bank_account', value: (r) => fakeIban(r.f, 'ES') },
    { column: 'activo', sqlType: T.bool(), label: null, value: (r) => r.f.datatype.boolean({ probability: 0.9 }) },
  ]),

  defineTable('utilisateurs', 'A French user table, with plain-text passwords.', ['FR'], [
    id,
    { column: 'prenom', sqlType: T.varchar(100), label: 'identity.person_name', value: (r) => r.person.firstName },
    { column: 'nom', sqlType: T.varchar(100), label: 'identity.person_name', value: (r) => r.person.lastName },
    { column: 'courriel', sqlType: T.varchar(255), label: 'contact.email', value: (r) => r.person.email },
    {
      column: 'adresse',
      sqlType: T.varchar(255),
      label: 'contact.postal_address',
      value: (r) => `${r.person.street}, ${r.person.postcode} ${r.person.city}`,
    },
    { column: 'code_postal', sqlType: T.char(5), label: 'contact.postcode', value: (r) => r.person.postcode },
    {
      column: 'numero_securite_sociale',
      sqlType: T.varchar(21),
      label: 'identity.government_id',
      value: (r) => fakeNir(r.f, r.person.sex, r.person.birth, r.f.datatype.boolean({ probability: 0.3 })),
    },
    { column: 'mot_de_passe', sqlType: T.varchar(64), label: 'credentials.secret', value: (r) => plainPassword(r.f) },
    { column: 'date_inscription', sqlType: T.ts(), label: null, value: (r) => ts(r.f) },
  ]),

  defineTable('orders', 'Orders with card numbers in plain text and delivery notes that sometimes hold a phone number.', ['GB', 'US'], [
    id,
    { column: 'order_number', sqlType: T.varchar(20), label: null, value: (r) => `ORD-${2019 + (r.i % 7)}-${String(100_000 + r.i).padStart(6, '0')}` },
    { column: 'customer_id', sqlType: T.id(), label: null, value: (r) => r.f.number.int({ min: 1, max: 50_000 }) },
    { column: 'status', sqlType: T.varchar(16), label: null, value: (r) => r.f.helpers.arrayElement(['pending', 'paid', 'shipped', 'delivered', 'cancelled']) },
    { column: 'total_price', sqlType: T.dec(10, 2), label: null, value: (r) => r.f.number.float({ min: 3, max: 2500, fractionDigits: 2 }) },
    { column: 'currency', sqlType: T.char(3), label: null, value: (r) => r.f.helpers.arrayElement(['GBP', 'USD', 'EUR']) },
    { column: 'card_number', sqlType: T.varchar(19), label: 'financial.card', value: (r) => fakeCardNumber(r.f) },
    {
      column: 'shipping_postcode',
      sqlType: T.varchar(10),
      label: 'contact.postcode',
      value: (r) => fakeUkPostcode(r.locale('GB')),
    },
    { column: 'ip_address', sqlType: T.inet(), label: 'network.ip_address', value: (r) => r.f.internet.ipv4() },
    { column: 'tracking_uuid', sqlType: T.uuid(), label: null, value: (r) => r.f.string.uuid() },
    {
      column: 'delivery_instructions',
      sqlType: T.text(),
      label: FREE_TEXT,
      embedded: ['contact.phone'],
      value: (r) =>
        r.f.datatype.boolean({ probability: 0.4 })
          ? r.f.helpers.arrayElement(DELIVERY_PII)(fakePhone(r.person.f, r.person.country, r.f.helpers.arrayElement(['international', 'national'] as const)))
          : r.f.helpers.arrayElement(DELIVERY_PLAIN),
    },
    {
      column: 'metadata',
      sqlType: T.json(),
      label: null,
      value: (r) =>
        JSON.stringify({
          channel: r.f.helpers.arrayElement(['web', 'ios', 'android', 'pos']),
          coupon: r.f.datatype.boolean({ probability: 0.2 }) ? r.f.string.alphanumeric({ length: 8, casing: 'upper' }) : null,
          items: r.f.number.int({ min: 1, max: 9 }),
          gift: r.f.datatype.boolean({ probability: 0.1 }),
        }),
    },
    { column: 'created_at', sqlType: T.ts(), label: null, value: (r) => ts(r.f) },
  ]),

  defineTable('products', 'A product catalogue: no personal data, including a `name` column.', ['US'], [
    id,
    { column: 'sku', sqlType: T.varchar(16), label: null, value: (r) => `${r.f.string.alpha({ length: 3, casing: 'upper' })}-${r.f.string.numeric(5)}` },
    { column: 'name', sqlType: T.varchar(200), label: null, value: (r) => r.f.commerce.productName() },
    { column: 'description', sqlType: T.text(), label: null, value: (r) => r.f.commerce.productDescription() },
    { column: 'price', sqlType: T.dec(10, 2), label: null, value: (r) => Number(r.f.commerce.price({ min: 2, max: 900 })) },
    { column: 'quantity', sqlType: T.int(), label: null, value: (r) => r.f.number.int({ min: 0, max: 1200 }) },
    {
      column: 'attributes',
      sqlType: T.json(),
      label: null,
      value: (r) =>
        JSON.stringify({
          color: r.f.color.human(),
          size: r.f.helpers.arrayElement(['XS', 'S', 'M', 'L', 'XL']),
          weight_g: r.f.number.int({ min: 50, max: 5000 }),
          tags: r.f.helpers.arrayElements(['eco', 'new', 'sale', 'bestseller', 'limited'], { min: 0, max: 3 }),
        }),
    },
    { column: 'is_active', sqlType: T.bool(), label: null, value: (r) => r.f.datatype.boolean({ probability: 0.85 }) },
    { column: 'updated_at', sqlType: T.ts(), label: null, value: (r) => ts(r.f) },
  ]),

  defineTable('support_messages', 'Support messages: prose with and without personal data.', ALL, [
    id,
    { column: 'ticket_ref', sqlType: T.uuid(), label: null, value: (r) => r.f.string.uuid() },
    {
      column: 'body',
      sqlType: T.text(),
      label: FREE_TEXT,
      embedded: ['contact.email', 'contact.phone'],
      value: (r) => {
        const p = r.person;
        const lang = LANG[p.country];
        const plain = r.f.helpers.arrayElement(SUPPORT_PLAIN[lang]);
        if (!r.f.datatype.boolean({ probability: 0.5 })) return plain;
        const phone = fakePhone(p.f, p.country, r.f.helpers.arrayElement(['international', 'national'] as const));
        return `${plain} ${r.f.helpers.arrayElement(SUPPORT_PII[lang])({ phone, email: p.email })}`;
      },
    },
    { column: 'internal_note', sqlType: T.text(), label: null, value: (r) => sometimesNull(r.f, 0.3, () => r.f.helpers.arrayElement(INTERNAL_NOTES)) },
    { column: 'channel', sqlType: T.varchar(16), label: null, value: (r) => r.f.helpers.arrayElement(['email', 'chat', 'phone', 'web_form']) },
    { column: 'sent_at', sqlType: T.ts(), label: null, value: (r) => ts(r.f) },
  ]),

  defineTable('access_log', 'Web access log: IPv4 and IPv6, geolocation, hashes and request ids.', ALL, [
    id,
    { column: 'request_id', sqlType: T.uuid(), label: null, value: (r) => r.f.string.uuid() },
    { column: 'client_ip', sqlType: T.inet(), label: 'network.ip_address', value: (r) => (r.f.datatype.boolean({ probability: 0.7 }) ? r.f.internet.ipv4() : r.f.internet.ipv6()) },
    { column: 'remote_addr', sqlType: T.varchar(45), label: 'network.ip_address', value: (r) => r.f.internet.ipv6() },
    { column: 'user_agent', sqlType: T.text(), label: null, value: (r) => r.f.internet.userAgent() },
    { column: 'latitude', sqlType: T.dec(9, 6), label: 'location.geolocation', value: (r) => r.f.location.latitude({ min: 36, max: 56, precision: 6 }) },
    { column: 'longitude', sqlType: T.dec(9, 6), label: 'location.geolocation', value: (r) => r.f.location.longitude({ min: -10, max: 15, precision: 6 }) },
    { column: 'status_code', sqlType: T.int(), label: null, value: (r) => r.f.helpers.arrayElement([200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 500]) },
    { column: 'response_ms', sqlType: T.int(), label: null, value: (r) => r.f.number.int({ min: 2, max: 4000 }) },
    {
      column: 'payload_sha256',
      sqlType: T.char(64),
      label: null,
      value: (r) => createHash('sha256').update(r.f.string.alphanumeric(24)).digest('hex'),
    },
    { column: 'occurred_at', sqlType: T.ts(), label: null, value: (r) => ts(r.f) },
  ]),

  defineTable('accounts', 'Accounts: bcrypt hashes (fine) next to plain passwords and API tokens (not fine).', ALL, [
    id,
    { column: 'contact', sqlType: T.varchar(255), label: 'contact.email', value: (r) => r.person.email },
    { column: 'password_hash', sqlType: T.char(60), label: null, value: (r) => fakeBcryptHash(r.f, r.f.helpers.arrayElement([10, 12])) },
    { column: 'password', sqlType: T.varchar(64), label: 'credentials.secret', value: (r) => plainPassword(r.f) },
    { column: 'api_token', sqlType: T.varchar(120), label: 'credentials.secret', value: (r) => sometimesNull(r.f, 0.2, () => fakeApiToken(r.f, r.f.helpers.arrayElement(TOKEN_KINDS))) },
    { column: 'two_factor_enabled', sqlType: T.bool(), label: null, value: (r) => r.f.datatype.boolean({ probability: 0.35 }) },
    { column: 'last_login_at', sqlType: T.ts(), label: null, value: (r) => sometimesNull(r.f, 0.1, () => ts(r.f)) },
  ]),

  defineTable('legacy_import', 'A spreadsheet import with uninformative column names.', ['GB'], [
    id,
    { column: 'col1', sqlType: T.int(), label: null, value: (r) => r.f.number.int({ min: 1, max: 999_999 }) },
    { column: 'col2', sqlType: T.char(2), label: null, value: (r) => r.f.location.countryCode('alpha-2') },
    { column: 'col3', sqlType: T.char(64), label: null, value: (r) => r.f.string.hexadecimal({ length: 64, casing: 'lower', prefix: '' }) },
    {
      column: 'col5',
      sqlType: T.varchar(24),
      label: 'financial.card',
      value: (r) => {
        const pan = fakeCardNumber(r.f);
        return r.f.datatype.boolean() ? pan : pan.replace(/(\d{4})(?=\d)/g, '$1 ');
      },
    },
    { column: 'col7', sqlType: T.varchar(16), label: 'identity.government_id', value: (r) => fakeNino(r.f, r.f.datatype.boolean({ probability: 0.4 })) },
    { column: 'data', sqlType: T.text(), label: 'contact.email', value: (r) => r.person.email },
    { column: 'value', sqlType: T.varchar(32), label: 'contact.phone', value: (r) => fakePhone(r.person.f, 'GB', 'e164') },
    { column: 'notes', sqlType: T.text(), label: null, value: (r) => sometimesNull(r.f, 0.3, () => r.f.lorem.sentence({ min: 4, max: 12 })) },
    { column: 'imported_at', sqlType: T.ts(), label: null, value: (r) => ts(r.f, new Date('2024-01-01T00:00:00Z')) },
  ]),

  defineTable('newsletter_subscriptions', 'Newsletter sign-ups from several countries.', ['US', 'GB', 'FR'], [
    id,
    { column: 'subscriber_email', sqlType: T.varchar(255), label: 'contact.email', value: (r) => r.person.email },
    { column: 'full_name', sqlType: T.varchar(200), label: 'identity.person_name', value: (r) => sometimesNull(r.f, 0.15, () => `${r.person.firstName} ${r.person.lastName}`) },
    { column: 'postcode', sqlType: T.varchar(10), label: 'contact.postcode', value: (r) => r.person.postcode },
    { column: 'consent_ip', sqlType: T.inet(), label: 'network.ip_address', value: (r) => (r.f.datatype.boolean() ? r.f.internet.ipv4() : r.f.internet.ipv6()) },
    { column: 'confirmed', sqlType: T.bool(), label: null, value: (r) => r.f.datatype.boolean({ probability: 0.7 }) },
    { column: 'source', sqlType: T.varchar(32), label: null, value: (r) => r.f.helpers.arrayElement(['footer', 'checkout', 'popup', 'blog', 'trade-show']) },
    { column: 'subscribed_at', sqlType: T.ts(), label: null, value: (r) => ts(r.f) },
  ]),
];

/** Every column's expected label, flattened. */
export const LABELS: readonly LabelSpec[] = LABELLED_TABLES.flatMap((t) =>
  t.columns.map(({ table, column, sqlType, label, embedded }) => (embedded ? { table, column, sqlType, label, embedded } : { table, column, sqlType, label })),
);
