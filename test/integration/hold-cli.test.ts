/**
 * `steward hold add|list|release` through `main`: routing, options, JSON,
 * exit codes, one-line refusals with nothing stored, and no subject identifier
 * or predicate literal in any output or in the activity log.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/interfaces/cli/cli.js';
import { ExitCode } from '../../src/errors.js';

function io(cwd: string, env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += String(b)));
  stderr.on('data', (b) => (err += String(b)));
  return { stdout, stderr, env, cwd, out: () => out, err: () => err };
}

describe('steward hold (CLI)', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'steward-hold-cli-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('add by predicate, by subject and whole table; list; release; refusals exit 2 in one line with nothing stored', async () => {
    const dir = mkdtempSync(path.join(root, 'env-'));
    const db = new Database(path.join(dir, 'shop.db'));
    db.exec('create table customers (id integer primary key, email text, case_id integer); create table invoices (id integer primary key, total integer)');
    const ins = db.prepare('insert into customers values (?, ?, ?)');
    for (let i = 1; i <= 100; i++) ins.run(i, i === 7 ? ' Jane.Doe@Example.com' : `c${i}@example.com`, i <= 12 ? 42 : null);
    db.prepare('insert into invoices values (1, 10)').run();
    db.close();
    writeFileSync(path.join(dir, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\n');
    const env = { NO_COLOR: '1', SUBJECT: 'jane.doe@example.com' };
    const run = async (...args: string[]) => {
      const o = io(dir, env);
      const code = await main(args, o);
      return { code, out: o.out(), err: o.err() };
    };

    const byWhere = await run('hold', 'add', '--source', 'shop', '--table', 'customers', '--where', "case_id = 42 and email <> 'x.y@example.org'", '--reason', 'Litigation hold, case 2026-CV-118', '--until', '2099-06-30');
    expect(byWhere.code).toBe(0);
    expect(byWhere.out).toMatch(/^Hold [0-9a-f]{8} placed on shop main\.customers: 12 row\(s\) held now/);
    expect(byWhere.out).toContain('in force until 2099-07-01T00:00:00.000Z');

    const bySubject = await run('hold', 'add', '-s', 'shop', '-t', 'customers', '--subject-column', 'email', '--subject-value-env', 'SUBJECT', '--reason', 'Case 2026-CV-118', '--json');
    expect(bySubject.code).toBe(0);
    const subject = JSON.parse(bySubject.out) as { id: string; rows: number; hold: { kind: string; keyCount: number } };
    expect(subject).toMatchObject({ rows: 1, hold: { kind: 'subject', keyCount: 1 } });

    const whole = await run('hold', 'add', '--source', 'shop', '--table', 'invoices', '--all', '--reason', 'Tax audit 2026');
    expect(whole.code).toBe(0);
    expect(whole.out).toContain('1 row(s) held now (the whole table)');

    const list = await run('hold', 'list');
    expect(list.code).toBe(0);
    expect(list.out.trim().split('\n')).toHaveLength(4); // header + 3 holds
    expect(list.out).toContain('subject by email (1 row(s) by key)');
    expect(list.out).toContain('whole table');
    const listed = JSON.parse((await run('hold', 'list', '--json', '--source', 'shop')).out) as { id: string; status: string }[];
    expect(listed).toHaveLength(3);
    expect(JSON.parse((await run('hold', 'list', '--json', '--subject-value', 'JANE.DOE@example.com')).out).map((h: { id: string }) => h.id)).toEqual([subject.id]);

    const released = await run('hold', 'release', subject.id.slice(0, 8), '--reason', 'Case settled');
    expect(released.code).toBe(0);
    expect(released.out).toContain(`Hold ${subject.id.slice(0, 8)} released`);
    expect(JSON.parse((await run('hold', 'list', '--json')).out)).toHaveLength(2);
    const all = JSON.parse((await run('hold', 'list', '--all', '--json')).out) as { id: string; status: string }[];
    expect(all.find((h) => h.id === subject.id)?.status).toBe('released');
    expect((await run('hold', 'list', '--all')).out).toContain('released');

    // Refusals: one line, exit 2, nothing stored.
    const refusals: [string[], RegExp][] = [
      [['hold', 'add', '-s', 'shop', '-t', 'customers', '--where', 'case_id = = 42', '--reason', 'r'], /^steward: error: the --where predicate is not accepted: it does not parse as one SQLite boolean expression/],
      [['hold', 'add', '-s', 'shop', '-t', 'customers', '--where', "nope = 'jane.doe@example.com'", '--reason', 'r'], /no such column: nope/],
      [['hold', 'add', '-s', 'shop', '-t', 'customers', '--where', 'case_id = 42; delete from customers', '--reason', 'r'], /contains ";"/],
      [['hold', 'add', '-s', 'shop', '-t', 'customers', '--where', 'case_id = 42', '--all', '--reason', 'r'], /exactly one of/],
      [['hold', 'add', '-s', 'shop', '-t', 'customers', '--where', 'case_id = 42', '--reason', 'r', '--until', '2001-01-01'], /not in the future/],
      [['hold', 'add', '-s', 'shop', '-t', 'customers', '--subject-column', 'email', '--reason', 'r'], /needs both --subject-column and --subject-value/],
      [['hold', 'add', '-s', 'shop', '-t', 'customers', '--subject-column', 'email', '--subject-value-env', 'UNSET_VAR', '--reason', 'r'], /UNSET_VAR .* is not set/],
      [['hold', 'add', '-s', 'nope', '-t', 'customers', '--all', '--reason', 'r'], /unknown source "nope"/],
      [['hold', 'add', '-s', 'shop', '-t', 'nosuch', '--all', '--reason', 'r'], /has no table nosuch/],
      [['hold', 'add', '-s', 'shop', '-t', 'customers', '--all', '--reason', 'asked by jane.doe@example.com'], /personal data/],
      [['hold', 'release', 'deadbeef', '--reason', 'r'], /there is no hold deadbeef/],
      [['hold', 'release', subject.id, '--reason', 'again'], /already released/],
    ];
    for (const [args, message] of refusals) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(ExitCode.Usage);
      expect(r.err, args.join(' ')).toMatch(message);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).not.toContain('jane.doe@example.com');
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    // Commander refuses a missing --reason before anything runs.
    expect((await run('hold', 'add', '-s', 'shop', '-t', 'customers', '--all')).code).toBe(ExitCode.Usage);
    const json = await run('hold', 'add', '-s', 'shop', '-t', 'customers', '--where', 'nope = 1', '--reason', 'r', '--json');
    expect(json.code).toBe(ExitCode.Usage);
    expect(JSON.parse(json.err || json.out)).toMatchObject({ error: { code: 'USAGE' } });
    expect(JSON.parse((await run('hold', 'list', '--all', '--json')).out)).toHaveLength(3);

    const log = await run('log', '--json');
    const entries = JSON.parse(log.out) as { action: string }[];
    expect(entries.map((e) => e.action)).toEqual(['hold.added', 'hold.added', 'hold.added', 'hold.released']);
    expect(log.out.toLowerCase()).not.toContain('jane');
    expect(log.out).not.toContain('x.y@example.org');
    expect(log.out).not.toContain('case_id');
    expect((await run('log', 'verify')).code).toBe(0);

    for (const help of [['hold', '--help'], ['hold', 'add', '--help'], ['hold', 'list', '--help'], ['hold', 'release', '--help']]) {
      const h = await run(...help);
      expect(h.code).toBe(0);
      expect(h.out).toMatch(/Usage: steward hold/);
    }
  });
});
