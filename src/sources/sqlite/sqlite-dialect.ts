/** What Steward knows of SQLite without opening a file (see `SourceDialect`). */
import { lookupExpressionText } from '../lookup-expressions.js';
import type { SourceCapabilities, SourceDialect } from '../types.js';
import { SQLITE_ARCHIVE } from './sqlite-archive.js';
import { sqliteConnectionTransport } from './sqlite-transport.js';

export const SQLITE_CAPABILITIES: SourceCapabilities = Object.freeze({
  supportsTablesample: false,
  // Attached databases are schemas, but a source is one file: "main".
  supportsSchemas: false,
  supportsColumnPrivileges: false,
  supportsReturning: true,
  supportsTransactionalDdl: true,
  textEqualityFoldsCase: false,
  maxBindParameters: 30_000,
});

const q = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export const SQLITE_DIALECT: SourceDialect = Object.freeze({
  kind: 'sqlite',
  displayName: 'SQLite',
  capabilities: SQLITE_CAPABILITIES,
  quoteIdentifier: q,
  predicates: Object.freeze({
    parsers: ['sqlite'],
    backslashInStrings: false,
    backslashInDoubleQuotes: false,
    escapeStrings: false,
    hashComments: false,
    dollarQuotes: true,
    numberedParameters: false,
    questionParameters: true,
    namedParameters: true,
  }),
  connectionTransport: sqliteConnectionTransport,
  transit: null,
  archive: SQLITE_ARCHIVE,
  // A source is one file: the table is named without its schema ("main").
  indexStatement: (t, column, o) => `CREATE INDEX ${q(o.name)} ON ${q(t.name)} ${o.caseInsensitive ? `(lower(${q(column)}))` : `(${q(column)})`};`,
  lookupExpression: (column, e) => lookupExpressionText(`cast(${q(column)} as text)`, e),
  // SQLite uses an index on an expression only for a query that writes the same expression (literals included).
  lookupIndexStatement: (t, column, e, o) => `CREATE INDEX ${q(o.name)} ON ${q(t.name)} (${lookupExpressionText(`cast(${q(column)} as text)`, e)});`,
  freeTextIndex: null,
  fixedPrincipals: Object.freeze({ pattern: /^(others|group \d+)$/, explanation: 'A SQLite file has no accounts: name "others" (every user of the machine) or "group <gid>".' }),
} satisfies SourceDialect);
