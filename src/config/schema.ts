import { z } from 'zod';
import { parseFrequency, parseIsoDuration } from '../audit/schedule.js';

/**
 * The `steward.yml` schema. The JSON Schema in `schema/steward.schema.json` is
 * generated from this (see scripts/gen-json-schema.mjs), so editors complete and
 * check the file with the same rules the CLI applies.
 */

/** Shown for a bad `sources[].url`; never includes the value (it may be a secret from the environment). */
const CONNECTION_EXPECTED =
  'expected a connection string: postgres://…, mysql://…, or a SQLite file path (use ${ENV_VAR} to keep secrets out of the file)';

const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'a name of letters, digits, "_" or "-", starting with a letter');

const categoryId = z
  .string()
  .regex(/^([a-z][a-z0-9_]*\.([a-z][a-z0-9_]*|\*)|\*)$/, 'a category id such as "contact.email", "contact.*" or "*"');

export const purposeSchema = z
  .object({
    name: identifier.describe('Short name of the purpose, e.g. "order-fulfilment".'),
    description: z.string().optional().describe('What the data is used for, in a sentence a data subject would understand.'),
    legalBasis: z
      .enum(['consent', 'contract', 'legal-obligation', 'vital-interests', 'public-task', 'legitimate-interests'])
      .optional()
      .describe('GDPR Art. 6 lawful basis.'),
    categories: z
      .array(categoryId)
      .min(1)
      .describe('Data categories collected for this purpose ("contact.email", "contact.*").'),
  })
  .strict();

/** An ISO-8601 duration (`P3M`) or a cron expression (`0 3 1 * *`, UTC). */
const frequency = z
  .string()
  .min(1)
  .refine((v) => {
    try {
      parseFrequency(v);
      return true;
    } catch {
      return false;
    }
  }, 'an ISO-8601 duration such as "P3M" (quarterly), "P1M" (monthly), "P6M" (bi-annual), or a cron expression such as "0 3 1 * *"');

export const scheduleSchema = z
  .object({
    collection: frequency.optional().describe('Data collection review (default P3M, quarterly).'),
    access: frequency.optional().describe('Access verification (default P1M, monthly).'),
    integrity: frequency.optional().describe('Integrity check (default P6M, bi-annual).'),
    retention: frequency.optional().describe('steward retention apply for the policies of the source (not scheduled unless set, e.g. P1D).'),
  })
  .strict();

