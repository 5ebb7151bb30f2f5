/**
 * The leaf of the sources vocabulary: names every layer shares (audit reports,
 * transit findings, error contexts) without importing the Source interface.
 * Imports nothing, so no type cycle can run through it.
 */

/** The databases Steward can audit. `mysql` covers MySQL and MariaDB. */
export type SourceKind = 'postgres' | 'mysql' | 'sqlite';
export const SOURCE_KINDS: readonly SourceKind[] = ['postgres', 'mysql', 'sqlite'];

/** Which kind of Steward command met a source error, for its hint. */
export type SourceCommand = 'audit' | 'encrypt' | 'retention' | 'hold' | 'restore' | 'subject';
