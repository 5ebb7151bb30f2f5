/**
 * Who can read what: the privilege model a dialect reads from its catalog
 * (`src/sources/<dialect>/<dialect>-access.ts`) for the access-verification
 * stage. Plain records, so that the analysis in `src/audit/access.ts` is pure
 * and never asks which database it is looking at.
 *
 * The model is a graph: principals (roles, accounts, PUBLIC, file-system users)
 * are members of other principals, and grants give a principal SELECT on the
 * whole server, a schema, a table or a column. Every edge carries the exact SQL
 * (or shell command) that would remove it, written by the dialect, printed by
 * Steward and never run.
 */

/** A role, an account, `PUBLIC`, or (SQLite) a file-system class of users. */
export interface AccessPrincipal {
  /** As the database names it: `app_ro`, `'app'@'%'`, `PUBLIC`, `others`. */
  readonly name: string;
  readonly kind: 'role' | 'account' | 'public' | 'os';
  /** Can open a session (Postgres `rolcanlogin`; every MySQL account; PUBLIC and roles cannot). */
  readonly login: boolean;
  /** Reads everything regardless of grants (Postgres superuser). */
  readonly superuser: boolean;
  /** Postgres `BYPASSRLS`: row-level security does not apply to it. */
  readonly bypassRls: boolean;
  /** Password expiry (Postgres `rolvaliduntil`): ISO instant, `null` = never expires, `undefined` = not applicable. */
  readonly passwordExpires?: string | null;
  /** MySQL account authentication, when the catalog shows it. */
  readonly auth?: {
    readonly plugin: string;
    readonly emptyPassword: boolean;
    /** Host `%` (or another wildcard reaching every host). */
    readonly anyHost: boolean;
  };
}

/** `member` holds the privileges of `role` (directly, or by `SET ROLE`). */
export interface AccessMembership {
  readonly member: string;
  readonly role: string;
  /** SQL that ends the membership; null when it cannot be revoked. */
  readonly revoke: string | null;
}

/** A read privilege, at one level. */
export interface AccessGrant {
  readonly grantee: string;
  /** `owner`: owns the table (Postgres); it can always grant itself access back. */
  readonly privilege: 'SELECT' | 'OWNER' | 'FILE-READ';
  readonly scope: 'server' | 'schema' | 'table' | 'column';
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  /** SQL that removes this grant; null when it cannot be revoked (a built-in role). */
  readonly revoke: string | null;
  /** How to read the grant in a path: "SELECT on public.customers", "owns public.customers". */
  readonly label: string;
}

/** Row-level security of one table (Postgres). */
export interface AccessTableSecurity {
  readonly schema: string;
  readonly table: string;
  readonly rowSecurity: boolean;
  readonly forceRowSecurity: boolean;
  /** Policies defined on the table (they do nothing while row security is off). */
  readonly policies: number;
  readonly enable: string;
}

/** A default privilege that will grant SELECT on tables created in the future. */
export interface AccessDefaultPrivilege {
  /** The role whose future tables it applies to. */
  readonly owner: string;
  /** null: every schema. */
  readonly schema: string | null;
  readonly grantee: string;
  readonly revoke: string;
}

/** A SQLite database file or a file beside it. */
export interface AccessFile {
  readonly path: string;
  readonly role: 'database' | 'wal' | 'shm' | 'journal' | 'directory';
  /** Permission bits, e.g. 0o644. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** Something the dialect could not read (a catalog without privilege); the stage reports it. */
export interface AccessProblem {
  /** What could not be read: `pg_catalog.pg_auth_members`, `mysql.user`. */
  readonly what: string;
  readonly message: string;
  /** The statement that gives Steward's user the privilege it lacks. */
  readonly fix: string;
}

/** Dialect-written SQL the analysis needs beyond single edges. */
export interface AccessStatements {
  /** Replace a table-level SELECT by column-level SELECT on `keep` (null when the dialect has no column privileges). */
  narrowTable(grant: AccessGrant, keep: readonly string[]): string | null;
  /** Make an account's password expire / be changed (Postgres VALID UNTIL, MySQL ALTER USER). */
  expirePassword(principal: string, until: string): string | null;
  /** Give an account a password, or restrict its host. */
  secureAccount(principal: string): string | null;
  /** Take superuser or BYPASSRLS away from a role (null where the dialect has no such attribute). */
  demote(principal: string, attribute: 'superuser' | 'bypassrls'): string | null;
  /** Make a file private to its owner. */
  chmod(path: string, mode: number): string;
}

/** Everything the access stage needs from one source. */
export interface AccessSnapshot {
  readonly principals: readonly AccessPrincipal[];
  readonly memberships: readonly AccessMembership[];
  readonly grants: readonly AccessGrant[];
  /** Schema USAGE (Postgres): without it a table grant is useless. Undefined: the dialect has no such gate. */
  readonly schemaUsage?: readonly AccessGrant[];
  readonly tableSecurity: readonly AccessTableSecurity[];
  readonly defaultPrivileges: readonly AccessDefaultPrivilege[];
  readonly files: readonly AccessFile[];
  /** Server settings bearing on access; undefined when not applicable or unreadable. */
  readonly requireSecureTransport?: boolean;
  readonly problems: readonly AccessProblem[];
  readonly statements: AccessStatements;
}
