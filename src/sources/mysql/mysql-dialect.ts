/** What Steward knows of MySQL and MariaDB without a connection (see `SourceDialect`). */
import type { SourceCapabilities, SourceDialect } from '../types.js';
import { MYSQL_ARCHIVE } from './mysql-archive.js';
import { MYSQL_TRANSIT_ADVICE, mysqlConnectionTransport } from './mysql-transport.js';

export const MYSQL_CAPABILITIES: SourceCapabilities = Object.freeze({
  supportsTablesample: false,
  supportsSchemas: true,
  supportsColumnPrivileges: true,
  // MariaDB has INSERT/DELETE … RETURNING, MySQL has none; callers must not rely on it.
  supportsReturning: false,
  supportsTransactionalDdl: false,
  textEqualityFoldsCase: true,
  maxBindParameters: 60_000,
});

const q = (name: string): string => `\`${name.replaceAll('`', '``')}\``;

export const MYSQL_DIALECT: SourceDialect = Object.freeze({
  kind: 'mysql',
  displayName: 'MySQL/MariaDB',
  capabilities: MYSQL_CAPABILITIES,
  quoteIdentifier: q,
  predicates: Object.freeze({
    // A MySQL source may be MariaDB or MySQL: either parser will do.
    parsers: ['mariadb', 'mysql'],
    backslashInStrings: true,
    backslashInDoubleQuotes: true,
    escapeStrings: false,
    hashComments: true,
    dollarQuotes: false,
    numberedParameters: false,
    questionParameters: true,
    namedParameters: false,
  }),
  connectionTransport: mysqlConnectionTransport,
  transit: MYSQL_TRANSIT_ADVICE,
  archive: MYSQL_ARCHIVE,
  // The default collations fold case: the plain column serves a case-insensitive lookup.
  indexStatement: (t, column, o) => `CREATE INDEX ${q(o.name)} ON ${q(t.schema)}.${q(t.name)} (${q(column)});`,
  // MariaDB has no index on an expression, and (before 11.8) does not use an index on a generated
  // column for a query that writes its expression: a lookup by digits scans.
  lookupExpression: () => null,
  lookupIndexStatement: () => null,
  freeTextIndex: null,
  fixedPrincipals: null,
} satisfies SourceDialect);
