/**
 * Access verification — the second audit stage of the source text ("ensure
 * only authorized personnel have access to sensitive data"). Pure: from the
 * privilege graph a dialect read (`Source.readAccess`), this run's inventory of
 * personal columns and the allow-list in steward.yml, it works out who reaches
 * which personal data by which path, and which of those paths nobody authorized.
 * Every finding carries the exact statement that would remove the path; Steward
 * prints it and never runs it.
 */
import { categoryInfo, categoryMatches, type Risk } from '../detection/taxonomy.js';
import type { AccessGrant, AccessPrincipal, AccessSnapshot, TableInfo } from '../sources/types.js';
import { findingId, type DraftFinding } from './collection-review.js';
import type { FindingRule, InventoryItem, Location, Severity, SourceAccess, AccessEdge } from './types.js';

/** One entry of `sources[].access.authorized` in steward.yml. */
export interface AuthorizedEntry {
  /** Role, account (`app@%`, `'app'@'%'`, or `app` for every host), `PUBLIC`, `others`, `group <gid>`. */
  readonly principal: string;
  /** Tables (`customers`, `public.customers`, `*` wildcards); absent: every table. */
  readonly tables?: readonly string[] | undefined;
  /** Data categories (`contact.email`, `contact.*`); absent: every category. */
  readonly categories?: readonly string[] | undefined;
}

export interface AccessConfig {
  readonly authorized: readonly AuthorizedEntry[];
  /** Tables whose row-level security must be on (Postgres). */
  readonly rowLevelSecurity: readonly string[];
}

export interface AccessReview {
  readonly findings: DraftFinding[];
  readonly access: SourceAccess;
}

/** A quoted part of a MySQL account name: `'o''brien'`, `'o\'brien'` (as older configs write it) or `` `a\b` ``. */
const ACCOUNT_PART = String.raw`'(?:[^'\\]|\\.|'')*'|\`(?:[^\`]|\`\`)*\``;
const ACCOUNT = new RegExp(`^(${ACCOUNT_PART})(?:@(${ACCOUNT_PART}))?$`, 's');

function unquoteAccountPart(part: string): string {
  const inner = part.slice(1, -1);
  return part.startsWith('`') ? inner.replace(/``/g, '`') : inner.replace(/''|\\(.)/gs, (_, c: string | undefined) => c ?? "'");
}

/** `'app'@'%'` → `app@%` (`'o''brien'`, `` `a\b` `` too); role names stay as they are. */
export function canonicalPrincipal(name: string): string {
  const m = ACCOUNT.exec(name);
  if (!m) return name;
  return m[2] === undefined ? unquoteAccountPart(m[1]!) : `${unquoteAccountPart(m[1]!)}@${unquoteAccountPart(m[2])}`;
}

