/**
 * Driver errors that quote row values never reach a user or the state store, and
 * identifiers shaped like personal data do not stop the activity log.
 *
 * Per dialect, through `main` (the CLI): a view whose expression raises with a
 * row's email and a person's name (PL/pgSQL RAISE P0001, MariaDB SIGNAL 45000), a
 * trigger on UPDATE (encrypt) and on DELETE (retention apply) raising with
 * old.email (SQLite: RAISE(ABORT, '…')), a check-constraint function (Postgres),
 * a hold predicate naming a role after a person (Postgres). Every report format,
 * `--json`, the error output and every table of the state store are scanned for
 * the raw values afterwards.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/interfaces/cli/cli.js';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { ExitCode, StateError } from '../../src/errors.js';
import { openAuditHistory } from '../../src/state/audit-history.js';
import { openStateStore } from '../../src/state/store.js';
import { stateReport } from '../fixtures/state-report.js';
import { PG_URL } from '../helpers/servers.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

const EMAIL = 'theodora.quisling@example.com';
const FIRST = 'Theodora';
const LAST = 'Quisling';
/** Nothing of the row may show, in any case. */
const LEAK = /quisling|theodora/i;

/** Every row of every table of a SQLite state store, as one string. */
function dumpState(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
    expect(tables.length).toBeGreaterThan(3);
    return tables.map((t) => `${t.name}: ${JSON.stringify(db.prepare(`select * from "${t.name.replaceAll('"', '""')}"`).all())}`).join('\n');
  } finally {
    db.close();
  }
}

