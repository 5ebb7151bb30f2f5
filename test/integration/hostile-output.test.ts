/**
 * Hostile names in every output. Tables, columns, roles, hold reasons, an owner and a
 * legal basis carry escape sequences (`\x1b[2J` clears the screen, OSC 8 forges a
 * link), newlines followed by forged text, bidi overrides, pipes, backticks, Markdown
 * and `<script>`; a column is named like an email address. The audit is written in
 * every report format and every command prints its human output (in process, and the
 * built CLI for the terminal report): no output holds a raw control character, no
 * line starts with the forged text, no markup comes from a name, Markdown tables keep
 * their cells, and each name is still recognisable (its visible-escape form).
 *
 * Also here: MySQL statements Steward prints for account names with quotes and
 * backslashes run as printed under any sql_mode; driver errors that quote a row value
 * (a row-security policy in encrypt's plan, a trigger in the state store) never reach
 * a message, a hint or a cause.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import MarkdownIt from 'markdown-it';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { StateError } from '../../src/errors.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { escapeHtml } from '../../src/interfaces/reports/html.js';
import { terminalSafe } from '../../src/interfaces/reports/text.js';
import { openStateStore } from '../../src/state/index.js';
import { forEachDialect, uniqueName } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';
import { PG_URL } from '../helpers/servers.js';

const BIN = fileURLToPath(new URL('../../dist/interfaces/cli/bin.js', import.meta.url));

/** What a terminal acts on; newlines are allowed only as the outputs' own line ends. */
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const TABLE = 'pay\u001b[2J\n# FORGED|<script>alert(1)</script>`x`*_\u202e';
const CARD = 'card\u001b]8;;http://evil\u0007\n- FORGED|<b>b</b>';
const EMAIL = 'a.b@example.com';
const REASON = 'matter\u001b[2J\nFORGED: all clear|<script>x</script>`';
const BASIS = 'basis\u001b]8;;http://x\u0007\nFORGED line | <i>i</i>';
const OWNER = 'team\u001b[31m\nFORGED <script>o</script>';