export const sourceSchema = z
  .object({
    name: identifier.describe('Name used in reports and on the command line (--source).'),
    kind: z.enum(['postgres', 'mysql', 'sqlite']).describe('Database kind. "mysql" covers MySQL and MariaDB.'),
    url: z
      .string({ error: CONNECTION_EXPECTED })
      .min(1, { error: CONNECTION_EXPECTED })
      .describe(
        'Connection string; use ${ENV_VAR} so that secrets stay out of the file. postgres://…, mysql://…, or a SQLite file path.',
      ),
    owner: z.string().min(1).describe('Who answers for this data (team or person).'),
    recipients: z.array(z.string().min(1)).default([]).describe('Who receives data from this source (processors, third parties), for access requests (GDPR Art. 15(1)(c)).'),
    purposes: z
      .array(z.union([identifier, purposeSchema]))
      .default([])
      .describe('Purposes the data is collected for: names of top-level purposes, or inline purposes.'),
    schemas: z.array(z.string().min(1)).optional().describe('Schemas/databases to audit (default: all non-system ones).'),
    exclude: z
      .array(z.string().min(1))
      .default([])
      .describe('Tables or columns to skip: "schema.table", "table", "table.column"; "*" wildcards allowed.'),
    sampleRows: z.number().int().min(10).max(100_000).optional().describe('Rows sampled per table (default from audit.sampleRows).'),
    connectTimeoutMs: z.number().int().min(100).max(600_000).default(10_000).describe('Give up connecting after this many milliseconds.'),
    schedule: scheduleSchema.optional().describe('How often each audit stage runs for this source (overrides the top-level schedule).'),
    integrity: z
      .object({
        required: z.array(z.string().regex(/^[^.]+\.[^.]+$/, '"table.column"')).default([]).describe('Columns that must never be null ("customers.email").'),
        staleAfter: z
          .string()
          .refine((v) => parseIsoDuration(v) !== null, 'an ISO-8601 duration such as "P2Y"')
          .optional()
          .describe('Records whose updated column is older than this are stale ("P2Y").'),
        updatedColumns: z.record(z.string(), z.string()).default({}).describe('Per table, the column that says when a record was last updated ({ customers: updated_at }).'),
        references: z
          .record(z.string().regex(/^[^.]+\.[^.]+$/), z.string().regex(/^[^.]+\.[^.]+$/))
          .default({})
          .describe('Foreign keys no constraint enforces: { "orders.customer_id": "customers.id" }.'),
      })
      .strict()
      .optional()
      .describe('Integrity check settings: required columns, staleness, unenforced references.'),
    access: z
      .object({
        authorized: z
          .array(
            z
              .object({
                principal: z
                  .string()
                  .min(1)
                  .describe('Who: a Postgres role, a MySQL account ("app@%", or "app" for every host), PUBLIC, or for SQLite "others" / "group <gid>".'),
                tables: z.array(z.string().min(1)).min(1).optional().describe('Tables it may read ("customers", "public.customers", "*" wildcards); default every table.'),
                categories: z.array(categoryId).min(1).optional().describe('Data categories it may read ("contact.email", "contact.*"); default every category.'),
                reason: z.string().optional().describe('Why it is authorized, for the person who reviews this file.'),
              })
              .strict(),
          )
          .default([])
          .describe('Principals authorized to read personal data. Access by anyone else is a finding. Membership of an authorized role counts as authorized.'),
        rowLevelSecurity: z.array(z.string().min(1)).default([]).describe('Tables that must have row-level security enabled (Postgres).'),
      })
      .strict()
      .optional()
      .describe('Access verification: who may read personal data in this source.'),
  })
  .strict();

/** `2y`, `18m`, `90d`, `12w`, `36h` or an ISO-8601 duration (`P2Y`, `P3M`). */
export const RETENTION_PERIOD = /^(\d+)\s*(y|m|w|d|h)$/i;

const retentionPeriod = z
  .string()
  .refine((v) => RETENTION_PERIOD.test(v.trim()) || (parseIsoDuration(v) !== null && /^P/i.test(v.trim())), 'a period such as "2y", "3m", "90d" or an ISO-8601 duration such as "P2Y"');

const cleanupMethod = z
  .string()
  .regex(/^(null|hash|year|month|prefix:\d{1,3}|fixed:.*)$/s, 'one of null, hash, year, month, prefix:N, fixed:VALUE');

