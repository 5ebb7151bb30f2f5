/**
 * Hostile input is normal input. One schema per dialect whose table, column and
 * role names carry escape sequences, newlines, shell metacharacters, quotes and
 * look-alikes of personal data (an email and a phone number as table names), whose
 * hold reasons, policy names and legal bases do the same, and whose rows carry
 * canary personal values. Every command a user would run on it is run through the
 * CLI (`main`), in human form and with `--json`, the audit in every report format
 * and every stage; then:
 *
 * - no exit is 70 (a bug), and every exit seen is one the README documents;
 * - no human-readable output holds a raw control character or a line forged by a
 *   newline in a name;
 * - every `--json` output parses;
 * - every command Steward suggests (in backticks, in any format) parses as one
 *   shell command with no operator: the `;touch` in a table name stays an argument;
 * - no canary row value appears in any output or anywhere in the state store.
 *
 * A second block tries operator SQL that would change the precedence of Steward's
 * own conditions (a policy `where:` and a hold `--where`): refused before any
 * work, or, where it is a valid condition, unable to reach rows that are held or
 * not due.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parse as shellParse } from 'shell-quote';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { ExitCode } from '../../src/errors.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** Row values that must never be shown or stored: two emails and a person's name. */
const CANARY = ['zebulon.canary@victim.example', 'ysolde.canary@victim.example'];
const CANARY_NAME = 'Zebulon Quarrington';
const LEAK = /canary@victim|quarrington/i;
const DOCUMENTED_EXITS = new Set<number>(Object.values(ExitCode) as number[]);

/** Every row of every table of a SQLite state store, as one string. */
function dumpState(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
    return tables.map((t) => `${t.name}: ${JSON.stringify(db.prepare(`select * from "${t.name.replaceAll('"', '""')}"`).all())}`).join('\n');
  } finally {
    db.close();
  }
}

const decodeEntities = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos|#39);/gi, (_, e: string) => {
    const k = e.toLowerCase();
    if (k === 'lt') return '<';
    if (k === 'gt') return '>';
    if (k === 'amp') return '&';
    if (k === 'quot') return '"';
    if (k === 'apos' || k === '#39') return "'";
    return String.fromCodePoint(k.startsWith('#x') ? parseInt(k.slice(2), 16) : parseInt(k.slice(1), 10));
  });

/** Commands Steward suggests: `steward …` in backticks (Markdown, terminal) or <code> (HTML). */
function suggestedCommands(text: string): string[] {
  const found: string[] = [];
  const plain = decodeEntities(text.replace(/<\/?code>/g, '`'));
  for (const m of plain.matchAll(/(`+)\s*((?:npx )?steward [^`]*?)\s*\1/g)) found.push(m[2]!);
  return found;
}

