/**
 * `steward demo`: a realistic SQLite shop database full of (fake) personal data,
 * in five locales, built from a fixed seed so that every run produces the same
 * rows. It holds the findings an audit should make: card numbers and national IDs
 * in plain text, API tokens, personal data inside support-ticket prose, IPs and
 * geolocation in an events table, and a marketing table nobody declared.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Faker, base, de, en, en_GB, en_US, es, fr, type LocaleDefinition } from '@faker-js/faker';
import { UsageError } from '../errors.js';
import {
  type DemoCountry,
  type TokenKind,
  fakeApiToken,
  fakeBcryptHash,
  fakeCardExpiry,
  fakeCardNumber,
  fakeNationalId,
  fakePhone,
  fakePostcode,
  isoDate,
  isoTimestamp,
} from './generators.js';

export interface DemoOptions {
  /** Seed for every random choice (default 42). The same seed gives the same database. */
  readonly seed?: number;
  /** Number of customers (default 2000); other tables scale with it. */
  readonly customers?: number;
}

export interface DemoSummary {
  readonly path: string;
  readonly seed: number;
  readonly tables: ReadonlyArray<{ readonly name: string; readonly rows: number }>;
}

export const DEMO_DEFAULT_SEED = 42;
export const DEMO_DEFAULT_CUSTOMERS = 2000;
/** Name of the marker table that identifies a Steward demo database. */
export const DEMO_META_TABLE = 'steward_demo_meta';
const DEMO_GENERATOR = 'steward-demo';
/** "Now" for the demo's timestamps: fixed, so that builds are reproducible. */
const REF_DATE = new Date('2025-06-30T12:00:00Z');
const SHOP_OPENED = new Date('2019-03-01T00:00:00Z');

interface Locale {
  readonly country: DemoCountry;
  readonly faker: Faker;
  readonly currency: 'USD' | 'GBP' | 'EUR';
  readonly lang: Lang;
  readonly cities: ReadonlyArray<readonly [string, number, number]>;
}
type Lang = 'en' | 'de' | 'fr' | 'es';

/** Real city centres per country, so that geolocations land where the customers live. */
const CITIES: Record<DemoCountry, ReadonlyArray<readonly [string, number, number]>> = {
  US: [['New York', 40.7128, -74.006], ['Chicago', 41.8781, -87.6298], ['Austin', 30.2672, -97.7431], ['Seattle', 47.6062, -122.3321], ['Denver', 39.7392, -104.9903], ['Boston', 42.3601, -71.0589]],
  GB: [['London', 51.5074, -0.1278], ['Manchester', 53.4808, -2.2426], ['Leeds', 53.8008, -1.5491], ['Bristol', 51.4545, -2.5879], ['Glasgow', 55.8642, -4.2518], ['Cardiff', 51.4816, -3.1791]],
  DE: [['Berlin', 52.52, 13.405], ['Hamburg', 53.5511, 9.9937], ['München', 48.1351, 11.582], ['Köln', 50.9375, 6.9603], ['Leipzig', 51.3397, 12.3731], ['Frankfurt am Main', 50.1109, 8.6821]],
  FR: [['Paris', 48.8566, 2.3522], ['Lyon', 45.764, 4.8357], ['Marseille', 43.2965, 5.3698], ['Toulouse', 43.6047, 1.4442], ['Nantes', 47.2184, -1.5536], ['Lille', 50.6292, 3.0573]],
  ES: [['Madrid', 40.4168, -3.7038], ['Barcelona', 41.3874, 2.1686], ['Valencia', 39.4699, -0.3763], ['Sevilla', 37.3891, -5.9845], ['Bilbao', 43.263, -2.935], ['Málaga', 36.7213, -4.4214]],
};

function makeFaker(locale: LocaleDefinition, seed: number): Faker {
  const f = new Faker({ locale: [locale, en, base], seed });
  f.setDefaultRefDate(REF_DATE);
  return f;
}

function makeLocales(seed: number): Locale[] {
  const spec: Array<[DemoCountry, LocaleDefinition, Locale['currency'], Lang]> = [
    ['US', en_US, 'USD', 'en'],
    ['GB', en_GB, 'GBP', 'en'],
    ['DE', de, 'EUR', 'de'],
    ['FR', fr, 'EUR', 'fr'],
    ['ES', es, 'EUR', 'es'],
  ];
  return spec.map(([country, def, currency, lang], i) => ({
    country,
    faker: makeFaker(def, mix(seed, i + 1)),
    currency,
    lang,
    cities: CITIES[country],
  }));
}