export const retentionPolicySchema = z
  .object({
    name: identifier.describe('Policy name (steward retention apply --policy NAME).'),
    source: identifier.optional().describe('The source in this file (table policies).'),
    table: z.string().min(1).optional().describe('The table it covers ("support_tickets" or "schema.table"). Give table or category.'),
    category: categoryId
      .optional()
      .describe('Instead of table: a data category ("contact.email", "contact.*"); the policy covers every table the last audit found holding it, in every source (or those in sources).'),
    sources: z.array(identifier).min(1).optional().describe('For category policies: only these sources (default every source).'),
    exclude: z.array(z.string().min(1)).optional().describe('For category policies: tables it does not cover ("audit_log", "public.audit_log").'),
    where: z.string().min(1).optional().describe('Only rows matching this SQL condition (trusted operator input; table policies).'),
    period: retentionPeriod.describe('How long rows are kept after the reference date: "2y", "3m", "90d", "P5Y".'),
    from: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('The column holding the reference date (created, last activity, contract end). Category policies may list several: each table uses the first it has.'),
    method: z.enum(['erase', 'archive', 'cleanup']).describe('erase: delete; archive: write to an encrypted archive, then delete; cleanup: anonymise in place.'),
    legalBasis: z.string().min(1).describe('Why this period: the law, contract or purpose it rests on (shown in plans and certificates).'),
    legalMinimum: retentionPeriod.optional().describe('The shortest period the law allows (e.g. 6y for invoices); a shorter period is refused.'),
    cascade: z.array(z.string().min(1)).default([]).describe('Child tables (by foreign key) whose rows go with a parent row (erase: deleted first; archive: archived in their own set, then deleted).'),
    cleanup: z
      .union([z.record(z.string(), cleanupMethod), cleanupMethod])
      .optional()
      .describe('For cleanup: column → null | hash | year | month | prefix:N | fixed:VALUE; a category policy gives one method for the category\'s columns.'),
  })
  .strict()
  .superRefine((p, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (p.table === undefined && p.category === undefined) issue('table', 'give the table it covers, or a data category (category: contact.email)');
    if (p.table !== undefined && p.category !== undefined) issue('category', 'give table or category, not both');
    if (p.table !== undefined) {
      if (p.source === undefined) issue('source', 'a table policy names its source');
      if (typeof p.from !== 'string') issue('from', 'a table policy names one reference column');
      if (typeof p.cleanup === 'string') issue('cleanup', 'a table policy lists its columns: cleanup: { email: hash, … }');
      if (p.sources !== undefined) issue('sources', 'sources applies to category policies; a table policy names its source');
      if (p.exclude !== undefined) issue('exclude', 'exclude applies to category policies');
    }
    if (p.category !== undefined) {
      if (p.source !== undefined) issue('source', 'a category policy covers every source, or those in sources: [...]');
      if (p.where !== undefined) issue('where', 'a category policy covers tables of different shapes: a where filter cannot apply to all of them; write table policies instead');
      if (p.cleanup !== undefined && typeof p.cleanup !== 'string') issue('cleanup', 'a category policy gives one method for the category\'s columns (cleanup: hash)');
    }
  });

const columnRuleSchema = z
  .object({
    pattern: z.string().min(1).describe('Regular expression matched against "table.column" (linear-time engine; case-insensitive).'),
    category: categoryId.nullable().describe('Category to assign, or null to mark matching columns as not personal data.'),
  })
  .strict();

const detectorSchema = z
  .object({
    id: identifier.describe('Detector id, shown in findings as the signal that fired.'),
    category: categoryId.describe('Data category of the values it recognises, e.g. "identity.government_id".'),
    pattern: z.string().min(1).describe('Regular expression a whole value must match (linear-time engine, no backreferences/lookaround).'),
    columnNames: z.array(z.string().min(1)).default([]).describe('Column-name regexes that strengthen this detector.'),
    scanFreeText: z.boolean().default(false).describe('Also look for the pattern inside free text.'),
  })
  .strict();

/** A calendar duration (days, weeks, months, years): `P1M`, `P45D`. */
const dateDuration = z
  .string()
  .refine((v) => {
    const d = parseIsoDuration(v);
    return d !== null && d.hours + d.minutes + d.seconds === 0;
  }, 'an ISO-8601 duration in days, weeks, months or years, such as P1M or P45D');

const REQUESTS_DEFAULT = { defaultJurisdiction: 'gdpr', jurisdictions: {}, dueSoonDays: 7, shredAfter: 'P30D', dir: 'requests' };