function luhn(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

/** What follows a newline in each name: a raw newline would start a line with it (a wrap at a space never does). */
const FORGERIES = ['# FORGED', '- FORGED', 'FORGED: all clear', 'FORGED line', 'FORGED <script>'];

/** No raw control character, no line that starts with forged text. */
function expectSafe(label: string, text: string): void {
  expect(text, terminalSafe(label)).not.toMatch(RAW);
  const forged = text.split('\n').filter((l) => FORGERIES.some((f) => l.trimStart().startsWith(f)));
  expect(forged, terminalSafe(label)).toEqual([]);
}

const md = new MarkdownIt('commonmark').enable(['table', 'strikethrough']);

/** Markdown as a GFM renderer reads it: only the report's own markup, and every table row as wide as its header. */
function expectSafeMarkdown(text: string): void {
  expectSafe('markdown', text);
  const html = md.render(text);
  expect(html).not.toMatch(/<script|<b>|<i>|<a |<img/);
  expect((html.match(/<h1>/g) ?? []).length).toBe(1);
  for (const table of html.match(/<table>[\s\S]*?<\/table>/g) ?? []) {
    const head = (table.match(/<th[ >]/g) ?? []).length;
    for (const tr of table.match(/<tbody>[\s\S]*<\/tbody>/)?.[0].match(/<tr>[\s\S]*?<\/tr>/g) ?? []) expect((tr.match(/<td[ >]/g) ?? []).length, tr).toBe(head);
  }
}

forEachDialect('hostile names in every output', (d) => {
  let dir: string;
  const key = generateMasterKeyText();
  const env = { STEWARD_MASTER_KEY: key, NO_COLOR: '1' };
  const run = async (...args: string[]) => {
    const io = { ...captureIo(dir), env };
    const code = await main(args, io);
    return { code, out: io.out(), err: io.err() };
  };
  const roles: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), `steward-hostile-${d.kind}-`));
    const n = 30;
    await d.exec(`create table ${d.q(TABLE)} (id integer primary key, ${d.q(CARD)} varchar(40), ${d.q(EMAIL)} varchar(100), closed_at date)`);
    const rows = Array.from({ length: n }, (_, i) => `(${i + 1}, '${luhn(`4000001234${String(10000 + i).slice(-5)}`)}', 'person${i}@example.com', '2020-01-01')`);
    await d.exec(`insert into ${d.q(TABLE)} values ${rows.join(', ')}`);
    if (d.url === undefined) return;
    writeFileSync(
      path.join(dir, 'steward.yml'),
      [
        'sources:',
        `  - { name: s, kind: ${d.kind}, url: ${JSON.stringify(d.url)}, owner: ${JSON.stringify(OWNER)} }`,
        'retention:',
        '  policies:',
        `    - { name: p1, source: s, table: ${JSON.stringify(TABLE)}, from: closed_at, period: 1y, method: erase, legalBasis: ${JSON.stringify(BASIS)} }`,
      ].join('\n'),
    );
  });
  afterAll(async () => {
    if (roles.length && d.kind === 'postgres') await d.exec(roles.map((r) => `drop owned by ${r}; drop role ${r};`).join('\n'));
    if (roles.length && d.kind === 'mysql') await d.exec(roles.map((r) => `drop user ${r};`).join('\n'));
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(d.engine === 'pglite')('every report format escapes them for its format, and they stay recognisable', async () => {
    for (const format of ['markdown', 'html', 'json', 'sarif']) {
      const r = await run('audit', '--format', format, '--out', `report.${format}`);
      expect(r.code, r.err).toBe(0);
      expectSafe(`audit --format ${format} stderr`, r.err);
    }
    const mdText = readFileSync(path.join(dir, 'report.markdown'), 'utf8');
    expectSafeMarkdown(mdText);
    expect(md.render(mdText)).toContain(md.utils.escapeHtml(terminalSafe(TABLE)));
    expect(mdText).toContain('pay\\\\u001b\\[2J\\\\n# FORGED\\|&lt;script&gt;');

    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expectSafe('html', html);
    expect((html.match(/<script\b/g) ?? []).length).toBe(1);
    expect(html).not.toMatch(/<b>|<i>|<script>alert/);
    expect(html).toContain(escapeHtml(TABLE));
    expect(html).toContain('pay\\u001b[2J\\n# FORGED|&lt;script&gt;');

    for (const format of ['json', 'sarif']) {
      const text = readFileSync(path.join(dir, `report.${format}`), 'utf8');
      expect(text.replace(/\n/g, ''), format).not.toMatch(RAW);
      // The value itself survives: JSON is for machines.
      expect(text, format).toContain(JSON.stringify(TABLE).slice(1, -1).replace('\u202e', '\\u202e'));
    }
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as { sources: { owner: string; inventory: { table: string; column: string }[] }[] };
    expect(report.sources[0]!.owner).toBe(OWNER);
    expect(report.sources[0]!.inventory.map((i) => i.column)).toEqual(expect.arrayContaining([CARD, EMAIL]));

    const json = await run('audit', '--json');
    expect(json.out.replace(/\n/g, '')).not.toMatch(RAW);
    expect(JSON.parse(json.out).sources[0].inventory[0].table).toBe(TABLE);

    // The terminal report, from the built CLI in its own process.
    const child = spawnSync(process.execPath, [BIN, 'audit'], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    expectSafe('audit (terminal, built CLI)', child.stdout);
    expectSafe('audit (terminal, built CLI) stderr', child.stderr);
    expect(child.stdout).toContain('pay\\u001b[2J\\n# FORGED|<script>');
  });

  it.skipIf(d.engine === 'pglite')("every command's human output shows them escaped", async () => {
    const outputs: [string, string][] = [];
    const cmd = async (...args: string[]) => {
      const r = await run(...args);
      expect(r.code, terminalSafe(`${args.join(' ')}: ${r.err}`)).toBe(0);
      outputs.push([args.join(' '), r.out], [`${args.join(' ')} (stderr)`, r.err]);
      return r;
    };
    await cmd('hold', 'add', '--source', 's', '--table', TABLE, '--where', 'id = 1', '--reason', REASON);
    await cmd('hold', 'list');
    await cmd('retention', 'plan');
    // The table's backticks would quote a part of --column: the table is given double-quoted.
    await cmd('encrypt', '--source', 's', '--column', `"${TABLE}".${CARD}`, '--dry-run');
    await cmd('encrypt', '--source', 's', '--column', `"${TABLE}".${CARD}`);
    await cmd('keys', 'list');
    await cmd('retention', 'apply');
    await cmd('retention', 'certificates');
    // A second hostile table since the last audit: the diff lists what appeared, with its name.
    const second = `${TABLE}2`;
    await d.exec(`create table ${d.q(second)} (id integer primary key, ${d.q(CARD)} varchar(40)); insert into ${d.q(second)} values ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, '${luhn(`4000001234${String(20000 + i).slice(-5)}`)}')`).join(', ')};`);
    await cmd('audit', '--json');
    outputs.pop();
    outputs.pop();
    await cmd('audit', 'runs');
    const diff = await cmd('audit', 'diff');
    expect(diff.out).toContain(terminalSafe(second));
    await cmd('log');
    await cmd('schedule');
    const holds = JSON.parse((await run('hold', 'list', '--json')).out) as { id: string }[];
    await cmd('hold', 'release', holds[0]!.id.slice(0, 8), '--reason', REASON);
    await cmd('hold', 'list', '--all');
    const bad = await run('hold', 'release', `nonexistent${REASON}`, '--reason', 'x');
    expect(bad.code).not.toBe(0);
    outputs.push(['hold release (error)', bad.err]);

    for (const [label, text] of outputs) expectSafe(label, text);
    const all = outputs.map(([, t]) => t).join('\n');
    // Recognisable: the names and texts in their visible-escape form.
    expect(all).toContain(terminalSafe(REASON));
    expect(all).toContain(terminalSafe(BASIS));
    expect(all).toContain(terminalSafe(TABLE));
    expect(all).toContain(terminalSafe(CARD));
  });

  it.skipIf(d.engine !== 'server' || d.kind === 'sqlite')('a role named with escape sequences and markup: every format escapes it, and no wrong statement is printed', async () => {
    const role = `r_${uniqueName('').slice(1)}\u001b[2J\n- FORGED|<b>`;
    const account = d.kind === 'mysql' ? `${d.q(role)}@'%'` : d.q(role);
    roles.push(account);
    await d.exec(d.kind === 'mysql' ? `create user ${account}; grant select on ${d.q(d.schema)}.${d.q(TABLE)} to ${account};` : `create role ${account} login; grant select on ${d.q(TABLE)} to ${account};`);
    for (const format of ['markdown', 'html', 'terminal', 'json']) {
      const r = await run('audit', '--stage', 'access', '--format', format, '--out', `access.${format}`);
      expect(r.code, r.err).toBe(0);
    }
    const text = (f: string) => readFileSync(path.join(dir, `access.${f}`), 'utf8');
    expectSafeMarkdown(text('markdown'));
    expectSafe('access html', text('html'));
    expect(text('html')).toContain(escapeHtml(role));
    expectSafe('access terminal', text('terminal'));
    expect(text('json').replace(/\n/g, '')).not.toMatch(RAW);
    const findings = (JSON.parse(text('json')) as { findings: { rule: string; message: string; remedy: string }[] }).findings.filter((f) => f.rule === 'access.unauthorized-read' && f.message.includes(role));
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      // Postgres reads U&"…" as exactly this name; MySQL has no such form, so the fix is not shown.
      if (d.kind === 'postgres') expect(f.remedy).toMatch(/REVOKE SELECT ON .* FROM U&"r_[0-9a-f]+\\001b\[2J\\000a- FORGED\|<b>";/);
      else {
        expect(f.remedy).toContain('cannot be shown');
        expect(f.remedy).not.toContain('REVOKE');
      }
    }
    if (d.kind === 'postgres') {
      // The printed statement revokes the grant when pasted into psql.
      const stmt = /Printed, not run: (REVOKE .*;)/.exec(findings[0]!.remedy)![1]!;
      await d.exec(stmt);
      const left = await d.query<{ n: number }>(`select count(*)::int as n from information_schema.role_table_grants where grantee = $1`, [role]);
      expect(left[0]!.n).toBe(0);
    }
  });

  it.skipIf(d.kind !== 'mysql' || d.engine !== 'server')('MySQL statements for accounts with quotes and backslashes run as printed, with and without NO_BACKSLASH_ESCAPES', async () => {
    const tag = uniqueName('').slice(1);
    const users = [`o'brien_${tag}`, `back\\slash_${tag}`];
    const accountOf = (u: string) => `${d.q(u)}@'%'`;
    // A plain table: a statement naming the hostile one could not be shown at all.
    await d.exec(`create table plain_people (id integer primary key, email varchar(100)); insert into plain_people values ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'p${i}@example.com')`).join(', ')};`);
    for (const u of users) {
      roles.push(accountOf(u));
      await d.exec(`create user ${accountOf(u)}; grant select on ${d.q(d.schema)}.plain_people to ${accountOf(u)};`);
    }
    const r = await run('audit', '--stage', 'access', '--json');
    expect(r.code, r.err).toBe(0);
    const remedies = (JSON.parse(r.out) as { findings: { rule: string; remedy: string }[] }).findings.filter((f) => f.rule === 'access.unauthorized-read').map((f) => f.remedy);
    for (const u of users) {
      const remedy = remedies.find((x) => x.includes(tag) && x.includes(u.startsWith('o') ? "o''brien" : 'back\\slash'));
      expect(remedy, u).toBeDefined();
      const stmt = /Printed, not run: (REVOKE .*?;)/.exec(remedy!)![1]!;
      for (const mode of ['NO_BACKSLASH_ESCAPES', '']) {
        await d.exec(`grant select on ${d.q(d.schema)}.plain_people to ${accountOf(u)}`);
        await d.exec(`set session sql_mode = '${mode}'; ${stmt} set session sql_mode = default;`);
        const left = await d.query<{ n: number }>("select count(*) as n from mysql.tables_priv where User = ? and Table_name = 'plain_people'", [u]);
        expect(Number(left[0]!.n), `${mode || 'default'}: ${stmt}`).toBe(0);
      }
    }
  });

  it.skipIf(d.kind !== 'postgres' || d.engine !== 'server')("a row-security policy that raises with a row's value fails encrypt's plan with the SQLSTATE, never the value", async () => {
    const user = uniqueName('enc');
    roles.push(d.q(user));
    await d.exec(`
      create table rls_people (id integer primary key, email text);
      insert into rls_people values (1, 'alice.liddell@example.com'), (2, 'bob@example.com');
      create function rls_check(e text) returns boolean language plpgsql as $$ begin raise exception 'bad row for %', e; end $$;
      alter table rls_people enable row level security;
      create policy p on rls_people using (rls_check(email));
      create role ${d.q(user)} login;
      grant select, update on rls_people to ${d.q(user)};
    `);
    const u = new URL(d.url!);
    u.username = user;
    u.password = '';
    writeFileSync(path.join(dir, 'rls.yml'), ['sources:', `  - { name: s, kind: postgres, url: ${JSON.stringify(u.toString())}, owner: t }`].join('\n'));
    for (const extra of [[], ['--json'], ['--dry-run']]) {
      const r = await run('encrypt', '--config', 'rls.yml', '--source', 's', '--column', 'rls_people.email', ...extra);
      expect(r.code, r.err).toBe(4);
      expect(r.out + r.err).not.toContain('alice');
      expect(r.out + r.err).not.toContain('This is a bug');
      expect(r.out + r.err).toContain('P0001');
    }
  });
});

const servers = inject('servers');

describe.each(['sqlite', 'postgres'] as const)('%s state store: a driver error quoting a stored value', (backend) => {
  const schema = uniqueName('steward_hostile');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'steward-hostile-state-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (backend === 'postgres' && servers.postgres) {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists "${schema}" cascade`).finally(() => c.end());
    }
  });

  it.skipIf(backend === 'postgres' && !servers.postgres)("never reaches the StateError's message, hint or cause", async () => {
    const loc = backend === 'sqlite' ? { url: 'state.db', baseDir: dir } : { url: PG_URL, baseDir: dir, schema };
    await (await openStateStore(loc)).close();
    if (backend === 'sqlite') {
      const db = new Database(path.join(dir, 'state.db'));
      db.exec(`create trigger hostile before insert on activity_log begin select raise(abort, 'bad row for alice.liddell@example.com'); end;`);
      db.close();
    } else {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`set search_path to "${schema}"`);
        await c.query(`create function hostile() returns trigger language plpgsql as $$ begin raise exception 'bad row for %', 'alice.liddell@example.com'; end $$;
          create trigger hostile before insert on activity_log for each row execute function hostile();`);
      } finally {
        await c.end();
      }
    }
    const store = await openStateStore(loc);
    try {
      const err = await store.appendActivity({ actor: 'a', action: 'test.hostile', subject: { x: 1 }, details: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateError);
      const e = err as StateError;
      const cause = e.cause as Error;
      for (const text of [e.message, e.hint ?? '', JSON.stringify(e.toJSON()), String(cause), cause.message, cause.stack ?? '']) expect(text).not.toContain('alice');
      expect(e.message).toMatch(backend === 'sqlite' ? /SQLITE_CONSTRAINT_TRIGGER/ : /P0001/);
    } finally {
      await store.close();
    }
  });
});
