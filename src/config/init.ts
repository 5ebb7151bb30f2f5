/**
 * `steward init`: a commented `steward.yml` for the user's own databases. Every
 * key is explained where it stands; connection strings come from the environment
 * so that the file can be committed.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { fileWriteError } from '../files.js';

export interface InitConfigOptions {
  /** Database kind of the example source (default `postgres`). */
  readonly kind?: 'postgres' | 'mysql' | 'sqlite';
}

const SOURCE_URL: Record<NonNullable<InitConfigOptions['kind']>, { url: string; comment: string }> = {
  postgres: {
    url: '${SHOP_DATABASE_URL}',
    comment: [
      '# Connection string. Keep secrets out of this file: ${NAME} is replaced by the',
      '# environment variable NAME (export SHOP_DATABASE_URL=postgres://steward_ro@db:5432/shop).',
      '# ${NAME:-fallback} gives a default; write $${ for a literal "${".',
      '# A read-only role is enough for audits.',
    ].join('\n    '),
  },
  mysql: {
    url: '${SHOP_DATABASE_URL}',
    comment: [
      '# Connection string. Keep secrets out of this file: ${NAME} is replaced by the',
      '# environment variable NAME (export SHOP_DATABASE_URL=mysql://steward_ro@db:3306/shop).',
      '# ${NAME:-fallback} gives a default; write $${ for a literal "${".',
      '# "mysql" covers MySQL and MariaDB. A user with SELECT is enough for audits.',
    ].join('\n    '),
  },
  sqlite: {
    url: '${SHOP_DATABASE_PATH:-./shop.db}',
    comment: [
      '# Path to the SQLite file, relative to this file (or absolute).',
      '# ${NAME} is replaced by the environment variable NAME; ${NAME:-fallback} gives a',
      '# default, as here. Write $${ for a literal "${".',
    ].join('\n    '),
  },
};

/**
 * The text of a starter `steward.yml`.
 *
 * @example
 *   await writeFile('steward.yml', initConfigText({ kind: 'mysql' }));
 */
export function initConfigText(options: InitConfigOptions = {}): string {
  const kind = options.kind ?? 'postgres';
  const src = SOURCE_URL[kind];
  return `# yaml-language-server: $schema=./node_modules/steward/schema/steward.schema.json
#
# steward.yml: what Steward audits, and why you keep the data.
# Editors with the YAML language server complete and check this file with the
# JSON Schema named on the first line. Run \`npx steward audit\` when done.

# Format version of this file.
version: 1

# Purposes: why you collect personal data, and which kinds of data each one needs.
# The audit compares what it finds in your databases with these: personal data
# that no declared purpose covers is reported ("is this data relevant?").
#   name:        short name that sources refer to
#   legalBasis:  GDPR Art. 6 lawful basis: consent, contract, legal-obligation,
#                vital-interests, public-task or legitimate-interests
#   categories:  data categories ("contact.email"), a whole group ("contact.*") or "*".
#                Categories: contact.email, contact.phone, contact.postal_address,
#                contact.postcode, identity.person_name, identity.date_of_birth,
#                identity.government_id, financial.card, financial.bank_account,
#                network.ip_address, location.geolocation, credentials.secret,
#                demographic.gender, special.health, content.free_text
purposes:
  - name: order-fulfilment
    description: Deliver orders and send receipts.
    legalBasis: contract
    categories: [identity.person_name, contact.email, contact.phone, contact.postal_address, contact.postcode]
  - name: payments
    description: Take payment and handle refunds.
    legalBasis: contract
    categories: [financial.card, financial.bank_account]
  - name: fraud-prevention
    description: Spot abusive orders and logins.
    legalBasis: legitimate-interests
    categories: [network.ip_address]
  # - name: newsletter
  #   description: Marketing e-mails to customers who opted in.
  #   legalBasis: consent
  #   categories: [contact.email]

# Sources: the databases to audit. Add one entry per database.
sources:
  - # Name used in reports and with --source (letters, digits, "_" or "-").
    name: shop
    # Database kind: postgres, mysql (MySQL and MariaDB) or sqlite.
    kind: ${kind}
    ${src.comment}
    url: ${src.url}
    # Who answers for this data: a team or a person.
    owner: platform-team
    # Why this data is kept: names of purposes above, or inline purposes
    # ({ name, legalBasis, categories }) that only this source has.
    purposes: [order-fulfilment, payments, fraud-prevention]
    # Schemas (PostgreSQL) or databases (MySQL) to audit; default: all non-system ones.
    # schemas: [public]
    # Tables or columns to skip: "schema.table", "table", "table.column"; "*" wildcards.
    exclude: []
    # Rows sampled per table (default: audit.sampleRows).
    # sampleRows: 1000
    # Give up connecting after this many milliseconds.
    connectTimeoutMs: 10000

# Steward's own store (audit history, findings): a SQLite file relative to this
# file (the default), or postgres://… so that a team shares one history.
state:
  url: .steward/state.db

# Detection: add your own rules to the built-in detectors.
# Patterns are regular expressions, case-insensitive, run on a linear-time engine:
# no backreferences or lookaround, and counted repetitions {n,m} up to 16.
detection:
  # Columns below this confidence (0–1) are not reported.
  minConfidence: 0.5
  # Column rules decide a column outright by its name, matched against "table.column".
  # category: a data category, or null for "not personal data".
  columnRules: []
  #   - pattern: '^legacy_users\\.notes$'
  #     category: content.free_text
  #   - pattern: '\\.sku$'
  #     category: null
  # Custom detectors recognise values of your own formats.
  detectors: []
  #   - id: customer-number
  #     category: identity.government_id
  #     pattern: 'CUST-[0-9]{8}'        # a whole value must match
  #     columnNames: ['customer_?(no|number)']
  #     scanFreeText: true              # also look for it inside free text

# Audit settings.
audit:
  # Rows sampled per table: audits read samples, never whole tables.
  sampleRows: 1000
  # Exit with code 1 when a finding reaches this severity:
  # critical, high, medium, low, info or never.
  failOn: never
  # Tables audited at the same time per source.
  concurrency: 4
`;
}

/**
 * Write the starter config to `file`, refusing to replace an existing one
 * unless `force` is set.
 *
 * @throws ConfigError CONFIG_EXISTS when the file exists and `force` is not set.
 */
export async function writeInitConfig(file: string, options: { force?: boolean } & InitConfigOptions = {}): Promise<void> {
  const text = initConfigText(options.kind ? { kind: options.kind } : {});
  let handle;
  try {
    // 'wx' fails if the file exists: no window between a check and the write.
    handle = await open(file, options.force ? 'w' : 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConfigError('CONFIG_EXISTS', `${path.basename(file)} already exists at ${file}`, {
        hint: 'Edit it, or pass --force to replace it with a fresh template',
        cause: e,
      });
    }
    throw fileWriteError(e, file, 'the configuration');
  }
  try {
    await handle.writeFile(text, 'utf8');
  } catch (e) {
    throw fileWriteError(e, file, 'the configuration');
  } finally {
    await handle.close();
  }
}