const requestsSchema = z
  .object({
    defaultJurisdiction: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a jurisdiction name in lower case, such as "gdpr" or "ccpa"')
      .default('gdpr')
      .describe('The jurisdiction a case is opened under when `steward request open` names none (built in: gdpr, ccpa).'),
    jurisdictions: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a jurisdiction name in lower case'),
        z
          .object({
            respondWithin: dateDuration.describe('How long after receipt the answer is due (GDPR: P1M; CCPA: P45D).'),
            extendBy: dateDuration.default('P0D').describe('How much longer an extension allows, once, counted from receipt with respondWithin (GDPR: P2M; CCPA: P45D; P0D: none).'),
            label: z.string().min(1).optional().describe('Where the rule comes from, for messages ("LGPD Art. 19").'),
          })
          .strict(),
      )
      .default({})
      .describe('Deadlines per jurisdiction, added to or overriding the built-in gdpr (P1M + P2M) and ccpa (P45D + P45D).'),
    dueSoonDays: z.number().int().min(0).max(365).default(7).describe('Open requests this many days or fewer before their deadline are a subjects.request-due-soon finding.'),
    shredAfter: dateDuration.default('P30D').describe('How long after a case is closed its identifiers are crypto-shredded (the case and its evidence stay).'),
    dir: z.string().min(1).default('requests').describe('Where `steward request run` writes access packages (relative to this file).'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (!['gdpr', 'ccpa'].includes(r.defaultJurisdiction) && !(r.defaultJurisdiction in r.jurisdictions)) {
      ctx.addIssue({ code: 'custom', path: ['defaultJurisdiction'], message: `"${r.defaultJurisdiction}" is neither built in (gdpr, ccpa) nor defined under subjects.requests.jurisdictions` });
    }
  })
  .describe('Data-subject request cases (steward request): deadlines per jurisdiction, when due-soon findings start, when identifiers are shredded.');

