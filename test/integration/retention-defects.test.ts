/**
 * Retention defects found by trying Steward as an adversary (issue "Defects a new
 * user hits"), on every database, through the CLI:
 * - a policy's `where:` that tries to leave its parentheses is refused (exit 3) and
 *   nothing is erased; a proper filter still works beside holds;
 * - `cleanup: hash` runs from the CLI with the keyring's key; the plan warns when the
 *   master key does not open, and apply refuses before opening a job;
 * - a hold whose predicate broke after a schema change names the hold and the fix,
 *   exit 4, keeps its table whole, and lets the other policies run;
 * - a fixed value on a UNIQUE column is a plan problem, not an apply failure;
 * - a re-run of a failed apply logs `resumed: true`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { ExitCode } from '../../src/errors.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { HASH_PREFIX } from '../../src/retention/cleanup.js';
import { openStateStore } from '../../src/state/index.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

const today = new Date().toISOString().slice(0, 10);

forEachDialect('retention defects (CLI)', (d) => {
  let dir: string;
  const env: Record<string, string> = { STEWARD_MASTER_KEY: generateMasterKeyText(), NO_COLOR: '1' };
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), `steward-retdef-${d.kind}-`));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (args: string[], e: Record<string, string> = env) => {
    const io = { ...captureIo(dir), env: e };
    const code = await main(args, io);
    return { code, out: io.out(), err: io.err() };
  };
  const config = (policies: string[]) =>
    writeFileSync(
      path.join(dir, 'steward.yml'),
      [
        'sources:',
        `  - { name: s, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: t }`,
        'state: { url: state.db }',
        'retention:',
        '  policies:',
        ...policies.map((p) => `    - ${p}`),
      ].join('\n'),
    );
  const ids = async (table: string) => (await d.query<{ id: unknown }>(`select id from ${d.q(table)} order by id`)).map((r) => Number(r.id));
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

  it.skipIf(d.engine === 'pglite')("a where: that tries to leave its parentheses erases nothing (exit 3); a real filter leaves held and new rows", async () => {
    await d.exec(`create table tickets (id integer primary key, email varchar(100), closed_at date)`);
    const values = range(1, 50).map((i) => `(${i}, 't${i}@example.com', '2020-01-01')`).join(', ');
    await d.exec(`insert into tickets values ${values}, (51, 't51@example.com', '${today}')`);
    config(['{ name: old, source: s, table: tickets, from: closed_at, period: 1y, method: erase, legalBasis: "closed tickets 1 year" }']);
    expect((await run(['hold', 'add', '--source', 's', '--table', 'tickets', '--where', 'id <= 5', '--reason', 'litigation 2026-114'])).code).toBe(0);

    for (const where of ['id > 0) or (1=1', '1=1) or (1=1', 'id > 0; delete from tickets', 'id > 0 -- x', "email = 'a\\' ) or (1=1 or email = '"]) {
      config([`{ name: old, source: s, table: tickets, from: closed_at, period: 1y, method: erase, legalBasis: "closed tickets 1 year", where: ${JSON.stringify(where)} }`]);
      const plan = await run(['retention', 'plan']);
      expect(plan.code, `${where}: ${plan.err}`).toBe(ExitCode.Config);
      expect(plan.err).toMatch(/retention\.policies\[0\]\.where/);
      const apply = await run(['retention', 'apply', '--json']);
      expect(apply.code, where).toBe(ExitCode.Config);
      expect(await ids('tickets')).toEqual(range(1, 51));
    }
    // A where: over a column the table does not have: named before anything runs (exit 3), not a driver error.
    config(['{ name: old, source: s, table: tickets, from: closed_at, period: 1y, method: erase, legalBasis: "closed tickets 1 year", where: "state = 1" }']);
    const unknown = await run(['retention', 'plan']);
    expect(unknown.code, unknown.err).toBe(ExitCode.Config);
    expect(unknown.err).toMatch(/retention\.policies\[0\]\.where does not run on/);
    expect((await run(['retention', 'apply'])).code).toBe(ExitCode.Config);
    expect(await ids('tickets')).toEqual(range(1, 51));
    config([`{ name: old, source: s, table: tickets, from: closed_at, period: 1y, method: erase, legalBasis: "closed tickets 1 year", where: "id > 0) or (1=1" }`]);
    // The audit says so too, as a finding (and does not crash).
    const audit = await run(['audit', '--json']);
    expect(audit.code).not.toBe(ExitCode.Internal);
    expect(audit.out).toContain('retention.policy-invalid');

    config(['{ name: old, source: s, table: tickets, from: closed_at, period: 1y, method: erase, legalBasis: "closed tickets 1 year", where: "id >= 3 or id = 51" }']);
    const applied = await run(['retention', 'apply', '--json']);
    expect(applied.code, applied.err).toBe(0);
    expect((JSON.parse(applied.out) as { certificates: { rows: number }[] }).certificates[0]!.rows).toBe(45);
    expect(await ids('tickets')).toEqual([1, 2, 3, 4, 5, 51]);
  });

  it.skipIf(d.engine === 'pglite')('cleanup: hash runs from the CLI; without the master key the plan warns and apply refuses before any job', async () => {
    await d.exec(`create table leads (id integer primary key, email varchar(100), created_at date)`);
    await d.exec(`insert into leads values ${range(1, 20).map((i) => `(${i}, 'lead${i}@example.com', '2020-01-01')`).join(', ')}`);
    config(['{ name: leads, source: s, table: leads, from: created_at, period: 1y, method: cleanup, cleanup: { email: hash }, legalBasis: "leads 1 year" }']);
    const noKey = { NO_COLOR: '1' };
    const plan = await run(['retention', 'plan'], noKey);
    expect(plan.code).toBe(0);
    expect(plan.out).toMatch(/warning: cleanup hashes email .*master key/);
    const refused = await run(['retention', 'apply'], noKey);
    expect(refused.code).toBe(ExitCode.Crypto);
    expect(refused.err).not.toMatch(/bug in Steward/);
    const store = await openStateStore({ url: path.join(dir, 'state.db'), baseDir: dir });
    try {
      expect((await store.jobs.list()).filter((j) => j.status === 'running')).toEqual([]);
    } finally {
      await store.close();
    }
    const ok = await run(['retention', 'apply', '--json']);
    expect(ok.code, ok.err).toBe(0);
    const emails = (await d.query<{ email: string }>('select email from leads')).map((r) => r.email);
    expect(emails.every((e) => e.startsWith(HASH_PREFIX))).toBe(true);
    expect(new Set(emails).size).toBe(20);
  });

  it.skipIf(d.engine === 'pglite')('a hold broken by a renamed column names the hold and the fix (exit 4); its table is kept whole, the other policy runs', async () => {
    await d.exec(`create table cases (id integer primary key, status varchar(20), closed_at date)`);
    await d.exec(`create table visits (id integer primary key, ip varchar(40), seen_at date)`);
    await d.exec(`insert into cases values ${range(1, 10).map((i) => `(${i}, 'open', '2020-01-01')`).join(', ')}`);
    await d.exec(`insert into visits values ${range(1, 10).map((i) => `(${i}, '10.0.0.${i}', '2020-01-01')`).join(', ')}`);
    config([
      '{ name: cases, source: s, table: cases, from: closed_at, period: 1y, method: erase, legalBasis: "cases 1 year" }',
      '{ name: visits, source: s, table: visits, from: seen_at, period: 1y, method: erase, legalBasis: "visits 1 year" }',
    ]);
    const placed = await run(['hold', 'add', '--source', 's', '--table', 'cases', '--where', "status = 'open' and id <= 3", '--reason', 'matter 7', '--json']);
    expect(placed.code, placed.err).toBe(0);
    const holdId = (JSON.parse(placed.out) as { id: string }).id;
    await d.exec(d.pick({ postgres: 'alter table cases rename column status to state', mysql: 'alter table cases rename column status to state', sqlite: 'alter table cases rename column status to state' }));
    const plan = await run(['retention', 'plan']);
    expect(plan.code).toBe(ExitCode.Source);
    expect(plan.err).toContain(holdId.slice(0, 8));
    expect(plan.err).toMatch(/steward hold release/);
    expect(plan.out).toContain('visits');
    const apply = await run(['retention', 'apply']);
    expect(apply.code).toBe(ExitCode.Source);
    expect(apply.err).toContain(holdId.slice(0, 8));
    expect(apply.err).not.toMatch(/bug in Steward|    at /);
    expect(await ids('cases')).toEqual(range(1, 10));
    expect(await ids('visits')).toEqual([]);
  });

  it.skipIf(d.engine === 'pglite')('a fixed value on a UNIQUE column is a plan problem; a failed apply re-run logs resumed: true', async () => {
    await d.exec(`create table members (id integer primary key, email varchar(100) not null unique, left_at date)`);
    await d.exec(`insert into members values ${range(1, 5).map((i) => `(${i}, 'm${i}@example.com', '2020-01-01')`).join(', ')}`);
    config(['{ name: members, source: s, table: members, from: left_at, period: 1y, method: cleanup, cleanup: { email: "fixed:gone@example.invalid" }, legalBasis: "members 1 year" }']);
    const plan = await run(['retention', 'plan']);
    expect(plan.code).toBe(ExitCode.Config);
    expect(plan.err).toMatch(/unique key/);
    // Another config file: the message names it, not steward.yml.
    const { copyFileSync } = await import('node:fs');
    copyFileSync(path.join(dir, 'steward.yml'), path.join(dir, 'other.yml'));
    const other = await run(['retention', 'plan', '--config', 'other.yml']);
    expect(other.err).toContain('in other.yml:');
    expect(other.err).not.toContain('steward.yml');
    expect((await d.query<{ email: string }>('select email from members order by id')).map((r) => r.email)).toEqual(range(1, 5).map((i) => `m${i}@example.com`));

    // A run that fails at its first batch (a trigger refuses the delete) leaves its job; the re-run resumes it and says so.
    await d.exec(`create table notes (id integer primary key, body varchar(100), made_at date)`);
    await d.exec(`insert into notes values ${range(1, 5).map((i) => `(${i}, 'n${i}', '2020-01-01')`).join(', ')}`);
    await d.exec(
      d.pick({
        postgres: `create function notes_no_delete() returns trigger language plpgsql as $$ begin raise exception 'not now'; end $$;
                   create trigger notes_no_delete before delete on notes for each row execute function notes_no_delete()`,
        mysql: `create trigger notes_no_delete before delete on notes for each row signal sqlstate '45000' set message_text = 'not now'`,
        sqlite: `create trigger notes_no_delete before delete on notes begin select raise(abort, 'not now'); end`,
      }),
    );
    config(['{ name: notes, source: s, table: notes, from: made_at, period: 1y, method: erase, legalBasis: "notes 1 year" }']);
    const failed = await run(['retention', 'apply']);
    expect(failed.code).not.toBe(0);
    expect(failed.code).not.toBe(ExitCode.Internal);
    await d.exec(d.pick({ postgres: 'drop trigger notes_no_delete on notes', mysql: 'drop trigger notes_no_delete', sqlite: 'drop trigger notes_no_delete' }));
    expect((await run(['retention', 'apply'])).code).toBe(0);
    expect(await ids('notes')).toEqual([]);
    const store = await openStateStore({ url: path.join(dir, 'state.db'), baseDir: dir });
    const notes: { resumed?: boolean }[] = [];
    try {
      for await (const batch of store.activityBatches({ action: 'retention.started' })) {
        for (const e of batch) if ((e.subject as { policy?: string }).policy === 'notes') notes.push(e.details as { resumed?: boolean });
      }
    } finally {
      await store.close();
    }
    expect(notes.map((e) => e.resumed)).toEqual([false, true]);
  });
});
