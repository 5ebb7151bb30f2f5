import { z } from 'zod';

/**
 * The `steward.yml` schema. The JSON Schema in `schema/steward.schema.json` is
 * generated from this (see scripts/gen-json-schema.mjs), so editors complete and
 * check the file with the same rules the CLI applies.
 */

const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'a name of letters, digits, "_" or "-", starting with a letter');

const categoryId = z
  .string()
  .regex(/^([a-z][a-z0-9_]*\.([a-z][a-z0-9_]*|\*)|\*)$/, 'a category id such as "contact.email", "contact.*" or "*"');

export const purposeSchema = z
  .object({
    name: identifier.describe('Short name of the purpose, e.g. "order-fulfilment".'),
    description: z.string().optional(),
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

export const sourceSchema = z
  .object({
    name: identifier.describe('Name used in reports and on the command line (--source).'),
    kind: z.enum(['postgres', 'mysql', 'sqlite']).describe('Database kind. "mysql" covers MySQL and MariaDB.'),
    url: z
      .string()
      .min(1)
      .describe(
        'Connection string; use ${ENV_VAR} so that secrets stay out of the file. postgres://…, mysql://…, or a SQLite file path.',
      ),
    owner: z.string().min(1).describe('Who answers for this data (team or person).'),
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
    connectTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  })
  .strict();

const columnRuleSchema = z
  .object({
    pattern: z.string().min(1).describe('Regular expression matched against "table.column" (linear-time engine; case-insensitive).'),
    category: categoryId.nullable().describe('Category to assign, or null to mark matching columns as not personal data.'),
  })
  .strict();

const detectorSchema = z
  .object({
    id: identifier,
    category: categoryId,
    pattern: z.string().min(1).describe('Regular expression a whole value must match (linear-time engine, no backreferences/lookaround).'),
    columnNames: z.array(z.string().min(1)).default([]).describe('Column-name regexes that strengthen this detector.'),
    scanFreeText: z.boolean().default(false).describe('Also look for the pattern inside free text.'),
  })
  .strict();

export const configSchema = z
  .object({
    $schema: z.string().optional(),
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
      .default({ url: '.steward/state.db' }),
    purposes: z.array(purposeSchema).default([]).describe('Purposes shared by several sources.'),
    sources: z.array(sourceSchema).min(1, 'at least one source'),
    detection: z
      .object({
        columnRules: z.array(columnRuleSchema).default([]),
        detectors: z.array(detectorSchema).default([]),
        minConfidence: z.number().min(0).max(1).default(0.5).describe('Columns below this confidence are not reported.'),
      })
      .strict()
      .default({ columnRules: [], detectors: [], minConfidence: 0.5 }),
    audit: z
      .object({
        sampleRows: z.number().int().min(10).max(100_000).default(1000).describe('Rows sampled per table.'),
        failOn: z.enum(['critical', 'high', 'medium', 'low', 'info', 'never']).default('never').describe('Exit 1 when a finding reaches this severity.'),
        concurrency: z.number().int().min(1).max(32).default(4).describe('Tables audited at once per source.'),
      })
      .strict()
      .default({ sampleRows: 1000, failOn: 'never', concurrency: 4 }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.sources.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${s.name}"` });
      seen.add(s.name);
      const known = new Set(cfg.purposes.map((p) => p.name));
      s.purposes.forEach((p, j) => {
        if (typeof p === 'string' && !known.has(p)) {
          ctx.addIssue({
            code: 'custom',
            path: ['sources', i, 'purposes', j],
            message: `unknown purpose "${p}": declare it under the top-level "purposes:" or inline it here`,
          });
        }
      });
    });
  });

export type StewardConfigInput = z.input<typeof configSchema>;
export type StewardConfig = z.output<typeof configSchema>;
export type SourceConfig = StewardConfig['sources'][number];
export type PurposeConfig = z.output<typeof purposeSchema>;
export type DetectorConfig = StewardConfig['detection']['detectors'][number];
export type ColumnRuleConfig = StewardConfig['detection']['columnRules'][number];