export const configSchema = z
  .object({
    $schema: z.string().optional().describe('JSON Schema for editors; ignored by Steward.'),
    version: z.literal(1).default(1).describe('Config format version.'),
    state: z
      .object({
        url: z
          .string()
          .min(1)
          .default('.steward/state.db')
          .describe('Steward\'s own store: a SQLite path relative to this file (default) or postgres://… for teams.'),
      })
      .strict()
      .default({ url: '.steward/state.db' })
      .describe("Steward's own store: audit history and findings."),
    purposes: z.array(purposeSchema).default([]).describe('Purposes shared by several sources.'),
    sources: z.array(sourceSchema).min(1, 'needs at least one source').describe('The databases to audit.'),
    detection: z
      .object({
        columnRules: z
          .array(columnRuleSchema)
          .default([])
          .describe('Rules that decide a column outright by its name; the first match wins.'),
        detectors: z.array(detectorSchema).default([]).describe('Your own value detectors, tried before the built-in ones.'),
        minConfidence: z.number().min(0).max(1).default(0.5).describe('Columns below this confidence are not reported.'),
      })
      .strict()
      .default({ columnRules: [], detectors: [], minConfidence: 0.5 })
      .describe('Your own detection rules, added to the built-in detectors.'),
    audit: z
      .object({
        sampleRows: z.number().int().min(10).max(100_000).default(1000).describe('Rows sampled per table.'),
        failOn: z.enum(['critical', 'high', 'medium', 'low', 'info', 'never']).default('never').describe('Exit 1 when a finding reaches this severity.'),
        concurrency: z.number().int().min(1).max(32).default(4).describe('Tables audited at once per source.'),
      })
      .strict()
      .default({ sampleRows: 1000, failOn: 'never', concurrency: 4 })
      .describe('Audit settings.'),
    encryption: z
      .object({
        masterKey: z
          .union([
            z.object({ env: z.string().min(1).describe('Environment variable holding the 32-byte master key (base64 or hex).') }).strict(),
            z.object({ file: z.string().min(1).describe('File holding the master key (mode 0600), relative to this file.') }).strict(),
            z.object({ passphraseEnv: z.string().min(1).describe('Environment variable holding a passphrase (stretched with scrypt).') }).strict(),
            z
              .object({
                vaultTransit: z
                  .object({
                    key: z.string().min(1).describe('Name of the transit key that wraps Steward\'s data keys.'),
                    mount: z.string().min(1).optional().describe('Where the transit engine is mounted (default transit).'),
                    address: z.string().min(1).optional().describe('Vault address (default $VAULT_ADDR); the token always comes from $VAULT_TOKEN.'),
                  })
                  .strict(),
              })
              .strict(),
          ])
          .default({ env: 'STEWARD_MASTER_KEY' })
          .describe('Where the master key (key-encryption key) comes from. Never the key itself.'),
        batchSize: z.number().int().min(1).max(10_000).default(1000).describe('Rows per batch (one short transaction each) for steward encrypt/decrypt.'),
      })
      .strict()
      .default({ masterKey: { env: 'STEWARD_MASTER_KEY' }, batchSize: 1000 })
      .describe('Field encryption: the master key and how columns are migrated.'),
    retention: z
      .object({
        archive: z
          .object({
            dir: z.string().min(1).default('archives').describe('Where archive sets are written (relative to this file).'),
            recipients: z.array(z.string().min(1)).default([]).describe('Public keys (age1…, from `steward keys recipient new` or `age-keygen`; stwpub1… keys of the earlier format are accepted) archives are encrypted to; Steward itself cannot read them back.'),
          })
          .strict()
          .default({ dir: 'archives', recipients: [] }),
        policies: z.array(retentionPolicySchema).default([]).describe('One per data set: what it covers, how long it is kept, how it ends.'),
        batchSize: z.number().int().min(1).max(10_000).default(5000).describe('Rows per batch (one short transaction each); with cascade children, parent and child rows together. Postgres erases 5,000 rows in about 5 ms (BENCHMARKS.md).'),
      })
      .strict()
      .default({ archive: { dir: 'archives', recipients: [] }, policies: [], batchSize: 5000 })
      .describe('Retention policies (steward retention plan / apply).'),
    subjects: z
      .object({
        minConfidence: z.number().min(0).max(1).default(0.9).describe('Inferred links (no foreign key) at or above this confidence (share of sampled child values found in the parent key) are followed.'),
        defaultCountry: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 country code such as "GB"').optional().describe('Country for phone numbers written without a country code (--phone 020 7946 0958).'),
        links: z
          .array(
            z
              .object({
                from: z.string().min(1).describe('The child column: "orders.customer_ref", or "crm:contacts.shop_id" in another source.'),
                to: z.string().min(1).describe('The parent key it holds: "customers.id", or "shop:customers.id".'),
                source: identifier.optional().describe('The source both sides are in, when they do not name one (default: the only source).'),
                accept: z.boolean().default(true).describe('false rejects an inferred link.'),
              })
              .strict(),
          )
          .default([])
          .describe('Links the schema does not declare (or inferred ones to reject).'),
        identifiers: z
          .array(
            z
              .object({
                column: z.string().min(1).describe('"contacts.mail", or "crm:contacts.mail".'),
                kind: z.enum(['email', 'phone', 'nationalId']).describe('What it holds.'),
                source: identifier.optional(),
              })
              .strict(),
          )
          .default([])
          .describe('Columns that identify people which the inventory does not mark (a request searches them).'),
        exclude: z
          .array(z.object({ table: z.string().min(1), source: identifier.optional(), reason: z.string().min(1).describe('Why requests leave it out.') }).strict())
          .default([])
          .describe('Tables data-subject requests leave out, with the reason.'),
        exempt: z
          .array(z.object({ table: z.string().min(1), source: identifier.optional(), reason: z.string().min(1).describe('Why its rows are kept (the law that requires them).') }).strict())
          .default([])
          .describe('Tables whose rows an erasure keeps as they are, with the reason (listed in the plan as kept).'),
        requests: requestsSchema.default(REQUESTS_DEFAULT),
      })
      .strict()
      .default({ minConfidence: 0.9, links: [], identifiers: [], exclude: [], exempt: [], requests: REQUESTS_DEFAULT })
      .describe('Data-subject requests: how the subject map is completed (steward subject map).'),
    schedule: scheduleSchema
      .extend({
        retryAfter: z
          .string()
          .refine((v) => parseIsoDuration(v) !== null, 'an ISO-8601 duration such as "PT1H"')
          .default('PT1H')
          .describe('A stage whose last run failed is retried this long after the failure.'),
      })
      .strict()
      .default({ retryAfter: 'PT1H' })
      .describe('How often each audit stage runs (steward audit --due, steward schedule, steward run).'),
  })
  .strict()
  // Cross-references run even when other parts of the file are invalid (`when`), so
  // that one run reports every problem; the input may then be partly malformed.
  .superRefine(
    (cfg, ctx) => {
      if (!isRecord(cfg)) return;
      const sources: unknown[] = Array.isArray(cfg.sources) ? cfg.sources : [];
      const shared: unknown[] = Array.isArray(cfg.purposes) ? cfg.purposes : [];
      const known = new Set(shared.map((p) => nameOf(p)).filter((n): n is string => n !== undefined));
      const seen = new Map<string, number>();
      sources.forEach((s, i) => {
        const name = nameOf(s);
        if (name !== undefined) {
          const first = seen.get(name);
          if (first !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['sources', i, 'name'],
              message: `duplicate source name "${name}" (also used by sources[${first}]): source names must be unique`,
            });
          } else seen.set(name, i);
        }
        const kind = isRecord(s) ? s.kind : undefined;
        const url = isRecord(s) ? s.url : undefined;
        if (typeof url === 'string' && url.length > 0 && typeof kind === 'string' && !urlMatchesKind(kind, url)) {
          ctx.addIssue({ code: 'custom', path: ['sources', i, 'url'], message: KIND_URL_EXPECTED[kind] ?? CONNECTION_EXPECTED });
        }
        const purposes: unknown[] = isRecord(s) && Array.isArray(s.purposes) ? s.purposes : [];
        purposes.forEach((p, j) => {
          if (typeof p === 'string' && !known.has(p)) {
            ctx.addIssue({
              code: 'custom',
              path: ['sources', i, 'purposes', j],
              message: `unknown purpose "${p}": declare it under the top-level "purposes:" or write it inline here`,
            });
          }
        });
      });
      const shareSeen = new Set<string>();
      shared.forEach((p, i) => {
        const name = nameOf(p);
        if (name === undefined) return;
        if (shareSeen.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['purposes', i, 'name'], message: `duplicate purpose name "${name}": purpose names must be unique` });
        }
        shareSeen.add(name);
      });
      const detectors: unknown[] = isRecord(cfg.detection) && Array.isArray(cfg.detection.detectors) ? cfg.detection.detectors : [];
      const ids = new Set<string>();
      detectors.forEach((d, i) => {
        const id = isRecord(d) && typeof d.id === 'string' ? d.id : undefined;
        if (id === undefined) return;
        if (ids.has(id)) {
          ctx.addIssue({ code: 'custom', path: ['detection', 'detectors', i, 'id'], message: `duplicate detector id "${id}": detector ids must be unique` });
        }
        ids.add(id);
      });
    },
    { when: () => true },
  );

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nameOf(v: unknown): string | undefined {
  return isRecord(v) && typeof v.name === 'string' ? v.name : undefined;
}

