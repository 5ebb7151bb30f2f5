/**
 * `steward retention plan | apply | certificates` with `steward hold` through
 * `main`: a held row survives, the plan counts it, the certificate says so.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/interfaces/cli/cli.js';
import { ExitCode } from '../../src/errors.js';
import { captureIo } from '../helpers/io.js';

describe('steward retention (CLI) with legal holds', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-ret-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plans, holds one row, applies, certifies; refuses an impossible policy with exit 3', async () => {
    const db = new Database(path.join(dir, 'shop.db'));
    db.exec('create table tickets (id integer primary key, email text, closed_at date)');
    const ins = db.prepare('insert into tickets values (?, ?, ?)');
    for (let i = 1; i <= 50; i++) ins.run(i, `t${i}@example.com`, i <= 30 ? '2020-01-01' : '2099-01-01');
    db.close();
    const yml = (extra = '') =>
      [
        'sources:',
        '  - { name: shop, kind: sqlite, url: shop.db, owner: t }',
        'retention:',
        '  policies:',
        '    - { name: old-tickets, source: shop, table: tickets, from: closed_at, period: 3m, method: erase, legalBasis: "closed tickets are kept 3 months" }',
        extra,
      ].join('\n');
    writeFileSync(path.join(dir, 'steward.yml'), yml());
    const run = async (...args: string[]) => {
      const o = captureIo(dir);
      const code = await main(args, o);
      return { code, out: o.out() };
    };
    expect((await run('hold', 'add', '--source', 'shop', '--table', 'tickets', '--where', 'id = 7', '--reason', 'litigation 2026-114', '--json')).code).toBe(0);
    const plan = JSON.parse((await run('retention', 'plan', '--json')).out) as { plans: { due: number; held: number }[] };
    expect(plan.plans[0]).toMatchObject({ due: 30, held: 1 });
    const applied = JSON.parse((await run('retention', 'apply', '--json')).out) as { certificates: { rows: number; remaining: number }[] };
    expect(applied.certificates[0]).toMatchObject({ rows: 29, remaining: 1 });
    const left = new Database(path.join(dir, 'shop.db'), { readonly: true });
    expect((left.prepare('select id from tickets where closed_at < ? order by id').all('2030-01-01') as { id: number }[]).map((r) => r.id)).toEqual([7]);
    left.close();
    const certs = await run('retention', 'certificates');
    expect(certs.out).toMatch(/old-tickets\s+erase\s+29 rows/);
    // After the deletion: reclaim the space, and say what still holds the rows.
    const dry = JSON.parse((await run('retention', 'reclaim', '--source', 'shop', '--table', 'tickets', '--dry-run', '--json')).out) as { ran: boolean; statements: string[]; remains: string[] };
    expect(dry).toMatchObject({ ran: false, statements: ['VACUUM'] });
    expect(dry.remains.join(' ')).toMatch(/wal/i);
    const reclaimed = await run('retention', 'reclaim', '--source', 'shop', '--table', 'tickets');
    expect(reclaimed.out).toContain('Ran: VACUUM');
    expect(reclaimed.out).toContain('steward keys destroy');
    // On the schedule: retention with a frequency joins `audit --due`; it records its run.
    writeFileSync(path.join(dir, 'steward.yml'), yml('schedule: { collection: P1Y, access: P1Y, integrity: P1Y, retention: P1D }'));
    const sched = async () => (JSON.parse((await run('schedule', '--json')).out) as { stages: { stage: string; due: boolean; lastSuccess: string | null }[] }).stages.find((x) => x.stage === 'retention')!;
    expect(await sched()).toMatchObject({ due: false }); // the apply above counts as its last run
    const db2 = new Database(path.join(dir, 'shop.db'));
    db2.prepare('insert into tickets values (?, ?, ?)').run(99, 't99@example.com', '2019-01-01');
    db2.close();
    const later = new Date(Date.now() + 2 * 86_400_000);
    const o = captureIo(dir);
    const { audit } = await import('../../src/interfaces/cli/commands/audit.js');
    await audit({ due: true, json: true, now: () => later }, o);
    const gone = new Database(path.join(dir, 'shop.db'), { readonly: true });
    expect(gone.prepare('select count(*) as n from tickets where id = 99').get()).toEqual({ n: 0 });
    gone.close();
    // An impossible policy: exit 3 (config), nothing changed.
    writeFileSync(path.join(dir, 'steward.yml'), yml('    - { name: clash, source: shop, table: tickets, from: closed_at, period: 1y, method: erase, legalBasis: x }'));
    expect((await run('retention', 'apply')).code).toBe(ExitCode.Config);
    expect((await run('retention', 'plan', '--help')).code).toBe(0);
  });

  it('a policy by data category: waits (said plainly) until an audit has an inventory, then one plan and one certificate per table; a table policy takes its table over', async () => {
    const cdir = mkdtempSync(path.join(dir, 'cat-'));
    const db = new Database(path.join(cdir, 'crm.db'));
    db.exec('create table contacts (id integer primary key, email text, updated_at date); create table leads (id integer primary key, email text, created_at date); create table staff (id integer primary key, email text, hired date)');
    const names = ['ann', 'bob', 'cy', 'dee', 'eve'];
    for (const [t, col] of [['contacts', 'updated_at'], ['leads', 'created_at'], ['staff', 'hired']] as const) {
      const ins = db.prepare(`insert into ${t} (id, email, ${col}) values (?, ?, ?)`);
      for (let i = 1; i <= 20; i++) ins.run(i, `${names[i % 5]}.${i}@${t}.example.org`, i <= 8 ? '2020-01-01' : '2099-01-01');
    }
    db.close();
    writeFileSync(
      path.join(cdir, 'steward.yml'),
      [
        'sources:',
        '  - { name: crm, kind: sqlite, url: crm.db, owner: t }',
        'retention:',
        '  policies:',
        '    - { name: emails, category: contact.email, from: [updated_at, created_at, hired], period: 2y, method: erase, legalBasis: "email addresses: 2 years" }',
        '    - { name: staff-10y, source: crm, table: staff, from: hired, period: 10y, method: erase, legalBasis: "employment records: 10 years" }',
      ].join('\n'),
    );
    const run = async (...args: string[]) => {
      const o = captureIo(cdir);
      const code = await main(args, o);
      return { code, out: o.out(), err: o.err() };
    };
    // Before any audit the category policy waits (said plainly); the table policy beside it runs.
    const before = await run('retention', 'apply');
    expect(before.code).toBe(0);
    expect(before.out).toMatch(/Not run: policy "emails" on source "crm" covers the data category contact\.email, and no audit of source "crm" has recorded an inventory yet: run `steward audit` first/);
    expect(before.out).toMatch(/Nothing due under policy "staff-10y"/);
    expect((await run('audit', '--json')).code).toBe(0);
    const plan = JSON.parse((await run('retention', 'plan', '--json')).out) as { plans: { policy: string; due: number; origin?: { category: string } }[]; skipped: { policy: string; table: string; coveredBy: string }[] };
    expect(plan.plans.map((p) => [p.policy, p.due, p.origin?.category ?? null])).toEqual([
      ['staff-10y', 0, null], // hired 2020: ten years are not over
      ['emails[main.contacts]', 8, 'contact.email'],
      ['emails[main.leads]', 8, 'contact.email'],
    ]);
    expect(plan.skipped).toEqual([{ policy: 'emails', table: 'main.staff', coveredBy: 'staff-10y', source: 'crm', reason: expect.stringContaining('left to policy "staff-10y"') }]);
    expect((await run('retention', 'plan')).out).toContain('emails: crm.main.staff: left to policy "staff-10y"');
    const applied = JSON.parse((await run('retention', 'apply', '--policy', 'emails', '--json')).out) as { certificates: { policy: string; rows: number }[] };
    expect(applied.certificates.map((c) => [c.policy, c.rows])).toEqual([
      ['emails[main.contacts]', 8],
      ['emails[main.leads]', 8],
    ]);
    const left = new Database(path.join(cdir, 'crm.db'), { readonly: true });
    expect([left.prepare('select count(*) as n from contacts').get(), left.prepare('select count(*) as n from leads').get(), left.prepare('select count(*) as n from staff').get()]).toEqual([{ n: 12 }, { n: 12 }, { n: 20 }]);
    left.close();
    const certs = JSON.parse((await run('retention', 'certificates', '--policy', 'emails', '--json')).out) as { certificates: { policy: string }[] };
    expect(certs.certificates.map((c) => c.policy)).toEqual(['emails[main.contacts]', 'emails[main.leads]']);
    expect((await run('retention', 'apply', '--policy', 'nosuch')).code).toBe(ExitCode.Usage);
    const typo = await run('retention', 'plan', '--policy', 'emails[leads]');
    expect(typo.code).toBe(ExitCode.Usage);
    expect(typo.err).toMatch(/no table "emails\[leads\]" under category policy "emails"/);
    // Checked before anything runs: the valid policy named beside it is not applied either.
    const mixed = await run('retention', 'apply', '--policy', 'staff-10y', '--policy', 'emails[main.staff]');
    expect(mixed.code).toBe(ExitCode.Usage);
    expect(mixed.err).toMatch(/no table "emails\[main\.staff\]" under category policy "emails": left to policy "staff-10y"/);
    expect(mixed.out).toBe('');
  });
});
