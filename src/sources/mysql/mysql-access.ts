import { sql, type Kysely } from 'kysely';
import { classifyDriverError } from '../errors.js';
import type { SourceAccessReader } from '../source-base.js';
import type {
  AccessGrant,
  AccessMembership,
  AccessPrincipal,
  AccessProblem,
  AccessSnapshot,
  AccessStatements,
  IntrospectOptions,
} from '../types.js';

/**
 * A MySQL identifier: backticks, a backtick inside doubled. Read the same under every
 * sql_mode (backslashes mean nothing between backticks; ANSI_QUOTES changes only `"`).
 */
export const mysqlIdent = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/**
 * One part of an account name (`user`, `host`, a role) as a statement Steward prints must
 * say it, read the same under every sql_mode: `'o''brien'` (a quote doubled, never
 * backslash-escaped, which NO_BACKSLASH_ESCAPES reads as two characters); a part holding
 * a backslash, which the two modes read differently between single quotes, is written as
 * an identifier (`` `a\b` ``), which MySQL and MariaDB accept for account names too.
 */
export function mysqlAccountPart(s: string): string {
  return s.includes('\\') ? mysqlIdent(s) : `'${s.replace(/'/g, "''")}'`;
}

const quote = mysqlAccountPart;
/** `'user'@'host'`, the way MySQL names an account; roles have no host. */
export const mysqlAccount = (user: string, host: string) => (host === '' ? quote(user) : `${quote(user)}@${quote(host)}`);

/** Plugins that store a password hash; with an empty hash, anyone may log in without one. */
const PASSWORD_PLUGINS = new Set(['', 'mysql_native_password', 'caching_sha2_password', 'sha256_password', 'mysql_old_password']);

export const MYSQL_ACCESS_STATEMENTS: AccessStatements = {
  narrowTable: (g, keep) =>
    g.schema && g.table
      ? `REVOKE SELECT ON ${mysqlIdent(g.schema)}.${mysqlIdent(g.table)} FROM ${g.grantee};${keep.length ? ` GRANT SELECT (${keep.map(mysqlIdent).join(', ')}) ON ${mysqlIdent(g.schema)}.${mysqlIdent(g.table)} TO ${g.grantee};` : ''}`
      : null,
  expirePassword: (p) => `ALTER USER ${p} PASSWORD EXPIRE INTERVAL 365 DAY;`,
  secureAccount: (p) => `ALTER USER ${p} IDENTIFIED VIA ed25519 USING PASSWORD('<a new strong password>'); -- MySQL: IDENTIFIED WITH caching_sha2_password BY '…'; or DROP USER ${p};`,
  demote: () => null,
  chmod: (path, mode) => `chmod ${mode.toString(8)} '${path.replace(/'/g, "'\\''")}'`,
};

interface UserRow {
  User: string;
  Host: string;
  plugin?: string | null;
  authentication_string?: string | null;
  Password?: string | null;
  is_role?: string | null;
  account_locked?: string | null;
  Select_priv?: string | null;
}

/** Whether a MySQL `LIKE`-style database pattern from `mysql.db` (`shop\_%`) covers a name. */
export function dbPatternMatches(pattern: string, name: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += escapeRe(ch);
  }
  return new RegExp(`^${re}$`, 's').test(name);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const yes = (v: unknown) => String(v ?? '').toUpperCase() === 'Y';
const hasSelect = (set: unknown) => String(set ?? '').split(',').some((p) => p.trim().toLowerCase() === 'select');

/**
 * Reads accounts, roles and the four privilege levels (global, database,
 * table, column) from the `mysql` system database, and whether the server
 * requires TLS. Reading `mysql.*` needs SELECT on it; without it the stage
 * reports what is missing and the GRANT that fixes it.
 */
export class MysqlAccessReader implements SourceAccessReader {
  readonly #db: Kysely<any>;

  constructor(db: Kysely<any>) {
    this.#db = db;
  }