const KIND_URL_EXPECTED: Record<string, string> = {
  postgres: 'expected a PostgreSQL connection string (postgres://user@host:5432/db) for kind "postgres"',
  mysql: 'expected a MySQL/MariaDB connection string (mysql://user@host:3306/db) for kind "mysql"',
  sqlite: 'expected a SQLite file path (or file:… / sqlite:… URL) for kind "sqlite", not a server connection string',
};

/** Whether a connection string fits the declared kind; a mismatch is a typo worth catching before connecting. */
export function urlMatchesKind(kind: string, url: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase();
  switch (kind) {
    case 'postgres':
      return scheme === 'postgres' || scheme === 'postgresql';
    case 'mysql':
      return scheme === 'mysql' || scheme === 'mariadb';
    case 'sqlite':
      return scheme === undefined || scheme === 'file' || scheme === 'sqlite';
    default:
      return true;
  }
}

export type StewardConfigInput = z.input<typeof configSchema>;
export type StewardConfig = z.output<typeof configSchema>;
export type SourceConfig = StewardConfig['sources'][number];
export type PurposeConfig = z.output<typeof purposeSchema>;
export type DetectorConfig = StewardConfig['detection']['detectors'][number];
export type ColumnRuleConfig = StewardConfig['detection']['columnRules'][number];
export type RetentionPolicyConfig = z.output<typeof retentionPolicySchema>;