forEachDialect('driver errors quoting row values (scr)', (d) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'steward-scr-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const env = { STEWARD_MASTER_KEY: generateMasterKeyText(), NO_COLOR: '1' };
  const yml = (extra = '') =>
    ['sources:', '  - name: shop', `    kind: ${d.kind}`, `    url: ${JSON.stringify(d.url ?? 'postgres://pglite')}`, '    owner: t', extra].join('\n');
  const run = async (dir: string, ...args: string[]) => {
    const o = captureIo(dir);
    const code = await main(args, { ...o, env });
    return { code, out: o.out(), err: o.err() };
  };

  beforeAll(async () => {
    const rows = `(1, '${EMAIL}', '${FIRST} ${LAST}'), (2, 'b.other@example.org', 'Bo Other')`;
    const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    for (const t of ['scr_people', 'scr_accounts', 'scr_gone']) {
      await d.exec(`create table ${t} (id int primary key, email ${text}, name ${text}, closed_at ${d.pick({ postgres: 'timestamp', mysql: 'datetime', sqlite: 'datetime' })})`);
      await d.exec(`insert into ${t} (id, email, name) values ${rows}`);
    }
    await d.exec(`update scr_gone set closed_at = '2019-01-01 00:00:00'`);
    if (d.kind === 'postgres') {
      await d.exec(`create function scr_boom(e text, n text) returns text language plpgsql as $$ begin raise exception 'bad row for % (%)', e, n; end $$;
        create view scr_v as select id, scr_boom(email, name) as email from scr_people;
        create function scr_refuse() returns trigger language plpgsql as $$ begin raise exception 'bad row for % (%)', old.email, old.name; end $$;
        create trigger scr_t_upd before update on scr_accounts for each row execute function scr_refuse();
        create trigger scr_t_del before delete on scr_gone for each row execute function scr_refuse();
        create function scr_chk(e text, n text) returns boolean language plpgsql as $$ begin if e like 'stw1:%' then raise exception 'refused for % (%)', n, e; end if; return true; end $$;
        create table scr_checked (id int primary key, email text, name text, constraint scr_name_ok check (scr_chk(email, name)));
        insert into scr_checked (id, email, name) values ${rows};`);
    } else if (d.kind === 'mysql') {
      await d.exec(`create function scr_boom(e varchar(200), n varchar(200)) returns varchar(200) deterministic begin declare m varchar(400) default concat('bad row for ', e, ' (', n, ')'); signal sqlstate '45000' set message_text = m; return e; end`);
      await d.exec('create view scr_v as select id, scr_boom(email, name) as email from scr_people');
      await d.exec(`create trigger scr_t_upd before update on scr_accounts for each row begin declare m varchar(400) default concat('bad row for ', old.email, ' (', old.name, ')'); signal sqlstate '45000' set message_text = m; end`);
      await d.exec(`create trigger scr_t_del before delete on scr_gone for each row begin declare m varchar(400) default concat('bad row for ', old.email, ' (', old.name, ')'); signal sqlstate '45000' set message_text = m; end`);
    } else {
      await d.exec(`create trigger scr_t_upd before update on scr_accounts begin select raise(abort, 'bad row for ${EMAIL} (${FIRST} ${LAST})'); end;
        create trigger scr_t_del before delete on scr_gone begin select raise(abort, 'bad row for ${EMAIL} (${FIRST} ${LAST})'); end;`);
    }
  });

  it.skipIf(d.engine === 'pglite' || d.kind === 'sqlite')('a view that raises with a row value: a table-unreadable finding in every format, --json and the state store, without the value', async () => {
    const dir = mkdtempSync(path.join(root, 'audit-'));
    writeFileSync(path.join(dir, 'steward.yml'), yml());
    const outputs: string[] = [];
    for (const format of ['terminal', 'markdown', 'html', 'sarif', 'json']) {
      const file = path.join(dir, `report.${format}`);
      const r = await run(dir, 'audit', '--format', format, '--out', file);
      expect(r.code, r.err).not.toBe(ExitCode.Internal);
      outputs.push(readFileSync(file, 'utf8'), r.out, r.err);
    }
    const json = await run(dir, 'audit', '--json');
    const report = JSON.parse(json.out) as { findings: { rule: string; location: { table?: string }; message: string; remedy: string }[] };
    const unreadable = report.findings.find((f) => f.rule === 'collection.table-unreadable' && f.location.table === 'scr_v');
    expect(unreadable, json.out).toBeDefined();
    // The SQLSTATE and Steward's words for the class stay; the driver's text does not.
    expect(unreadable!.message).toContain(d.pick({ postgres: 'P0001', mysql: '45000', sqlite: '' }));
    expect(unreadable!.message).toMatch(/raised an error/);
    outputs.push(json.out, json.err, (await run(dir, 'audit', 'runs', '--json')).out, (await run(dir, 'log', '--json')).out);
    for (const o of outputs) expect(o).not.toMatch(LEAK);
    expect(dumpState(path.join(dir, '.steward', 'state.db'))).not.toMatch(LEAK);
  });

  it.skipIf(d.engine === 'pglite')('encrypt through an UPDATE trigger that raises with old.email: exit 4, no value in the error, --json or the state store, and a hint for encrypt', async () => {
    const dir = mkdtempSync(path.join(root, 'enc-'));
    writeFileSync(path.join(dir, 'steward.yml'), yml());
    const human = await run(dir, 'encrypt', '--source', 'shop', '--column', 'scr_accounts.email');
    expect(human.code, human.err).toBe(ExitCode.Source);
    expect(human.err).toMatch(/cannot encrypt a batch of/);
    expect(human.err).toContain(d.pick({ postgres: 'P0001', mysql: '45000', sqlite: 'SQLITE_CONSTRAINT_TRIGGER' }));
    // encrypt's hint: what the database refused and that the command resumes; not the audit's "exclude the table".
    expect(human.err).not.toMatch(/exclude|steward\.yml/i);
    expect(human.err).toMatch(/run (it|the command) again/);
    const json = await run(dir, 'encrypt', '--source', 'shop', '--column', 'scr_accounts.email', '--json');
    expect(json.code).toBe(ExitCode.Source);
    expect(JSON.parse(json.out)).toMatchObject({ error: { code: 'SOURCE_QUERY' } });
    for (const o of [human.out, human.err, json.out, json.err, (await run(dir, 'log', '--json')).out]) expect(o).not.toMatch(LEAK);
    expect(dumpState(path.join(dir, '.steward', 'state.db'))).not.toMatch(LEAK);
  });

  it.skipIf(d.engine === 'pglite' || d.kind !== 'postgres')('encrypt through a check-constraint function that raises with a person\'s name: no name in the error', async () => {
    const dir = mkdtempSync(path.join(root, 'chk-'));
    writeFileSync(path.join(dir, 'steward.yml'), yml());
    const r = await run(dir, 'encrypt', '--source', 'shop', '--column', 'scr_checked.email');
    expect(r.code, r.err).toBe(ExitCode.Source);
    expect(r.err).toContain('P0001');
    expect(r.out + r.err).not.toMatch(LEAK);
    expect(dumpState(path.join(dir, '.steward', 'state.db'))).not.toMatch(LEAK);
  });

  it.skipIf(d.engine === 'pglite')('retention apply through a DELETE trigger that raises with old.email: exit 4, no value anywhere', async () => {
    const dir = mkdtempSync(path.join(root, 'ret-'));
    writeFileSync(
      path.join(dir, 'steward.yml'),
      yml(['retention:', '  policies:', '    - { name: scr-gone, source: shop, table: scr_gone, from: closed_at, period: 3m, method: erase, legalBasis: "closed accounts are kept 3 months" }'].join('\n')),
    );
    const human = await run(dir, 'retention', 'apply');
    expect(human.code, human.err).toBe(ExitCode.Source);
    expect(human.err).not.toMatch(/exclude/i);
    const json = await run(dir, 'retention', 'apply', '--json');
    expect(json.code).toBe(ExitCode.Source);
    for (const o of [human.out, human.err, json.out, json.err, (await run(dir, 'log', '--json')).out]) expect(o).not.toMatch(LEAK);
    expect(dumpState(path.join(dir, '.steward', 'state.db'))).not.toMatch(LEAK);
    expect(Number((await d.query<{ n: unknown }>('select count(*) as n from scr_gone'))[0]!.n)).toBe(2);
  });

  it.skipIf(d.engine === 'pglite' || d.kind !== 'postgres')('a hold predicate whose error names a role after a person: the name is not shown', async () => {
    const dir = mkdtempSync(path.join(root, 'hold-'));
    writeFileSync(path.join(dir, 'steward.yml'), yml());
    const r = await run(dir, 'hold', 'add', '--source', 'shop', '--table', 'scr_people', '--where', `pg_has_role('${LAST}', 'member')`, '--reason', 'case 2026-7');
    expect(r.code, r.err).toBe(ExitCode.Usage);
    expect(r.err).toContain('42704');
    expect(r.out + r.err).not.toMatch(LEAK);
    // A column the operator mistyped is still named (an identifier of the predicate, not a literal).
    const typo = await run(dir, 'hold', 'add', '--source', 'shop', '--table', 'scr_people', '--where', 'emial = 1', '--reason', 'case 2026-7');
    expect(typo.err).toContain('column "emial" does not exist');
  });
});