  async read(options: IntrospectOptions): Promise<AccessSnapshot> {
    const problems: AccessProblem[] = [];
    const db = this.#db;
    const attempt = async <T>(what: string, fn: () => Promise<T[]>, optional = false): Promise<T[]> => {
      try {
        return await fn();
      } catch (e) {
        const code = classifyDriverError(e, 'mysql').code;
        if (optional && code === 'SOURCE_NOT_FOUND') return [];
        if (code !== 'SOURCE_PERMISSION') throw e;
        problems.push({ what, message: `permission denied reading ${what}`, fix: `GRANT SELECT ON ${what} TO CURRENT_USER; -- run as an administrator, naming Steward's account` });
        return [];
      }
    };
    const current = (await sql<{ db: string | null }>`select database() as db`.execute(db)).rows[0]?.db ?? null;
    const schemas = options.schemas?.length ? options.schemas : current ? [current] : null;
    const inScope = (schema: string) => schemas === null || schemas.includes(schema);

    const users = await attempt('mysql.user', async () => (await sql<UserRow>`select * from mysql.user`.execute(db)).rows);
    const dbs = await attempt('mysql.db', async () => (await sql<{ User: string; Host: string; Db: string; Select_priv: string }>`select User, Host, Db, Select_priv from mysql.db`.execute(db)).rows);
    const tables = await attempt('mysql.tables_priv', async () =>
      (await sql<{ User: string; Host: string; Db: string; Table_name: string; Table_priv: string }>`select User, Host, Db, Table_name, Table_priv from mysql.tables_priv`.execute(db)).rows,
    );
    const columns = await attempt('mysql.columns_priv', async () =>
      (await sql<{ User: string; Host: string; Db: string; Table_name: string; Column_name: string; Column_priv: string }>`select User, Host, Db, Table_name, Column_name, Column_priv from mysql.columns_priv`.execute(db)).rows,
    );
    // MariaDB keeps role grants in roles_mapping, MySQL 8 in role_edges; each lacks the other.
    let mariaRoleTable = true;
    const mariaRoles = await attempt('mysql.roles_mapping', async () => {
      try {
        return (await sql<{ User: string; Host: string; Role: string }>`select User, Host, Role from mysql.roles_mapping`.execute(db)).rows;
      } catch (e) {
        if (classifyDriverError(e, 'mysql').code !== 'SOURCE_NOT_FOUND') throw e;
        mariaRoleTable = false;
        return [];
      }
    });
    const mysqlRoles = mariaRoleTable
      ? []
      : await attempt(
          'mysql.role_edges',
          async () => (await sql<{ FROM_USER: string; FROM_HOST: string; TO_USER: string; TO_HOST: string }>`select FROM_USER, FROM_HOST, TO_USER, TO_HOST from mysql.role_edges`.execute(db)).rows,
          true,
        );
    let requireSecureTransport: boolean | undefined;
    try {
      const r = (await sql<{ v: unknown }>`select @@global.require_secure_transport as v`.execute(db)).rows[0];
      requireSecureTransport = r ? Number(r.v) === 1 || String(r.v).toUpperCase() === 'ON' : undefined;
    } catch {
      requireSecureTransport = undefined; // MariaDB before 10.5 has no such setting
    }

    const name = (u: { User: string; Host: string }) => mysqlAccount(u.User, u.Host);
    const principals: AccessPrincipal[] = users.map((u) => {
      const role = yes(u.is_role);
      const plugin = String(u.plugin ?? '');
      const hash = String(u.authentication_string ?? '') || String(u.Password ?? '');
      return {
        name: role ? quote(u.User) : name(u),
        kind: role ? 'role' : 'account',
        login: !role && !yes(u.account_locked),
        superuser: false,
        bypassRls: false,
        ...(role ? {} : { auth: { plugin, emptyPassword: PASSWORD_PLUGINS.has(plugin) && hash === '', anyHost: u.Host === '%' || u.Host === '' } }),
      };
    });
    const grants: AccessGrant[] = [];
    const grantee = (u: { User: string; Host: string }) => (users.some((x) => x.User === u.User && yes(x.is_role)) && u.Host === '' ? quote(u.User) : name(u));
    for (const u of users) {
      if (!yes(u.Select_priv)) continue;
      const g = yes(u.is_role) ? quote(u.User) : name(u);
      grants.push({ grantee: g, privilege: 'SELECT', scope: 'server', revoke: `REVOKE SELECT ON *.* FROM ${g};`, label: 'SELECT on *.*' });
    }
    const knownSchemas = new Set<string>();
    for (const t of tables) knownSchemas.add(t.Db);
    for (const d of dbs) {
      if (!yes(d.Select_priv)) continue;
      const g = grantee(d);
      const pattern = d.Db;
      const literal = !/[%_]/.test(pattern.replace(/\\[%_]/g, ''));
      const shown = literal ? pattern.replace(/\\([%_])/g, '$1') : pattern;
      // A pattern grant covers every database it matches: the analysis asks per schema.
      for (const schema of schemas ?? [shown]) {
        if (!dbPatternMatches(pattern, schema)) continue;
        grants.push({
          grantee: g,
          privilege: 'SELECT',
          scope: 'schema',
          schema,
          revoke: `REVOKE SELECT ON ${mysqlIdent(literal ? shown : pattern)}.* FROM ${g};`,
          label: `SELECT on ${shown}.*`,
        });
      }
    }
    for (const t of tables) {
      if (!inScope(t.Db) || !hasSelect(t.Table_priv)) continue;
      const g = grantee(t);
      grants.push({
        grantee: g,
        privilege: 'SELECT',
        scope: 'table',
        schema: t.Db,
        table: t.Table_name,
        revoke: `REVOKE SELECT ON ${mysqlIdent(t.Db)}.${mysqlIdent(t.Table_name)} FROM ${g};`,
        label: `SELECT on ${t.Db}.${t.Table_name}`,
      });
    }
    for (const c of columns) {
      if (!inScope(c.Db) || !hasSelect(c.Column_priv)) continue;
      const g = grantee(c);
      grants.push({
        grantee: g,
        privilege: 'SELECT',
        scope: 'column',
        schema: c.Db,
        table: c.Table_name,
        column: c.Column_name,
        revoke: `REVOKE SELECT (${mysqlIdent(c.Column_name)}) ON ${mysqlIdent(c.Db)}.${mysqlIdent(c.Table_name)} FROM ${g};`,
        label: `SELECT on ${c.Db}.${c.Table_name}.${c.Column_name}`,
      });
    }
    const memberships: AccessMembership[] = [
      ...mariaRoles.map((m) => ({ member: m.Host === '' ? quote(m.User) : mysqlAccount(m.User, m.Host), role: quote(m.Role), revoke: `REVOKE ${quote(m.Role)} FROM ${m.Host === '' ? quote(m.User) : mysqlAccount(m.User, m.Host)};` })),
      ...mysqlRoles.map((m) => ({ member: mysqlAccount(m.TO_USER, m.TO_HOST), role: mysqlAccount(m.FROM_USER, m.FROM_HOST), revoke: `REVOKE ${mysqlAccount(m.FROM_USER, m.FROM_HOST)} FROM ${mysqlAccount(m.TO_USER, m.TO_HOST)};` })),
    ];
    return {
      principals,
      memberships,
      grants,
      tableSecurity: [],
      defaultPrivileges: [],
      files: [],
      ...(requireSecureTransport !== undefined ? { requireSecureTransport } : {}),
      problems,
      statements: MYSQL_ACCESS_STATEMENTS,
    };
  }
}