forEachDialect('hostile input (hos)', (d) => {
  const root = mkdtempSync(path.join(os.tmpdir(), `steward-hos-${d.kind}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const env = { STEWARD_MASTER_KEY: generateMasterKeyText(), NO_COLOR: '1' };
  const ctrl = d.kind !== 'mysql'; // MariaDB table names cannot hold control characters
  const T = {
    shell: 'hos_o;touch PWNED;#',
    email: 'ops@corp.example',
    phone: '+44 20 7946 0958',
    odd: ctrl ? 'hos_h\u001b[2J\nSTEWARD: all clear' : 'hos_h\u202eexe"q\'uote`b',
  };
  const COL = ctrl ? 'e"mail\u001b]0;x\u0007' : 'e"mail`x';
  const ROLE = 'hos_r;touch PWNED;#\u001b[2J\nforged';
  const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
  const ts = d.pick({ postgres: 'timestamp', mysql: 'datetime', sqlite: 'datetime' });
  const exits: { args: string; code: number }[] = [];
  const human: string[] = [];
  const machine: string[] = [];
  const reports: string[] = [];

  const run = async (dir: string, args: string[], kind: 'human' | 'json' = args.includes('--json') ? 'json' : 'human') => {
    const o = captureIo(dir);
    const code = await main(args, { ...o, env });
    exits.push({ args: args.join(' '), code });
    if (kind === 'json') {
      machine.push(o.out());
      human.push(o.err());
    } else human.push(o.out(), o.err());
    return { code, out: o.out(), err: o.err() };
  };

  beforeAll(async () => {
    for (const t of Object.values(T)) {
      await d.exec(`create table ${d.q(t)} (id int primary key, email ${text}, ${d.q(COL)} ${text}, full_name ${text}, closed_at ${ts})`);
      const rows = Array.from({ length: 30 }, (_, i) => {
        const email = i % 2 ? CANARY[0] : CANARY[1];
        return `(${i + 1}, '${i}.${email}', '${email}', '${CANARY_NAME}', '2019-01-01 00:00:00')`;
      });
      await d.exec(`insert into ${d.q(t)} (id, email, ${d.q(COL)}, full_name, closed_at) values ${rows.join(', ')}`);
    }
    if (d.kind === 'postgres' && d.engine === 'server') {
      await d.exec(`do $$ begin if exists (select 1 from pg_roles where rolname = ${"'" + ROLE.replaceAll("'", "''") + "'"}) then execute 'drop owned by ' || quote_ident(${"'" + ROLE.replaceAll("'", "''") + "'"}); execute 'drop role ' || quote_ident(${"'" + ROLE.replaceAll("'", "''") + "'"}); end if; end $$`);
      await d.exec(`create role ${d.q(ROLE)} login; grant select on ${d.q(T.shell)}, ${d.q(T.email)} to ${d.q(ROLE)}`);
    }
  });
  afterAll(async () => {
    if (d.kind === 'postgres' && d.engine === 'server') await d.exec(`drop owned by ${d.q(ROLE)}; drop role ${d.q(ROLE)}`).catch(() => undefined);
  });

  it.skipIf(d.engine === 'pglite')('every command on hostile names: no exit 70, no raw control character, no shell operator in a suggestion, no row value anywhere', async () => {
    const dir = mkdtempSync(path.join(root, 'all-'));
    const q = JSON.stringify;
    writeFileSync(
      path.join(dir, 'steward.yml'),
      [
        'sources:',
        '  - name: shop',
        `    kind: ${d.kind}`,
        `    url: ${q(d.url)}`,
        `    owner: ${q('team;rm -rf ~ \u001b[31m')}`,
        '    integrity:',
        `      required: [${q(`${T.shell}.email`)}, ${q(`${T.phone}.full_name`)}]`,
        '    access:',
        '      authorized:',
        `        - { principal: ${q(d.pick({ postgres: ROLE, mysql: 'root', sqlite: 'x' }))}, reason: ${q('because\u001b[2J\nforged')} }`,
        'retention:',
        '  policies:',
        `    - { name: hos-erase, source: shop, table: ${q(T.email)}, from: closed_at, period: 1y, method: erase, legalBasis: ${q('basis\u001b]8;;http://x\u0007 `$(touch PWNED)`\nline two')} }`,
        `    - { name: hos-clean, source: shop, table: ${q(T.phone)}, from: closed_at, period: 1y, method: cleanup, cleanup: { full_name: "null", ${q(COL)}: hash }, legalBasis: ${q('kept for tax; | pipe | <script>alert(1)</script>')} }`,
      ].join('\n'),
    );
    for (const format of ['terminal', 'markdown', 'html', 'sarif', 'json']) {
      const file = path.join(dir, `report.${format}`);
      const r = await run(dir, ['audit', '--format', format, '--out', file]);
      expect(r.code, r.err).not.toBe(ExitCode.Internal);
      expect(existsSync(file), r.err).toBe(true);
      reports.push(readFileSync(file, 'utf8'));
    }
    for (const stage of ['access', 'integrity']) {
      await run(dir, ['audit', '--stage', stage]);
      await run(dir, ['audit', '--stage', stage, '--json']);
      const file = path.join(dir, `report-${stage}.md`);
      await run(dir, ['audit', '--stage', stage, '--format', 'markdown', '--out', file]);
      if (existsSync(file)) reports.push(readFileSync(file, 'utf8'));
      const html = path.join(dir, `report-${stage}.html`);
      await run(dir, ['audit', '--stage', stage, '--format', 'html', '--out', html]);
      if (existsSync(html)) reports.push(readFileSync(html, 'utf8'));
    }
    await run(dir, ['audit', 'runs']);
    await run(dir, ['audit', 'runs', '--json']);
    await run(dir, ['audit', 'diff']);
    await run(dir, ['audit', 'diff', '--json']);
    await run(dir, ['schedule']);
    await run(dir, ['schedule', '--json']);

    const column = `${T.shell}.email`;
    await run(dir, ['encrypt', '--source', 'shop', '--column', column, '--dry-run']);
    const enc = await run(dir, ['encrypt', '--source', 'shop', '--column', column]);
    expect(enc.code, enc.err).toBe(0);
    await run(dir, ['keys', 'list']);
    await run(dir, ['keys', 'list', '--json']);
    await run(dir, ['decrypt', '--source', 'shop', '--column', column, '--dry-run']);

    const add = await run(dir, ['hold', 'add', '--source', 'shop', '--table', T.email, '--where', 'id <= 5', '--reason', 'matter\u001b[2J\nSTEWARD: all clear `touch PWNED`']);
    expect(add.code, add.err).toBe(0);
    await run(dir, ['hold', 'list']);
    await run(dir, ['hold', 'list', '--json']);
    await run(dir, ['retention', 'plan']);
    await run(dir, ['retention', 'plan', '--json']);
    const apply = await run(dir, ['retention', 'apply']);
    expect(apply.code, apply.err).toBe(0);
    await run(dir, ['retention', 'certificates']);
    await run(dir, ['retention', 'certificates', '--json']);
    await run(dir, ['log']);
    await run(dir, ['log', '--json']);
    await run(dir, ['log', 'verify']);

    // The held rows are still there; the rest of the due rows are gone.
    expect(Number((await d.query<{ n: unknown }>(`select count(*) as n from ${d.q(T.email)}`))[0]!.n)).toBe(5);

    const codes = exits.map((e) => `${e.code} ← ${JSON.stringify(e.args)}`);
    for (const e of exits) {
      expect(e.code, codes.join('\n')).not.toBe(ExitCode.Internal);
      expect(DOCUMENTED_EXITS.has(e.code), codes.join('\n')).toBe(true);
    }
    for (const o of human) {
      expect(o).not.toMatch(RAW);
      const lines = o.split('\n');
      expect(lines.some((l) => /^\s*(STEWARD: all clear|forged|line two)/.test(l)), o).toBe(false);
    }
    for (const o of machine) expect(() => JSON.parse(o), o).not.toThrow();
    // Reports are files, not terminals; Markdown and HTML still must not carry raw control characters or live markup.
    for (const r of reports.filter((x) => !x.trimStart().startsWith('{'))) expect(r).not.toMatch(RAW);
    for (const r of reports.filter((x) => x.includes('<html'))) expect(r).not.toContain('<script>alert(1)</script>');
    const suggestions = [...human, ...reports].flatMap(suggestedCommands);
    expect(suggestions.length).toBeGreaterThan(0);
    for (const s of suggestions) {
      const parsed = shellParse(s);
      expect(parsed.filter((p) => typeof p !== 'string'), s).toEqual([]);
    }
    for (const o of [...human, ...machine, ...reports]) expect(o).not.toMatch(LEAK);
    expect(dumpState(path.join(dir, '.steward', 'state.db'))).not.toMatch(LEAK);
  });

  it('operator SQL that tries to leave its parentheses is refused before any work, or cannot reach held or fresh rows', async () => {
    const t = 'hos_prec';
    await d.exec(`create table ${t} (id int primary key, email ${text}, closed_at ${ts})`);
    const rows = Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'p${i}@example.org', '${i < 17 ? '2019-01-01 00:00:00' : '2999-01-01 00:00:00'}')`);
    await d.exec(`insert into ${t} (id, email, closed_at) values ${rows.join(', ')}`);
    const count = async () => Number((await d.query<{ n: unknown }>(`select count(*) as n from ${t}`))[0]!.n);
    const dir = mkdtempSync(path.join(root, 'prec-'));
    const cfg = (where?: string) =>
      writeFileSync(
        path.join(dir, 'steward.yml'),
        [
          'sources:',
          `  - { name: shop, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: t }`,
          'retention:',
          '  policies:',
          `    - { name: prec, source: shop, table: ${t}, from: closed_at, period: 1y, method: erase, legalBasis: test${where === undefined ? '' : `, where: ${JSON.stringify(where)}`} }`,
        ].join('\n'),
      );
    const runHere = async (...args: string[]) => {
      const o = captureIo(dir);
      const code = await main(args, { ...o, env });
      return { code, out: o.out(), err: o.err() };
    };
    const escapes = [
      'id > 0) or (1=1',
      'id > 0)) or ((1=1',
      '1=1) --',
      '1=1 -- ',
      '1=1 /* ',
      'true) or (true',
      'id > 0; delete from hos_prec',
      "email = 'x') or ('a' = 'a",
      "email = 'x\\') or 1=1 -- '",
      'id in (select id from hos_prec)) or (1=1',
      ...(d.kind === 'postgres' ? ['$$x$$ = $$x$$) or ($$a$$ = $$a', 'id = $1'] : []),
      ...(d.kind === 'mysql' ? ['1=1 # ', 'id = ?'] : []),
    ];
    for (const where of escapes) {
      cfg(where);
      for (const cmd of ['plan', 'apply']) {
        const r = await runHere('retention', cmd);
        expect(r.code, `${cmd} where: ${where}\n${r.err}`).toBe(ExitCode.Config);
        expect(r.err).toMatch(/where/);
      }
      const h = await runHere('hold', 'add', '--source', 'shop', '--table', t, '--where', where, '--reason', 'x');
      expect([ExitCode.Usage, ExitCode.Config], `hold --where ${where}: ${h.err}`).toContain(h.code);
      expect(await count()).toBe(20);
    }
    // Valid conditions whose own OR must not reach past Steward's due and hold conditions.
    cfg();
    const hold = await runHere('hold', 'add', '--source', 'shop', '--table', t, '--where', 'id <= 2 or 1=0', '--reason', 'matter');
    expect(hold.code, hold.err).toBe(0);
    cfg('id > 10 or 1=1');
    const r = await runHere('retention', 'apply');
    expect(r.code, r.err).toBe(0);
    // 17 due rows, 2 of them held: 15 erased; the 3 fresh rows and the 2 held ones stay.
    expect(await count()).toBe(5);
    const left = (await d.query<{ id: unknown }>(`select id from ${t} order by id`)).map((x) => Number(x.id));
    expect(left).toEqual([1, 2, 18, 19, 20]);
  });
});