forEachDialect('identifiers shaped like personal data (scr)', (d) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'steward-scr-id-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const column = 'scr.owner@example.com';
  // MySQL table names cannot hold a dot: there the email-shaped name is a column only.
  const table = d.pick({ postgres: 'scr.lee@example.com', mysql: 'scr_contacts', sqlite: 'scr.lee@example.com' });

  beforeAll(async () => {
    const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    await d.exec(`create table ${d.q(table)} (id int primary key, ${d.q(column)} ${text})`);
    await d.exec(`insert into ${d.q(table)} values ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'c${i + 1}@example.net')`).join(', ')}`);
  });

  it.skipIf(d.engine === 'pglite')('a table or column named like an email address: the audit is recorded, with its log entries, and the log verifies', async () => {
    const dir = mkdtempSync(path.join(root, 'a-'));
    writeFileSync(path.join(dir, 'steward.yml'), ['sources:', '  - name: shop', `    kind: ${d.kind}`, `    url: ${JSON.stringify(d.url)}`, '    owner: t'].join('\n'));
    const o = captureIo(dir);
    const code = await main(['audit', '--json'], o);
    expect(code, o.err()).not.toBe(ExitCode.Internal);
    expect(o.err()).not.toMatch(/bug in Steward/);
    const report = JSON.parse(o.out()) as { run: { id: string }; findings: { location: { table?: string; column?: string } }[] };
    expect(report.findings.some((f) => f.location.column === column && f.location.table === table)).toBe(true);
    const log = captureIo(dir);
    expect(await main(['log', '--json'], log)).toBe(0);
    const entries = JSON.parse(log.out()) as { action: string; subject: { runId?: string }; details: { location?: { column?: string } } }[];
    expect(entries.some((e) => e.action === 'audit.run' && e.subject.runId === report.run.id)).toBe(true);
    expect(entries.some((e) => e.action === 'finding.appeared' && e.details.location?.column === column)).toBe(true);
    expect(await main(['log', 'verify'], captureIo(dir))).toBe(0);
  });
});

describe('an audit run and its activity log entries are written together (scr)', () => {
  const servers = inject('servers');
  const dirs: string[] = [];
  const schemas: string[] = [];
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (schemas.length && servers.postgres) {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        for (const s of schemas) await client.query(`drop schema if exists "${s}" cascade`);
      } finally {
        await client.end();
      }
    }
  });

  for (const backend of ['sqlite', 'postgres'] as const) {
    it.skipIf(backend === 'postgres' && !servers.postgres)(`${backend}: when the log refuses the entries, the run is not stored either`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-scr-tx-'));
      dirs.push(dir);
      const schema = `scr_tx_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      if (backend === 'postgres') schemas.push(schema);
      const loc = backend === 'sqlite' ? { url: '.steward/state.db', baseDir: dir } : { url: PG_URL, baseDir: dir, schema };
      const store = await openStateStore(loc);
      await store.appendActivity({ actor: 'ops', action: 'scr.first', subject: { runId: 'x' }, details: {} });
      // A last entry cut mid-write: nothing can be chained to it until `log repair`.
      if (backend === 'sqlite') {
        const raw = new Database(path.join(dir, '.steward', 'state.db'));
        raw.prepare('update activity_log set hash = null').run();
        raw.close();
      } else {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`update "${schema}".activity_log set hash = null`);
        await client.end();
      }
      await store.close();
      const history = await openAuditHistory(loc.url, loc.baseDir, backend === 'postgres' ? { schema } : {});
      try {
        await expect(history.recordAudit(stateReport())).rejects.toBeInstanceOf(StateError);
        expect(await history.store.listRuns()).toEqual([]);
      } finally {
        await history.close();
      }
    });
  }
});