/** Derives independent sub-seeds from the user's seed. */
function mix(seed: number, k: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

const SCHEMA = `
CREATE TABLE ${DEMO_META_TABLE} (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE customers (
  id               INTEGER PRIMARY KEY,
  first_name       VARCHAR(100) NOT NULL,
  last_name        VARCHAR(100) NOT NULL,
  email            VARCHAR(255) NOT NULL UNIQUE,
  phone            VARCHAR(32),
  date_of_birth    DATE,
  national_id      VARCHAR(32),
  country          CHAR(2) NOT NULL,
  created_at       DATETIME NOT NULL,
  updated_at       DATETIME NOT NULL,
  marketing_opt_in BOOLEAN NOT NULL DEFAULT 0
);
CREATE TABLE addresses (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  street      VARCHAR(255) NOT NULL,
  city        VARCHAR(100) NOT NULL,
  postcode    VARCHAR(16) NOT NULL,
  country     CHAR(2) NOT NULL
);
CREATE INDEX addresses_customer_id ON addresses(customer_id);
CREATE TABLE products (
  id          INTEGER PRIMARY KEY,
  sku         VARCHAR(32) NOT NULL UNIQUE,
  name        VARCHAR(255) NOT NULL,
  description TEXT,
  price_cents INTEGER NOT NULL,
  stock       INTEGER NOT NULL
);
CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  status      VARCHAR(16) NOT NULL,
  total_cents INTEGER NOT NULL,
  currency    CHAR(3) NOT NULL,
  card_number VARCHAR(19),
  card_expiry CHAR(5),
  ip_address  VARCHAR(45),
  created_at  DATETIME NOT NULL
);
CREATE INDEX orders_customer_id ON orders(customer_id);
CREATE TABLE order_items (
  order_id         INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  product_id       INTEGER NOT NULL REFERENCES products(id),
  quantity         INTEGER NOT NULL,
  unit_price_cents INTEGER NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE TABLE support_tickets (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  subject     VARCHAR(255) NOT NULL,
  body        TEXT NOT NULL,
  status      VARCHAR(16) NOT NULL,
  created_at  DATETIME NOT NULL
);
CREATE INDEX support_tickets_customer_id ON support_tickets(customer_id);
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER REFERENCES customers(id),
  event_type  VARCHAR(32) NOT NULL,
  ip_address  VARCHAR(45) NOT NULL,
  user_agent  TEXT,
  latitude    REAL,
  longitude   REAL,
  occurred_at DATETIME NOT NULL
);
CREATE INDEX events_customer_id ON events(customer_id);
CREATE TABLE marketing_leads (
  id         INTEGER PRIMARY KEY,
  email      VARCHAR(255) NOT NULL,
  full_name  VARCHAR(200),
  phone      VARCHAR(32),
  interest   VARCHAR(64),
  source     VARCHAR(32) NOT NULL,
  created_at DATETIME NOT NULL
);
CREATE TABLE integrations (
  id         INTEGER PRIMARY KEY,
  provider   VARCHAR(32) NOT NULL,
  api_token  TEXT NOT NULL,
  created_at DATETIME NOT NULL
);
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      VARCHAR(64) NOT NULL UNIQUE,
  password_hash CHAR(60) NOT NULL,
  last_login_at DATETIME
);
`;

/**
 * Builds the demo shop database at `path`. An existing file is replaced only when
 * it is an earlier demo database (it has the `steward_demo_meta` marker table);
 * anything else is refused with an error, so that a mistyped path never destroys
 * real data. The database is built in a temporary file and renamed into place.
 */
export async function buildDemoDatabase(path: string, options: DemoOptions = {}): Promise<DemoSummary> {
  const seed = options.seed ?? DEMO_DEFAULT_SEED;
  const customers = options.customers ?? DEMO_DEFAULT_CUSTOMERS;
  if (!Number.isSafeInteger(seed)) throw new UsageError(`demo seed must be an integer, got ${String(seed)}`);
  if (!Number.isInteger(customers) || customers < 1 || customers > 1_000_000) {
    throw new UsageError(`demo customers must be an integer from 1 to 1000000, got ${String(customers)}`);
  }
  assertReplaceable(path);

  const tmp = `${path}.building-${process.pid}`;
  rmSync(tmp, { force: true });
  let tables: Array<{ name: string; rows: number }>;
  const db = new Database(tmp);
  try {
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    db.transaction(() => populate(db, seed, customers))();
    db.pragma('journal_mode = DELETE');
    tables = db
      .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid`)
      .all()
      .map(({ name }) => ({ name, rows: (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n }));
    db.close();
  } catch (err) {
    if (db.open) db.close();
    rmSync(tmp, { force: true });
    throw err;
  }
  for (const suffix of ['-journal', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  renameSync(tmp, path);
  return { path, seed, tables };
}

/** Throws unless `path` is absent, empty, or an earlier Steward demo database. */
function assertReplaceable(path: string): void {
  if (!existsSync(path)) return;
  const st = statSync(path);
  const refuse = (why: string): never => {
    throw new UsageError(`refusing to overwrite ${path}: ${why}`, {
      hint: 'Choose another directory for the demo (--dir) or move that file away',
    });
  };
  if (!st.isFile()) refuse('it is not a regular file');
  if (st.size === 0) return;
  let isDemo = false;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const marker = db
        .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
        .get(DEMO_META_TABLE);
      if (marker) {
        const row = db.prepare(`SELECT value FROM "${DEMO_META_TABLE}" WHERE key = 'generator'`).get() as { value: string } | undefined;
        isDemo = row?.value === DEMO_GENERATOR;
      }
    } finally {
      db.close();
    }
  } catch {
    refuse('it exists and is not a SQLite database');
  }
  if (!isDemo) refuse(`it exists and is not a Steward demo database (no ${DEMO_META_TABLE} table)`);
}

// ------------------------------------------------------------ population

type Row = Record<string, string | number | null>;

function populate(db: Database.Database, seed: number, customerCount: number): void {
  const core = makeFaker(en, mix(seed, 0));
  const locales = makeLocales(seed);
  const insert = (table: string, columns: readonly string[]) => {
    const stmt = db.prepare(
      `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    return (row: Row) => stmt.run(row);
  };

  const meta = insert(DEMO_META_TABLE, ['key', 'value']);
  meta({ key: 'generator', value: DEMO_GENERATOR });
  meta({ key: 'format', value: '1' });
  meta({ key: 'seed', value: String(seed) });
  meta({ key: 'customers', value: String(customerCount) });
  meta({ key: 'reference_date', value: REF_DATE.toISOString() });
  meta({ key: 'note', value: 'All personal data in this database is fake, generated by @faker-js/faker.' });

  // Products: an English catalogue, no personal data.
  const productCount = Math.max(20, Math.min(400, Math.round(customerCount / 15)));
  const productPrices: number[] = [];
  const addProduct = insert('products', ['id', 'sku', 'name', 'description', 'price_cents', 'stock']);
  const skus = new Set<string>();
  for (let id = 1; id <= productCount; id++) {
    let sku: string;
    do sku = `${core.string.alpha({ length: 3, casing: 'upper' })}-${core.string.numeric(5)}`;
    while (skus.has(sku));
    skus.add(sku);
    const price = core.number.int({ min: 299, max: 24_999 });
    productPrices.push(price);
    addProduct({
      id,
      sku,
      name: core.commerce.productName(),
      description: core.commerce.productDescription(),
      price_cents: price,
      stock: core.number.int({ min: 0, max: 500 }),
    });
  }

  const addCustomer = insert('customers', [
    'id', 'first_name', 'last_name', 'email', 'phone', 'date_of_birth', 'national_id', 'country', 'created_at', 'updated_at', 'marketing_opt_in',
  ]);
  const addAddress = insert('addresses', ['id', 'customer_id', 'street', 'city', 'postcode', 'country']);
  const addOrder = insert('orders', ['id', 'customer_id', 'status', 'total_cents', 'currency', 'card_number', 'card_expiry', 'ip_address', 'created_at']);
  const addItem = insert('order_items', ['order_id', 'product_id', 'quantity', 'unit_price_cents']);
  const addTicket = insert('support_tickets', ['id', 'customer_id', 'subject', 'body', 'status', 'created_at']);
  const addEvent = insert('events', ['id', 'customer_id', 'event_type', 'ip_address', 'user_agent', 'latitude', 'longitude', 'occurred_at']);

  const emails = new Set<string>();
  let addressId = 0;
  let orderId = 0;
  let ticketId = 0;
  let eventId = 0;

  for (let id = 1; id <= customerCount; id++) {
    const loc = core.helpers.weightedArrayElement([
      { weight: 35, value: locales[0]! },
      { weight: 20, value: locales[1]! },
      { weight: 15, value: locales[2]! },
      { weight: 15, value: locales[3]! },
      { weight: 15, value: locales[4]! },
    ]);
    const f = loc.faker;
    const sex: 'male' | 'female' = f.person.sexType() === 'female' ? 'female' : 'male';
    const firstName = f.person.firstName(sex);
    const lastName = f.person.lastName();
    let email = f.internet.email({ firstName, lastName }).toLowerCase();
    while (emails.has(email)) email = email.replace('@', String(f.number.int({ min: 1, max: 99 })) + '@');
    emails.add(email);
    const birth = f.date.birthdate({ mode: 'age', min: 18, max: 85 });
    const createdAt = f.date.between({ from: SHOP_OPENED, to: REF_DATE });
    const updatedAt = f.date.between({ from: createdAt, to: REF_DATE });
    addCustomer({
      id,
      first_name: firstName,
      last_name: lastName,
      email,
      phone: f.datatype.boolean({ probability: 0.85 }) ? fakePhone(f, loc.country, f.datatype.boolean({ probability: 0.8 }) ? 'international' : 'e164') : null,
      date_of_birth: f.datatype.boolean({ probability: 0.9 }) ? isoDate(birth) : null,
      national_id: f.datatype.boolean({ probability: 0.6 }) ? fakeNationalId(f, loc.country, sex, birth) : null,
      country: loc.country,
      created_at: isoTimestamp(createdAt),
      updated_at: isoTimestamp(updatedAt),
      marketing_opt_in: f.datatype.boolean({ probability: 0.4 }) ? 1 : 0,
    });

    const home = f.helpers.arrayElement(loc.cities);
    const addresses: Array<{ street: string; city: string; postcode: string }> = [];
    const addressCount = f.helpers.weightedArrayElement([
      { weight: 8, value: 1 },
      { weight: 2, value: 2 },
    ]);
    for (let a = 0; a < addressCount; a++) {
      const city = a === 0 ? home[0] : f.helpers.arrayElement(loc.cities)[0];
      const address = { street: f.location.streetAddress(), city, postcode: fakePostcode(f, loc.country) };
      addresses.push(address);
      addAddress({ id: ++addressId, customer_id: id, ...address, country: loc.country });
    }

    // One card per customer, reused across their orders, as shops that "remember the card" do.
    const card = fakeCardNumber(f);
    const expiry = fakeCardExpiry(f, REF_DATE);
    const customerIp = f.datatype.boolean({ probability: 0.75 }) ? f.internet.ipv4() : f.internet.ipv6();
    const orderCount = f.helpers.weightedArrayElement([
      { weight: 2, value: 0 },
      { weight: 4, value: 1 },
      { weight: 2, value: 2 },
      { weight: 1, value: 3 },
      { weight: 1, value: 5 },
    ]);
    const orderIds: number[] = [];
    for (let o = 0; o < orderCount; o++) {
      const oid = ++orderId;
      orderIds.push(oid);
      const placed = f.date.between({ from: createdAt, to: REF_DATE });
      const itemCount = f.number.int({ min: 1, max: 4 });
      const productIds = f.helpers.arrayElements(
        Array.from({ length: productCount }, (_, i) => i + 1),
        itemCount,
      );
      let total = 0;
      const items: Row[] = [];
      for (const productId of productIds.sort((x, y) => x - y)) {
        const quantity = f.helpers.weightedArrayElement([
          { weight: 7, value: 1 },
          { weight: 2, value: 2 },
          { weight: 1, value: 3 },
        ]);
        const unit = productPrices[productId - 1]!;
        total += unit * quantity;
        items.push({ order_id: oid, product_id: productId, quantity, unit_price_cents: unit });
      }
      const status = f.helpers.weightedArrayElement([
        { weight: 2, value: 'pending' },
        { weight: 2, value: 'paid' },
        { weight: 3, value: 'shipped' },
        { weight: 8, value: 'delivered' },
        { weight: 1, value: 'cancelled' },
        { weight: 1, value: 'refunded' },
      ]);
      const paidByCard = f.datatype.boolean({ probability: 0.85 });
      addOrder({
        id: oid,
        customer_id: id,
        status,
        total_cents: total,
        currency: loc.currency,
        card_number: paidByCard ? card : null,
        card_expiry: paidByCard ? expiry : null,
        ip_address: f.datatype.boolean({ probability: 0.7 }) ? customerIp : f.internet.ipv4(),
        created_at: isoTimestamp(placed),
      });
      for (const item of items) addItem(item);
    }

    if (f.datatype.boolean({ probability: 0.35 })) {
      const ticketCount = f.helpers.weightedArrayElement([
        { weight: 7, value: 1 },
        { weight: 2, value: 2 },
        { weight: 1, value: 3 },
      ]);
      for (let t = 0; t < ticketCount; t++) {
        const orderRef = orderIds.length > 0 ? `#${f.helpers.arrayElement(orderIds)}` : `#${f.number.int({ min: 1000, max: 9999 })}`;
        const { subject, body } = ticketText(loc, { firstName, email, orderRef, address: f.helpers.arrayElement(addresses) });
        addTicket({
          id: ++ticketId,
          customer_id: id,
          subject,
          body,
          status: f.helpers.weightedArrayElement([
            { weight: 2, value: 'open' },
            { weight: 1, value: 'pending' },
            { weight: 6, value: 'closed' },
          ]),
          created_at: isoTimestamp(f.date.between({ from: createdAt, to: REF_DATE })),
        });
      }
    }

    const eventCount = f.number.int({ min: 1, max: 8 });
    const agent = f.internet.userAgent();
    for (let e = 0; e < eventCount; e++) {
      const located = f.datatype.boolean({ probability: 0.7 });
      const [lat, lon] = located ? jitter(f, home[1], home[2]) : [null, null];
      addEvent({
        id: ++eventId,
        customer_id: id,
        event_type: f.helpers.arrayElement(['page_view', 'page_view', 'page_view', 'search', 'add_to_cart', 'login', 'checkout', 'logout', 'password_reset']),
        ip_address: f.datatype.boolean({ probability: 0.8 }) ? customerIp : f.datatype.boolean() ? f.internet.ipv4() : f.internet.ipv6(),
        user_agent: agent,
        latitude: lat,
        longitude: lon,
        occurred_at: isoTimestamp(f.date.between({ from: createdAt, to: REF_DATE })),
      });
    }
  }

  // Anonymous visitors: events without a customer.
  const anonymous = Math.round(customerCount * 1.5);
  for (let e = 0; e < anonymous; e++) {
    const loc = core.helpers.arrayElement(locales);
    const f = loc.faker;
    const city = f.helpers.arrayElement(loc.cities);
    const located = f.datatype.boolean({ probability: 0.4 });
    const [lat, lon] = located ? jitter(f, city[1], city[2]) : [null, null];
    addEvent({
      id: ++eventId,
      customer_id: null,
      event_type: f.helpers.arrayElement(['page_view', 'page_view', 'search', 'add_to_cart']),
      ip_address: f.datatype.boolean({ probability: 0.65 }) ? f.internet.ipv4() : f.internet.ipv6(),
      user_agent: f.internet.userAgent(),
      latitude: lat,
      longitude: lon,
      occurred_at: isoTimestamp(f.date.between({ from: SHOP_OPENED, to: REF_DATE })),
    });
  }

  // Marketing leads from trade shows and ads: collected, but for no declared purpose.
  const addLead = insert('marketing_leads', ['id', 'email', 'full_name', 'phone', 'interest', 'source', 'created_at']);
  const leads = Math.max(10, Math.round(customerCount / 4));
  for (let id = 1; id <= leads; id++) {
    const loc = core.helpers.arrayElement(locales);
    const f = loc.faker;
    const firstName = f.person.firstName();
    const lastName = f.person.lastName();
    addLead({
      id,
      email: f.internet.email({ firstName, lastName }).toLowerCase(),
      full_name: `${firstName} ${lastName}`,
      phone: f.datatype.boolean({ probability: 0.6 }) ? fakePhone(f, loc.country, 'international') : null,
      interest: f.helpers.arrayElement(['outdoor', 'kitchen', 'electronics', 'garden', 'fitness', 'kids', 'home office']),
      source: f.helpers.arrayElement(['newsletter', 'trade-show', 'webinar', 'referral', 'facebook-ad', 'google-ad']),
      created_at: isoTimestamp(f.date.between({ from: SHOP_OPENED, to: REF_DATE })),
    });
  }

  // Third-party integrations whose API tokens sit in plain text.
  const addIntegration = insert('integrations', ['id', 'provider', 'api_token', 'created_at']);
  const providers: Array<[string, TokenKind]> = [
    ['stripe', 'stripe'],
    ['github', 'github'],
    ['slack', 'slack'],
    ['aws-s3', 'aws'],
    ['sendgrid', 'sendgrid'],
    ['mailchimp', 'mailchimp'],
    ['openai', 'openai'],
    ['github-ci', 'github'],
  ];
  providers.forEach(([provider, kind], i) => {
    addIntegration({
      id: i + 1,
      provider,
      api_token: fakeApiToken(core, kind),
      created_at: isoTimestamp(core.date.between({ from: SHOP_OPENED, to: REF_DATE })),
    });
  });

  // Staff accounts: bcrypt hashes are how passwords should be stored.
  const addUser = insert('users', ['id', 'username', 'password_hash', 'last_login_at']);
  const usernames = new Set<string>(['admin']);
  addUser({ id: 1, username: 'admin', password_hash: fakeBcryptHash(core), last_login_at: isoTimestamp(core.date.recent({ days: 30 })) });
  for (let id = 2; id <= 15; id++) {
    let username: string;
    do username = `${core.person.firstName().toLowerCase()[0]}.${core.person.lastName().toLowerCase().replace(/[^a-z]/g, '')}`;
    while (usernames.has(username));
    usernames.add(username);
    addUser({
      id,
      username,
      password_hash: fakeBcryptHash(core),
      last_login_at: core.datatype.boolean({ probability: 0.9 }) ? isoTimestamp(core.date.recent({ days: 120 })) : null,
    });
  }
}

/** A point within roughly 15 km of a city centre, with 6 decimals (≈ 10 cm). */
function jitter(f: Faker, lat: number, lon: number): [number, number] {
  const dLat = f.number.float({ min: -0.13, max: 0.13, fractionDigits: 6 });
  const dLon = f.number.float({ min: -0.2, max: 0.2, fractionDigits: 6 });
  return [Math.round((lat + dLat) * 1e6) / 1e6, Math.round((lon + dLon) * 1e6) / 1e6];
}

// ------------------------------------------------------------ support tickets

interface TicketContext {
  readonly firstName: string;
  readonly email: string;
  readonly orderRef: string;
  readonly address: { street: string; city: string; postcode: string } | undefined;
}

type Template = (c: { order: string; name: string }) => string;

const TICKETS: Record<Lang, {
  /** One subject per body, then the subject of an address change. */
  subjects: string[];
  bodies: Template[];
  phone: (p: string) => string;
  email: (e: string) => string;
  both: (p: string, e: string) => string;
  address: (a: string) => string;
  signoff: (n: string) => string;
}> = {
  en: {
    subjects: ['Where is my order?', 'Refund request', 'Wrong item received', 'Damaged parcel', 'Cannot log in', 'Question about my invoice', 'Change of delivery address'],
    bodies: [
      (c) => `Hi, my order ${c.order} still hasn't arrived and the tracking page has not changed for a week. Could you look into it?`,
      (c) => `Hello, I would like to return order ${c.order}. The size does not fit. How do I get a refund?`,
      (c) => `I received the wrong item in order ${c.order}. I ordered the blue one and got a red one.`,
      (c) => `Hi, the parcel for order ${c.order} arrived damaged. I attached photos. What are my options?`,
      (c) => `I cannot log in to my account since the password reset. The link in the email says it has expired.`,
      (c) => `Could you send me a VAT invoice for order ${c.order}? The one in my account shows the wrong company name.`,
    ],
    phone: (p) => `Please call me back on ${p}.`,
    email: (e) => `You can also reach me at ${e}, I no longer use the address on my account.`,
    both: (p, e) => `Best to call me on ${p} during the day or write to ${e}.`,
    address: (a) => `Also, my new address is ${a}, please update it before you ship anything.`,
    signoff: (n) => `Thanks, ${n}`,
  },
  de: {
    subjects: ['Wo bleibt meine Bestellung?', 'Rückerstattung', 'Falscher Artikel geliefert', 'Paket beschädigt', 'Anmeldung nicht möglich', 'Frage zur Rechnung', 'Neue Lieferadresse'],
    bodies: [
      (c) => `Hallo, meine Bestellung ${c.order} ist immer noch nicht angekommen. Die Sendungsverfolgung zeigt seit Tagen nichts Neues.`,
      (c) => `Guten Tag, ich möchte die Bestellung ${c.order} zurückgeben, die Größe passt leider nicht. Wie bekomme ich mein Geld zurück?`,
      (c) => `In der Bestellung ${c.order} war der falsche Artikel. Bitte um Umtausch.`,
      (c) => `Das Paket zur Bestellung ${c.order} kam beschädigt an. Fotos habe ich angehängt.`,
      (c) => `Ich kann mich seit dem Zurücksetzen des Passworts nicht mehr anmelden. Der Link ist abgelaufen.`,
      (c) => `Können Sie mir bitte eine Rechnung mit ausgewiesener MwSt. für die Bestellung ${c.order} schicken?`,
    ],
    phone: (p) => `Bitte rufen Sie mich unter ${p} zurück.`,
    email: (e) => `Sie erreichen mich auch unter ${e}, die alte Adresse nutze ich nicht mehr.`,
    both: (p, e) => `Am besten tagsüber unter ${p} anrufen oder an ${e} schreiben.`,
    address: (a) => `Außerdem lautet meine neue Adresse ${a}. Bitte vor dem Versand ändern.`,
    signoff: (n) => `Viele Grüße, ${n}`,
  },
  fr: {
    subjects: ['Où est ma commande ?', 'Demande de remboursement', 'Mauvais article reçu', 'Colis endommagé', 'Impossible de me connecter', 'Question sur ma facture', "Changement d'adresse"],
    bodies: [
      (c) => `Bonjour, ma commande ${c.order} n'est toujours pas arrivée et le suivi n'a pas bougé depuis une semaine.`,
      (c) => `Bonjour, je souhaite retourner la commande ${c.order}, la taille ne convient pas. Comment être remboursé ?`,
      (c) => `J'ai reçu le mauvais article dans la commande ${c.order}. Merci de procéder à un échange.`,
      (c) => `Le colis de la commande ${c.order} est arrivé abîmé. Vous trouverez les photos en pièce jointe.`,
      (c) => `Je n'arrive plus à me connecter depuis la réinitialisation du mot de passe. Le lien a expiré.`,
      (c) => `Pourriez-vous m'envoyer une facture avec TVA pour la commande ${c.order} ?`,
    ],
    phone: (p) => `Merci de me rappeler au ${p}.`,
    email: (e) => `Vous pouvez aussi m'écrire à ${e}, je n'utilise plus l'ancienne adresse.`,
    both: (p, e) => `Appelez-moi au ${p} en journée ou écrivez à ${e}.`,
    address: (a) => `Par ailleurs, ma nouvelle adresse est ${a}, merci de la mettre à jour.`,
    signoff: (n) => `Cordialement, ${n}`,
  },
  es: {
    subjects: ['¿Dónde está mi pedido?', 'Solicitud de reembolso', 'Artículo equivocado', 'Paquete dañado', 'No puedo iniciar sesión', 'Consulta sobre la factura', 'Cambio de dirección'],
    bodies: [
      (c) => `Hola, mi pedido ${c.order} todavía no ha llegado y el seguimiento no cambia desde hace una semana.`,
      (c) => `Buenas, quiero devolver el pedido ${c.order} porque la talla no me queda bien. ¿Cómo solicito el reembolso?`,
      (c) => `En el pedido ${c.order} recibí un artículo equivocado. Quisiera cambiarlo.`,
      (c) => `El paquete del pedido ${c.order} llegó dañado. Adjunto fotos.`,
      (c) => `No puedo iniciar sesión desde que restablecí la contraseña. El enlace ha caducado.`,
      (c) => `¿Me pueden enviar una factura con IVA del pedido ${c.order}?`,
    ],
    phone: (p) => `Por favor, llámenme al ${p}.`,
    email: (e) => `También pueden escribirme a ${e}, ya no uso el correo antiguo.`,
    both: (p, e) => `Mejor llámenme al ${p} por la mañana o escriban a ${e}.`,
    address: (a) => `Además, mi nueva dirección es ${a}. Actualícenla antes del envío, por favor.`,
    signoff: (n) => `Gracias, ${n}`,
  },
};

/**
 * Subject and body of a ticket in the customer's language. About 30 % of bodies
 * mention a phone number, an email address or both inline; some a new address.
 */
function ticketText(loc: Locale, c: TicketContext): { subject: string; body: string } {
  const f = loc.faker;
  const t = TICKETS[loc.lang];
  // subjects[i] titles bodies[i]; the last subject is for a change of address.
  const topic = f.number.int({ min: 0, max: t.bodies.length - 1 });
  let subject = t.subjects[topic]!;
  const parts = [t.bodies[topic]!({ order: c.orderRef, name: c.firstName })];
  const contact = f.helpers.weightedArrayElement([
    { weight: 70, value: 'none' as const },
    { weight: 12, value: 'phone' as const },
    { weight: 10, value: 'email' as const },
    { weight: 8, value: 'both' as const },
  ]);
  const otherEmail = () =>
    f.datatype.boolean({ probability: 0.5 }) ? c.email : f.internet.email({ firstName: c.firstName }).toLowerCase();
  if (contact === 'phone') parts.push(t.phone(fakePhone(f, loc.country, f.helpers.arrayElement(['international', 'national'] as const))));
  else if (contact === 'email') parts.push(t.email(otherEmail()));
  else if (contact === 'both') parts.push(t.both(fakePhone(f, loc.country, 'international'), otherEmail()));
  if (c.address && f.datatype.boolean({ probability: 0.08 })) {
    parts.push(t.address(`${c.address.street}, ${c.address.postcode} ${c.address.city}`));
    if (topic === 0 || topic === 5) subject = t.subjects[t.subjects.length - 1]!;
  }
  if (f.datatype.boolean({ probability: 0.6 })) parts.push(t.signoff(c.firstName));
  return { subject, body: parts.join(' ') };
}

// ------------------------------------------------------------ steward.yml

/**
 * A commented `steward.yml` for the demo database at `dbPath` (relative to the
 * config file, or absolute). Some categories are deliberately left without a
 * purpose so that the audit has relevance findings to show.
 */
export function demoConfigYaml(dbPath: string): string {
  return `# steward.yml for the Steward demo shop (generated by \`steward demo\`).
# Every personal value in the demo database is fake. Edit this file and re-run
# \`steward audit\` to see how the findings change.
version: 1

# Purposes say why personal data is kept. The audit's "data collection review"
# checks every category it finds against them: a category that no purpose covers
# is flagged ("is this data relevant?").
purposes:
  - name: order-fulfilment
    description: Take orders, take payment, deliver parcels, send invoices.
    legalBasis: contract
    categories:
      - contact.*               # email, phone, postal address, postcode
      - identity.person_name
      - financial.card          # kept for repeat purchases; the audit still flags it in plain text
  - name: customer-support
    description: Answer support tickets and keep their history.
    legalBasis: legitimate-interests
    categories:
      - contact.email
      - contact.phone
      - identity.person_name
      - content.free_text       # ticket bodies in which customers write phone numbers and addresses
  - name: security-and-fraud
    description: Detect account takeover and payment fraud; keep staff and integration accounts safe.
    legalBasis: legitimate-interests
    categories:
      - network.ip_address
      - location.geolocation
      - credentials.secret      # declared, but plain-text API tokens are still a finding

# Deliberately NOT declared, so that the demo shows relevance findings:
#   - identity.government_id (customers.national_id: SSNs, NINOs, DNIs, NIRs,
#     Steuer-IDs) — a shop has no purpose for them; also high-risk in plain text.
#   - identity.date_of_birth (customers.date_of_birth) — collected "just in case".
# The marketing_leads table has no purpose of its own either. Purposes are declared
# per category, so its emails, names and phones are covered by the purposes above;
# a real review would ask whether a marketing purpose (and consent) exists for it.

sources:
  - name: shop
    kind: sqlite
    url: ${JSON.stringify(dbPath)}     # relative to this file
    owner: Shop engineering (dpo@shop.example)
    purposes:
      - order-fulfilment
      - customer-support
      - security-and-fraud
    exclude:
      - ${DEMO_META_TABLE}       # the demo's own marker table

audit:
  sampleRows: 1000
  failOn: never                 # try "high" to see a CI-style failure
`;
}
