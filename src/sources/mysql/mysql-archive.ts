/**
 * Archive reads and writes on MySQL/MariaDB: nothing is read differently, since
 * Steward opens it with `dateStrings` and `supportBigNumbers` (dates and big
 * integers arrive as text). Arrays (no such type) go back as JSON text. A schema is
 * a database, so a restore writes into the connection's own.
 */
import type { ArchiveDialect } from '../types.js';

export const MYSQL_ARCHIVE = Object.freeze<ArchiveDialect>({
  exactRead: (column) => column,
  params: { boolean: 'boolean', bigint: 'text', instant: 'date', array: 'json-text' },
  restoresIntoSchema: false,
});