/** Whether an allow-list entry names this principal (`app` covers `app` on every host). */
export function principalMatches(entry: string, principal: string): boolean {
  const e = canonicalPrincipal(entry.trim());
  const p = canonicalPrincipal(principal);
  if (e === p) return true;
  // `app` authorizes `app` on every host.
  return !e.includes('@') && p.startsWith(`${e}@`);
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

/** `customers`, `public.customers`, `cust*`: whether a table pattern of steward.yml names this table. */
export function tableMatches(pattern: string, schema: string, table: string): boolean {
  const re = globToRegExp(pattern);
  return re.test(table) || re.test(`${schema}.${table}`);
}

/** Whether `principal` is authorized for this column. */
export function isAuthorized(entries: readonly AuthorizedEntry[], principal: string, item: Pick<InventoryItem, 'schema' | 'table' | 'category'>): boolean {
  return entries.some(
    (e) =>
      principalMatches(e.principal, principal) &&
      (!e.tables || e.tables.some((t) => tableMatches(t, item.schema, item.table))) &&
      (!e.categories || e.categories.some((c) => categoryMatches(c, item.category))),
  );
}

const RISK_SEVERITY: Record<Risk, Severity> = { high: 'high', medium: 'medium', low: 'low' };
const ESCALATE: Record<Severity, Severity> = { info: 'low', low: 'medium', medium: 'high', high: 'critical', critical: 'critical' };
const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
const worst = (a: Severity, b: Severity): Severity => (RANK[a] >= RANK[b] ? a : b);

/** Everyone: PUBLIC on a server, every user of the machine for a file. */
const isEveryone = (p: AccessPrincipal) => p.kind === 'public' || (p.kind === 'os' && p.name === 'others');

function covers(g: AccessGrant, item: Pick<InventoryItem, 'schema' | 'table' | 'column'>): boolean {
  switch (g.scope) {
    case 'server':
      return true;
    case 'schema':
      return g.schema === item.schema;
    case 'table':
      return g.schema === item.schema && g.table === item.table;
    case 'column':
      return g.schema === item.schema && g.table === item.table && g.column === item.column;
  }
}

interface Route {
  /** Roles between the principal and the grantee (the last one is the grantee; empty: a direct grant). */
  readonly via: readonly string[];
  /** The membership statements along the way, in the same order. */
  readonly revokes: readonly (string | null)[];
}

/** Shortest membership route from `start` to every role it holds, breadth first. */
function routes(start: string, memberOf: ReadonlyMap<string, readonly { role: string; revoke: string | null }[]>): Map<string, Route> {
  const out = new Map<string, Route>([[start, { via: [], revokes: [] }]]);
  const queue = [start];
  while (queue.length) {
    const at = queue.shift()!;
    const here = out.get(at)!;
    for (const m of memberOf.get(at) ?? []) {
      if (out.has(m.role)) continue;
      out.set(m.role, { via: [...here.via, m.role], revokes: [...here.revokes, m.revoke] });
      queue.push(m.role);
    }
  }
  return out;
}

function pathText(principal: string, route: Route, grantLabel: string): string {
  const hops = route.via.map((r) => `member of ${r}`);
  return [principal, ...hops, grantLabel].join(' → ');
}

const where = (s: string, t: string) => `${s}.${t}`;

/**
 * Reviews one source's privileges against its inventory and allow-list.
 * `tables` (this run's introspection) lets a table-wide grant be narrowed to
 * the columns the grantee may keep.
 */
export function reviewAccess(
  sourceName: string,
  snapshot: AccessSnapshot,
  inventory: readonly InventoryItem[],
  config: AccessConfig,
  tables: readonly TableInfo[],
  now: Date,
): AccessReview {
  const findings: DraftFinding[] = [];
  const add = (rule: FindingRule, severity: Severity, location: Location, key: string, f: { title: string; message: string; remedy: string }) =>
    findings.push({ id: findingId(rule, location, key), rule, severity, location, ...f });
  const auth = config.authorized;

  for (const p of snapshot.problems) {
    add('access.catalog-unreadable', 'medium', { source: sourceName }, p.what, {
      title: 'Privileges could not be read',
      message: `Steward could not read ${p.what} (${p.message}), so paths through it are missing from this review: access may be wider than reported.`,
      remedy: `Let Steward's user read it. Printed, not run: ${p.fix}`,
    });
  }

  const memberOf = new Map<string, { role: string; revoke: string | null }[]>();
  for (const m of snapshot.memberships) {
    const list = memberOf.get(m.member) ?? [];
    list.push({ role: m.role, revoke: m.revoke });
    memberOf.set(m.member, list);
  }
  const grantsOf = new Map<string, AccessGrant[]>();
  for (const g of snapshot.grants) {
    const list = grantsOf.get(g.grantee) ?? [];
    list.push(g);
    grantsOf.set(g.grantee, list);
  }
  const hasPublic = snapshot.principals.some((p) => p.kind === 'public');
  const usageOf = (roles: Iterable<string>, schema: string, p: AccessPrincipal): boolean => {
    if (!snapshot.schemaUsage || p.superuser) return true;
    const set = new Set(roles);
    if (hasPublic) set.add('PUBLIC');
    return snapshot.schemaUsage.some((g) => g.schema === schema && set.has(g.grantee));
  };

  const edges: AccessEdge[] = [];
  const reaching = new Set<string>();
  const subjects = snapshot.principals.filter((p) => p.login || isEveryone(p));

  for (const p of subjects) {
    if (p.superuser) {
      if (inventory.length === 0) continue;
      reaching.add(p.name);
      const byTable = groupByTable(inventory);
      const allowed = inventory.every((i) => isAuthorized(auth, p.name, i));
      for (const items of byTable.values()) {
        const first = items[0]!;
        edges.push({ principal: p.name, path: [p.name, 'superuser'], grant: 'superuser (reads everything)', schema: first.schema, table: first.table, columns: items.map((i) => ({ column: i.column, category: i.category, authorized: isAuthorized(auth, p.name, i) })) });
      }
      if (!allowed) {
        const demote = snapshot.statements.demote(p.name, 'superuser');
        add('access.privileged-role', 'high', { source: sourceName }, `superuser\u0000${p.name}`, {
          title: 'Superuser reads all personal data',
          message: `${p.name} is a superuser that can log in: it reads all ${inventory.length} personal-data columns of "${sourceName}" whatever the grants say, and steward.yml does not authorize it for all of them.`,
          remedy: `Keep superuser for administration only, use a role with just the grants it needs for everything else, and list the administrator under access.authorized.${printed(demote)}`,
        });
      }
      continue;
    }
    const own = isEveryone(p) ? new Map<string, Route>([[p.name, { via: [], revokes: [] }]]) : routes(p.name, memberOf);
    // Per grant reached: the columns it opens, and whether each is authorized along its route.
    for (const [role, route] of own) {
      for (const g of grantsOf.get(role) ?? []) {
        const cols = inventory.filter((i) => covers(g, i) && (g.scope === 'server' || usageOf(own.keys(), i.schema, p)));
        if (cols.length === 0) continue;
        reaching.add(p.name);
        const chain = [p.name, ...route.via];
        const authorizedCol = (i: InventoryItem) => chain.some((who) => isAuthorized(auth, who, i));
        const byTable = groupByTable(cols);
        const path = pathText(p.name, route, g.label);
        for (const items of byTable.values()) {
          const first = items[0]!;
          edges.push({ principal: p.name, path: [p.name, ...route.via.map((r) => `member of ${r}`), g.label], grant: g.label, schema: first.schema, table: first.table, columns: items.map((i) => ({ column: i.column, category: i.category, authorized: authorizedCol(i) })) });
        }
        const bad = cols.filter((i) => !authorizedCol(i));
        if (bad.length === 0) continue;
        let severity: Severity = 'low';
        for (const i of bad) severity = worst(severity, RISK_SEVERITY[categoryInfo(i.category).risk]);
        if (isEveryone(p)) severity = ESCALATE[severity];
        const location: Location =
          g.scope === 'server' ? { source: sourceName } : g.scope === 'schema' ? { source: sourceName, schema: g.schema! } : { source: sourceName, schema: g.schema!, table: g.table! };
        const listed = listColumns(bad, 8);
        const fix = printable(fixFor(g, route, bad, tables, snapshot));
        const file = g.privilege === 'FILE-READ';
        const who = p.kind === 'public' ? 'PUBLIC (every role)' : p.name === 'others' && p.kind === 'os' ? 'every user of this machine' : p.name;
        add(file ? 'access.file-readable' : 'access.unauthorized-read', severity, location, `${p.name}\u0000${g.label}`, {
          title: file ? 'Database file readable beyond its owner' : isEveryone(p) ? 'Personal data readable by everyone' : 'Personal data readable by a principal nobody authorized',
          message: `${who} can read ${bad.length} personal-data column${bad.length === 1 ? '' : 's'} it is not authorized for (${listed}), by ${path}.`,
          remedy: file
            ? `Make the file private to the account the application runs as.${fix ? ` Printed, not run: ${fix}` : ` ${UNSHOWABLE}`}`
            : `Remove this path, or, if ${p.name} should read this data, authorize it under sources[].access.authorized in steward.yml.${fix ? ` Printed, not run: ${fix}` : fixFor(g, route, bad, tables, snapshot) ? ` ${UNSHOWABLE}` : ' The path cannot be revoked with one statement: review the roles along it.'}`,
        });
      }
    }
  }

  // BYPASSRLS, password expiry: login roles that reach personal data.
  const rlsTables = snapshot.tableSecurity.filter((t) => t.rowSecurity && inventory.some((i) => i.schema === t.schema && i.table === t.table));
  for (const p of subjects) {
    if (!p.login || !reaching.has(p.name)) continue;
    if (p.bypassRls && !p.superuser && !inventory.every((i) => isAuthorized(auth, p.name, i))) {
      const demote = snapshot.statements.demote(p.name, 'bypassrls');
      add('access.privileged-role', rlsTables.length ? 'medium' : 'low', { source: sourceName }, `bypassrls\u0000${p.name}`, {
        title: 'Role bypasses row-level security',
        message: `${p.name} has BYPASSRLS: row-level security policies do not limit it${rlsTables.length ? ` on ${rlsTables.map((t) => where(t.schema, t.table)).join(', ')}` : ' (no table with personal data uses row security yet)'}.`,
        remedy: `Give BYPASSRLS only to maintenance roles, and authorize them in steward.yml.${printed(demote)}`,
      });
    }
    if (p.passwordExpires === null) {
      const until = new Date(now.getTime() + 365 * 86_400_000).toISOString().slice(0, 10);
      const stmt = snapshot.statements.expirePassword(p.name, until);
      add('access.password-no-expiry', 'low', { source: sourceName }, p.name, {
        title: 'Login without password expiry',
        message: `${p.name} can log in and read personal data, and its password never expires.`,
        remedy: `Rotate the credentials of roles that read personal data on a schedule (or use certificate/IAM authentication).${printed(stmt)}`,
      });
    }
  }

  // Row-level security declared (policies or steward.yml) but not switched on.
  for (const t of snapshot.tableSecurity) {
    const personal = inventory.some((i) => i.schema === t.schema && i.table === t.table);
    const declared = config.rowLevelSecurity.some((pattern) => tableMatches(pattern, t.schema, t.table));
    if (t.rowSecurity || (!declared && !(t.policies > 0 && personal))) continue;
    add('access.rls-disabled', personal ? 'high' : 'medium', { source: sourceName, schema: t.schema, table: t.table }, '', {
      title: 'Row-level security is off',
      message: `${where(t.schema, t.table)}${t.policies ? ` has ${t.policies} row-security polic${t.policies === 1 ? 'y' : 'ies'}` : ' is declared to use row-level security in steward.yml'}, but row-level security is not enabled on it, so every role with SELECT reads every row.`,
      remedy: `Enable it (and FORCE it if the owner must be limited too). Printed, not run: ${t.enable}`,
    });
  }

  // Default privileges that will hand future tables to someone not authorized for everything.
  for (const d of snapshot.defaultPrivileges) {
    const everything = auth.some((e) => principalMatches(e.principal, d.grantee) && !e.tables && !e.categories);
    if (everything) continue;
    add('access.default-privileges', d.grantee === 'PUBLIC' ? 'high' : 'medium', d.schema ? { source: sourceName, schema: d.schema } : { source: sourceName }, `${d.owner}\u0000${d.grantee}`, {
      title: 'Future tables will be readable automatically',
      message: `Default privileges give ${d.grantee === 'PUBLIC' ? 'PUBLIC (every role)' : d.grantee} SELECT on every table ${d.owner} creates${d.schema ? ` in schema ${d.schema}` : ''}: a new table of personal data would be readable before anyone reviews it.`,
      remedy: `Grant on new tables deliberately. ${printable(d.revoke) ? `Printed, not run: ${d.revoke}` : UNSHOWABLE}`,
    });
  }

  // Accounts anyone could log in as (MySQL/MariaDB).
  for (const p of snapshot.principals) {
    if (!p.login || !p.auth) continue;
    const user = canonicalPrincipal(p.name).split('@')[0];
    const weak = p.auth.plugin === 'mysql_old_password';
    if (!p.auth.emptyPassword && !weak && user !== '') continue;
    const fix = snapshot.statements.secureAccount(p.name);
    const why = user === '' ? 'is anonymous (any user name logs in)' : p.auth.emptyPassword ? 'has no password' : `uses the broken ${p.auth.plugin} authentication`;
    add('access.weak-account', p.auth.emptyPassword && p.auth.anyHost ? 'critical' : 'high', { source: sourceName }, p.name, {
      title: 'Account anyone can log in as',
      message: `${p.name} ${why}${p.auth.anyHost ? ', from any host' : ''}.`,
      remedy: `Give it a strong password with a modern plugin, or drop it.${printed(fix)}`,
    });
  }

  for (const f of snapshot.files) {
    if (f.role !== 'directory' || !(f.mode & 0o002)) continue;
    add('access.directory-writable', 'medium', { source: sourceName }, f.path, {
      title: 'Database directory writable by everyone',
      message: `The directory holding the database (${f.path}, mode ${f.mode.toString(8).padStart(4, '0')}) is writable by every user, who can replace or delete the database file.`,
      remedy: printed(snapshot.statements.chmod(f.path, 0o700)).trim(),
    });
  }

  const principals = snapshot.principals
    .filter((p) => reaching.has(p.name))
    .map((p) => ({
      name: p.name,
      kind: p.kind,
      login: p.login,
      superuser: p.superuser,
      authorized: edges.filter((e) => e.principal === p.name).every((e) => e.columns.every((c) => c.authorized)),
    }));
  return {
    findings,
    access: {
      principals,
      edges,
      ...(snapshot.requireSecureTransport !== undefined ? { requireSecureTransport: snapshot.requireSecureTransport } : {}),
      problems: snapshot.problems.map((p) => p.what),
    },
  };
}

/** `public.customers: email [contact.email], phone [contact.phone]; …`, at most `max` columns, then how many more. */
function listColumns(items: readonly InventoryItem[], max: number): string {
  const shown = items.slice(0, max);
  const text = [...groupByTable(shown).values()]
    .map((cols) => `${where(cols[0]!.schema, cols[0]!.table)}: ${cols.map((i) => `${i.column} [${i.category}]`).join(', ')}`)
    .join('; ');
  return items.length > max ? `${text}; and ${items.length - max} more` : text;
}

function groupByTable(items: readonly InventoryItem[]): Map<string, InventoryItem[]> {
  const out = new Map<string, InventoryItem[]>();
  for (const i of items) {
    const k = `${i.schema}\u0000${i.table}`;
    const list = out.get(k) ?? [];
    list.push(i);
    out.set(k, list);
  }
  return out;
}

/**
 * The narrowest statement that cuts this path for every unauthorized principal
 * behind it: the grant itself (the grantee is on the path, so it is not
 * authorized either), narrowed to the columns it may keep when the grant is
 * table-wide; for a grant that cannot be revoked (a built-in role), the
 * membership that leads to it.
 */
function fixFor(g: AccessGrant, route: Route, bad: readonly InventoryItem[], tables: readonly TableInfo[], snapshot: AccessSnapshot): string | null {
  if (g.revoke === null) {
    for (let i = route.revokes.length - 1; i >= 0; i--) if (route.revokes[i]) return route.revokes[i]!;
    return null;
  }
  if (g.privilege === 'SELECT' && g.scope === 'table') {
    const info = tables.find((t) => t.schema === g.schema && t.name === g.table);
    if (info) {
      const badCols = new Set(bad.map((b) => b.column));
      const keep = info.columns.map((c) => c.name).filter((c) => !badCols.has(c));
      if (keep.length > 0) {
        const narrowed = snapshot.statements.narrowTable(g, keep);
        if (narrowed) return narrowed;
      }
    }
  }
  return g.revoke;
}

// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSHOWABLE = 'The statement that fixes it cannot be shown: a name in it holds control characters, which a report would have to escape, and an escaped name is another role in SQL; write it by hand, selecting the name from the catalog.';

/** The statement when a report can show it as it must be typed (no control characters); otherwise null. */
function printable(statement: string | null): string | null {
  return statement !== null && !UNPRINTABLE.test(statement) ? statement : null;
}

/** ` Printed, not run: <statement>`, or why it cannot be shown (a name with control characters), or nothing. */
function printed(statement: string | null): string {
  if (statement === null) return '';
  return printable(statement) ? ` Printed, not run: ${statement}` : ` ${UNSHOWABLE}`;
}
