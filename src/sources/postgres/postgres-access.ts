import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SourceAccessReader } from '../source-base.js';
import type {
  AccessDefaultPrivilege,
  AccessGrant,
  AccessMembership,
  AccessPrincipal,
  AccessProblem,
  AccessSnapshot,
  AccessStatements,
  AccessTableSecurity,
  IntrospectOptions,
} from '../types.js';
import { classifyDriverError } from '../errors.js';

/** `"name"` with embedded quotes doubled; PUBLIC is a keyword, not an identifier. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** A Postgres identifier as SQL, for statements Steward runs (and `::regclass` text). */
export function pgIdent(name: string): string {
  return name === 'PUBLIC' ? 'PUBLIC' : `"${name.replace(/"/g, '""')}"`;
}

/**
 * A Postgres identifier for a statement Steward prints (a REVOKE in a remedy). A name
 * holding characters a terminal would act on (control characters, bidi overrides) is
 * written in the Unicode-escape form `U&"a\000Ab"`, which psql reads as exactly that
 * name and a terminal shows as is.
 */
export function pgIdentPrintable(name: string): string {
  if (name === 'PUBLIC' || !UNPRINTABLE.test(name)) return pgIdent(name);
  let out = '';
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '""';
    else if (UNPRINTABLE.test(ch)) out += cp > 0xffff ? `\\+${cp.toString(16).padStart(6, '0')}` : `\\${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `U&"${out}"`;
}

const table = (schema: string, name: string) => `${pgIdentPrintable(schema)}.${pgIdentPrintable(name)}`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Built-in roles that read everything (PG 14+); membership in them is a path to every table. */
const READ_ALL_ROLES = ['pg_read_all_data'];

export const POSTGRES_ACCESS_STATEMENTS: AccessStatements = {
  narrowTable: (g, keep) =>
    g.schema && g.table
      ? `REVOKE SELECT ON ${table(g.schema, g.table)} FROM ${pgIdentPrintable(g.grantee)};${keep.length ? ` GRANT SELECT (${keep.map(pgIdentPrintable).join(', ')}) ON ${table(g.schema, g.table)} TO ${pgIdentPrintable(g.grantee)};` : ''}`
      : null,
  expirePassword: (p, until) => `ALTER ROLE ${pgIdentPrintable(p)} VALID UNTIL ${literal(until)};`,
  secureAccount: () => null,
  demote: (p, a) => `ALTER ROLE ${pgIdentPrintable(p)} ${a === 'superuser' ? 'NOSUPERUSER' : 'NOBYPASSRLS'};`,
  chmod: (path, mode) => `chmod ${mode.toString(8)} ${literal(path)}`,
};

function filter(schemas: readonly string[] | undefined, column: RawBuilder<unknown>): RawBuilder<unknown> {
  const wanted = schemas && schemas.length > 0 ? sql`and ${column} in (${sql.join(schemas.map((s) => sql`${s}`))})` : sql``;
  return sql`${column} not in ('pg_catalog', 'information_schema') and ${column} not like 'pg\\_toast%' and ${column} not like 'pg\\_temp\\_%' ${wanted}`;
}

/**
 * Reads roles, memberships, table/column/schema ACLs, row-level security and
 * default privileges from `pg_catalog`. Each catalog is read by its own query,
 * so that one the connection may not read (an administrator revoked SELECT on
 * it) costs only that part of the picture, reported as a problem.
 */
export class PostgresAccessReader implements SourceAccessReader {
  readonly #db: Kysely<any>;

  constructor(db: Kysely<any>) {
    this.#db = db;
  }

  async read(options: IntrospectOptions): Promise<AccessSnapshot> {
    const problems: AccessProblem[] = [];
    const attempt = async <T>(what: string, fn: () => Promise<T[]>): Promise<T[]> => {
      try {
        return await fn();
      } catch (e) {
        if (classifyDriverError(e, 'postgres').code !== 'SOURCE_PERMISSION') throw e;
        problems.push({
          what,
          message: `permission denied reading ${what}`,
          fix: `GRANT SELECT ON ${what} TO CURRENT_USER; -- run as its owner (a superuser), naming Steward's role`,
        });
        return [];
      }
    };
    const db = this.#db;
    const roles = await attempt('pg_catalog.pg_roles', async () =>
      (
        await sql<{ name: string; superuser: boolean; bypassrls: boolean; login: boolean; validuntil: Date | string | null }>`
          select rolname as name, rolsuper as superuser, rolbypassrls as bypassrls, rolcanlogin as login, rolvaliduntil as validuntil
          from pg_catalog.pg_roles order by rolname`.execute(db)
      ).rows,
    );
    const members = await attempt('pg_catalog.pg_auth_members', async () =>
      (
        await sql<{ role: string; member: string }>`
          select r.rolname as role, m.rolname as member
          from pg_catalog.pg_auth_members am
          join pg_catalog.pg_roles r on r.oid = am.roleid
          join pg_catalog.pg_roles m on m.oid = am.member
          order by 1, 2`.execute(db)
      ).rows,
    );
    const tables = await attempt('pg_catalog.pg_class', async () =>
      (
        await sql<{ schema: string; name: string; owner: string; grantee: string | null; grantee_oid: string | null; rowsecurity: boolean; forcerowsecurity: boolean; policies: number | string }>`
          select n.nspname as schema, c.relname as name, o.rolname as owner, g.rolname as grantee, acl.grantee::text as grantee_oid,
                 c.relrowsecurity as rowsecurity, c.relforcerowsecurity as forcerowsecurity,
                 (select count(*) from pg_catalog.pg_policy p where p.polrelid = c.oid) as policies
          from pg_catalog.pg_class c
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          join pg_catalog.pg_roles o on o.oid = c.relowner
          left join lateral (
            select a.grantee from aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a where a.privilege_type = 'SELECT'
          ) acl on true
          left join pg_catalog.pg_roles g on g.oid = acl.grantee
          where c.relkind in ('r', 'p', 'v', 'm', 'f') and ${filter(options.schemas, sql`n.nspname`)}
          order by 1, 2, 4`.execute(db)
      ).rows,
    );
    const columns = await attempt('pg_catalog.pg_attribute', async () =>
      (
        await sql<{ schema: string; name: string; column: string; grantee: string | null }>`
          select n.nspname as schema, c.relname as name, att.attname as column, g.rolname as grantee
          from pg_catalog.pg_attribute att
          join pg_catalog.pg_class c on c.oid = att.attrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          cross join lateral aclexplode(att.attacl) a
          left join pg_catalog.pg_roles g on g.oid = a.grantee
          where att.attacl is not null and att.attnum > 0 and not att.attisdropped and a.privilege_type = 'SELECT'
            and ${filter(options.schemas, sql`n.nspname`)}
          order by 1, 2, 3, 4`.execute(db)
      ).rows,
    );
    const usage = await attempt('pg_catalog.pg_namespace', async () =>
      (
        await sql<{ schema: string; owner: string; grantee: string | null }>`
          select n.nspname as schema, o.rolname as owner, g.rolname as grantee
          from pg_catalog.pg_namespace n
          join pg_catalog.pg_roles o on o.oid = n.nspowner
          cross join lateral aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
          left join pg_catalog.pg_roles g on g.oid = a.grantee
          where a.privilege_type = 'USAGE' and ${filter(options.schemas, sql`n.nspname`)}
          order by 1, 3`.execute(db)
      ).rows,
    );
    const defaults = await attempt('pg_catalog.pg_default_acl', async () =>
      (
        await sql<{ owner: string; schema: string | null; grantee: string | null }>`
          select r.rolname as owner, n.nspname as schema, g.rolname as grantee
          from pg_catalog.pg_default_acl d
          join pg_catalog.pg_roles r on r.oid = d.defaclrole
          left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
          cross join lateral aclexplode(d.defaclacl) a
          left join pg_catalog.pg_roles g on g.oid = a.grantee
          where d.defaclobjtype = 'r' and a.privilege_type = 'SELECT'
          order by 1, 2, 3`.execute(db)
      ).rows,
    );

    const principals: AccessPrincipal[] = [
      { name: 'PUBLIC', kind: 'public', login: false, superuser: false, bypassRls: false },
      ...roles.map(
        (r): AccessPrincipal => ({
          name: r.name,
          kind: 'role',
          login: r.login,
          superuser: r.superuser,
          bypassRls: r.bypassrls,
          ...(r.login ? { passwordExpires: r.validuntil === null ? null : toIso(r.validuntil) } : {}),
        }),
      ),
    ];
    // Every role is a member of PUBLIC; the analysis adds that edge itself.
    const memberships: AccessMembership[] = members.map((m) => ({
      member: m.member,
      role: m.role,
      revoke: `REVOKE ${pgIdentPrintable(m.role)} FROM ${pgIdentPrintable(m.member)};`,
    }));
    const grants: AccessGrant[] = [];
    const security: AccessTableSecurity[] = [];
    const seen = new Set<string>();
    for (const t of tables) {
      const key = `${t.schema}\u0000${t.name}`;
      if (!seen.has(key)) {
        seen.add(key);
        grants.push({
          grantee: t.owner,
          privilege: 'OWNER',
          scope: 'table',
          schema: t.schema,
          table: t.name,
          revoke: `ALTER TABLE ${table(t.schema, t.name)} OWNER TO <an authorized role>;`,
          label: `owns ${t.schema}.${t.name}`,
        });
        security.push({
          schema: t.schema,
          table: t.name,
          rowSecurity: t.rowsecurity,
          forceRowSecurity: t.forcerowsecurity,
          policies: Number(t.policies),
          enable: `ALTER TABLE ${table(t.schema, t.name)} ENABLE ROW LEVEL SECURITY;`,
        });
      }
      if (t.grantee_oid === null) continue; // no SELECT entry at all
      const grantee = t.grantee_oid === '0' ? 'PUBLIC' : t.grantee;
      if (grantee === null) continue; // a dropped role's dangling entry
      if (grantee === t.owner) continue; // the owner's own ACL entry: already an OWNER edge
      grants.push({
        grantee,
        privilege: 'SELECT',
        scope: 'table',
        schema: t.schema,
        table: t.name,
        revoke: `REVOKE SELECT ON ${table(t.schema, t.name)} FROM ${pgIdentPrintable(grantee)};`,
        label: `SELECT on ${t.schema}.${t.name}`,
      });
    }
    for (const c of columns) {
      const grantee = c.grantee ?? 'PUBLIC';
      grants.push({
        grantee,
        privilege: 'SELECT',
        scope: 'column',
        schema: c.schema,
        table: c.name,
        column: c.column,
        revoke: `REVOKE SELECT (${pgIdentPrintable(c.column)}) ON ${table(c.schema, c.name)} FROM ${pgIdentPrintable(grantee)};`,
        label: `SELECT on ${c.schema}.${c.name}.${c.column}`,
      });
    }
    for (const r of READ_ALL_ROLES) {
      if (roles.some((x) => x.name === r)) {
        grants.push({ grantee: r, privilege: 'SELECT', scope: 'server', revoke: null, label: 'reads all data (built-in role)' });
      }
    }
    const schemaUsage: AccessGrant[] = [];
    for (const u of usage) {
      const grantee = u.grantee ?? 'PUBLIC';
      schemaUsage.push({
        grantee,
        privilege: 'SELECT',
        scope: 'schema',
        schema: u.schema,
        revoke: `REVOKE USAGE ON SCHEMA ${pgIdentPrintable(u.schema)} FROM ${pgIdentPrintable(grantee)};`,
        label: `USAGE on schema ${u.schema}`,
      });
      if (!schemaUsage.some((g) => g.schema === u.schema && g.grantee === u.owner)) {
        schemaUsage.push({ grantee: u.owner, privilege: 'OWNER', scope: 'schema', schema: u.schema, revoke: null, label: `owns schema ${u.schema}` });
      }
    }
    const defaultPrivileges: AccessDefaultPrivilege[] = defaults.map((d) => {
      const grantee = d.grantee ?? 'PUBLIC';
      return {
        owner: d.owner,
        schema: d.schema,
        grantee,
        revoke: `ALTER DEFAULT PRIVILEGES FOR ROLE ${pgIdentPrintable(d.owner)}${d.schema ? ` IN SCHEMA ${pgIdentPrintable(d.schema)}` : ''} REVOKE SELECT ON TABLES FROM ${pgIdentPrintable(grantee)};`,
      };
    });
    // The catalog of schemas could not be read: no USAGE gate rather than "nobody may use any schema".
    const usageKnown = !problems.some((p) => p.what === 'pg_catalog.pg_namespace');
    return {
      principals,
      memberships,
      grants,
      ...(usageKnown ? { schemaUsage } : {}),
      tableSecurity: security,
      defaultPrivileges,
      files: [],
      problems,
      statements: POSTGRES_ACCESS_STATEMENTS,
    };
  }
}

function toIso(v: Date | string): string | null {
  const d = v instanceof Date ? v : new Date(v);
  // 'infinity' reads as an invalid date: it never expires.
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
