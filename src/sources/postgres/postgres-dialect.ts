/** What Steward knows of PostgreSQL without a connection (see `SourceDialect`). */
import { lookupExpressionText } from '../lookup-expressions.js';
import type { SourceCapabilities, SourceDialect } from '../types.js';
import { POSTGRES_ARCHIVE } from './postgres-archive.js';
import { POSTGRES_TRANSIT_ADVICE, postgresConnectionTransport } from './postgres-transport.js';

export const POSTGRES_CAPABILITIES: SourceCapabilities = Object.freeze({
  supportsTablesample: true,
  supportsSchemas: true,
  supportsColumnPrivileges: true,
  supportsReturning: true,
  supportsTransactionalDdl: true,
  textEqualityFoldsCase: false,
  maxBindParameters: 60_000,
});

const q = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export const POSTGRES_DIALECT: SourceDialect = Object.freeze({
  kind: 'postgres',
  displayName: 'PostgreSQL',
  capabilities: POSTGRES_CAPABILITIES,
  quoteIdentifier: q,
  predicates: Object.freeze({
    parsers: ['postgresql'],
    backslashInStrings: true,
    backslashInDoubleQuotes: false,
    escapeStrings: true,
    hashComments: false,
    dollarQuotes: true,
    numberedParameters: true,
    questionParameters: false,
    namedParameters: false,
  }),
  connectionTransport: postgresConnectionTransport,
  transit: POSTGRES_TRANSIT_ADVICE,
  archive: POSTGRES_ARCHIVE,
  // Postgres names the index itself; the schema qualifies the table.
  indexStatement: (t, column, o) => `CREATE INDEX ON ${q(t.schema)}.${q(t.name)} ${o.caseInsensitive ? `(lower(${q(column)}))` : `(${q(column)})`};`,
  lookupExpression: (column, e) => lookupExpressionText(`${q(column)}::text`, e),
  // An expression is indexed in its own parentheses.
  lookupIndexStatement: (t, column, e) => `CREATE INDEX ON ${q(t.schema)}.${q(t.name)} ((${lookupExpressionText(`${q(column)}::text`, e)}));`,
  // pg_trgm's GIN operator class serves `lower(col) like '%…%'` (indexLeads reports it as `gin:<expr> <opclass>`).
  freeTextIndex: Object.freeze({
    statement: (t: { schema: string; name: string }, column: string) => `CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX ON ${q(t.schema)}.${q(t.name)} USING gin (lower(${q(column)}) gin_trgm_ops);`,
    lead: (column: string) => `gin:lower(${q(column)}) gin_trgm_ops`,
  }),
  fixedPrincipals: null,
} satisfies SourceDialect);
