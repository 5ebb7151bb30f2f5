/**
 * Data-subject request cases, end to end.
 *
 * Through the CLI (SQLite state store, a small SQLite shop as the source): open
 * → list (the deadline, month end clamped) → run refused while unverified →
 * verify → run an access request → completed, with the package on disk and its
 * hash in the case; an identifier that matches nobody completes with "no data
 * found"; a phone shared by two people waits for an identifier, and completes
 * once one is added; erasure runs `subject erase` to completed, rectification
 * `subject correct` with the value given to the run; a
 * source that is down fails its step and the same command completes once it is
 * back; overdue and nearly-due cases are findings of `steward audit --json`; no
 * identifier anywhere in the state store's file or the activity log; `request
 * purge` crypto-shreds a closed case (its key destroyed, its captured
 * ciphertext undecryptable) while its evidence stays.
 *
 * On both state store backends (SQLite, PostgreSQL) through the library: the
 * same lifecycle, a source that goes down between the find and the access step
 * (the re-run runs only the access step), extension and refusal rules,
 * shredding by time, and a scan of every state table for the identifiers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { unzipSync, strFromU8 } from 'fflate';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.js';
import { loadConfig, type LoadedConfig } from '../../src/config/index.js';
import { createFieldEncryption } from '../../src/crypto/field.js';
import { openKeyring, type Keyring } from '../../src/crypto/keyring.js';
import { CryptoError, UsageError } from '../../src/errors.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { openSource, type Source } from '../../src/sources/index.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { extendRequest, getRequest, openRequest, refuseRequest, RequestStepError, runRequest, shredRequests, verifyRequest } from '../../src/subjects/cases.js';
import { discoverSubjectMap } from '../../src/subjects/discover.js';
import { parseIdentifiers } from '../../src/subjects/identifiers.js';
import { subjectRequestSteps } from '../../src/subjects/request-steps.js';
import { captureIo } from '../helpers/io.js';
import { PG_URL, inject } from '../helpers/servers.js';

const servers = inject('servers');
const KEY = randomBytes(32).toString('base64');
/** Every spelling of the people's identifiers that must never be stored. */
const SECRETS = ['alice@example.com', 'Alice@Example.com', 'bob@example.com', 'carol@example.com', 'nobody@example.com', '+442079460002', '7946 0002', 'dave@example.com'];

const dayMs = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
const today = () => isoDay(Date.now());

/** A shop of 30 customers: Alice (1), Bob (2) and Carol (3) who share a phone, orders and tickets. */
function makeShop(dir: string): string {
  const file = path.join(dir, 'shop.db');
  const db = new Database(file);
  db.exec(`create table customers (id integer primary key, email text, phone text, full_name text);
    create table orders (id integer primary key, customer_id integer references customers(id), total integer);`);
  const ins = db.prepare('insert into customers values (?, ?, ?, ?)');
  ins.run(1, 'alice@example.com', '+44 20 7946 0001', 'Alice Archer');
  ins.run(2, 'bob@example.com', '+44 20 7946 0002', 'Bob Baker');
  ins.run(3, 'carol@example.com', '020 7946 0002', 'Carol Baker');
  for (let i = 10; i < 37; i++) ins.run(i, `p${i}@example.org`, `+44 20 7946 1${String(i).padStart(3, '0')}`, `Person ${i}`);
  db.exec('insert into orders values (10, 1, 5), (11, 1, 7), (12, 2, 9)');
  db.close();
  return file;
}

function writeConfig(dir: string, extra: string[] = []): void {
  writeFileSync(path.join(dir, 'steward.yml'), ['sources:', `  - { name: shop, kind: sqlite, url: ${JSON.stringify(`sqlite://${path.join(dir, 'shop.db')}`)}, owner: shop-team }`, 'subjects:', '  defaultCountry: GB', ...extra].join('\n'));
}

const textOf = (file: string) => (existsSync(file) ? readFileSync(file).toString('latin1') : '');

describe('steward request (CLI, SQLite state store, SQLite source)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-req-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const stateFile = path.join(dir, '.steward', 'state.db');
  const run = async (...args: string[]) => {
    const o = captureIo(dir);
    const code = await main(args, { ...o, env: { NO_COLOR: '1', STEWARD_MASTER_KEY: KEY } });
    return { code, out: o.out(), err: o.err() };
  };
  const json = async (...args: string[]) => {
    const r = await run(...args, '--json');
    expect(r.code, r.err + r.out).toBe(0);
    return JSON.parse(r.out) as Record<string, any>;
  };
  const open = async (...args: string[]) => (await json('request', 'open', ...args)).request as { id: string; dueOn: string; state: string; kind: string; jurisdiction: string };
  const show = async (id: string) => (await json('request', 'show', id)).request as Record<string, any>;
  let accessId = '';

  beforeAll(async () => {
    makeShop(dir);
    writeConfig(dir);
    const audit = await run('audit');
    expect(audit.code, audit.err).toBe(0);
  });

  it('open → list with the deadline → run refused while unverified → verify → run an access request → completed', async () => {
    const a = await open('--kind', 'know', '--email', ' Alice@Example.com ', '--received', '2025-01-31');
    expect(a).toMatchObject({ kind: 'access', jurisdiction: 'gdpr', state: 'received', dueOn: '2025-02-28' });
    accessId = a.id;
    const c = await open('--kind', 'find', '--email', 'dave@example.com', '--received', '2025-12-01', '--jurisdiction', 'ccpa');
    expect(c.dueOn).toBe('2026-01-15');

    const listed = (await json('request', 'list')).requests as { id: string; dueOn: string; receivedOn: string; deadline: { status: string; daysLeft: number } }[];
    const mine = listed.find((x) => x.id === a.id)!;
    expect(mine).toMatchObject({ receivedOn: '2025-01-31', dueOn: '2025-02-28', deadline: { status: 'overdue' } });
    expect(mine.deadline.daysLeft).toBe(Math.round((Date.parse('2025-02-28') - Date.parse(today())) / dayMs));
    const human = await run('request', 'list');
    expect(human.code).toBe(0);
    expect(human.out).toMatch(new RegExp(`${a.id}\\s+access\\s+received\\s+2025-01-31\\s+2025-02-28\\s+gdpr\\s+\\d+ days overdue`));
    expect(human.out).not.toContain('example.com');

    const refused = await run('request', 'run', a.id, '--plaintext');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`${a.id} is not verified`);
    expect(refused.err).toContain(`steward request verify ${a.id}`);
    expect((await show(a.id)).steps).toEqual([]);

    expect((await run('request', 'verify', a.id, '--method', 'ID document', '--by', 'support desk')).code).toBe(0);
    const again = await run('request', 'verify', a.id, '--method', 'ID document', '--by', 'support desk');
    expect(again.code).toBe(2);
    expect(again.err).toContain('already verified');

    const pkg = path.join(dir, 'alice.zip');
    const done = await run('request', 'run', a.id, '--plaintext', '--out', pkg);
    expect(done.code, done.err).toBe(0);
    expect(done.out).toContain(`${a.id} completed`);
    const files = unzipSync(readFileSync(pkg));
    const doc = JSON.parse(strFromU8(files['export.json']!)) as { request: string; sources: { source: string; tables: { table: string; rows: { id: number }[] }[] }[] };
    expect(doc.request).toBe(a.id);
    const tables = Object.fromEntries(doc.sources[0]!.tables.map((t) => [t.table, t.rows.map((r) => r.id).sort()]));
    expect(tables).toEqual({ customers: [1], orders: [10, 11] });

    const detail = await show(a.id);
    expect(detail).toMatchObject({ state: 'completed', outcome: 'found', identifiers: ['a***@example.com'], verification: { method: 'ID document', by: 'support desk' } });
    expect(detail.steps.map((s: any) => [s.step, s.status, s.outcome])).toEqual([
      ['find', 'done', 'found'],
      ['access', 'done', 'done'],
    ]);
    expect(detail.steps[0].counts).toMatchObject({ rows: 3, tables: 2, sources: 1, mentions: 0 });
    expect(detail.steps[1].details).toMatchObject({ file: 'alice.zip', encrypted: false, sha256: createHash('sha256').update(readFileSync(pkg)).digest('hex') });
    expect(detail.shredDueAt.slice(0, 10)).toBe(isoDay(Date.parse(detail.closedAt) + 30 * dayMs));

    const twice = await run('request', 'run', a.id);
    expect(twice.code).toBe(0);
    expect(twice.out).toContain('already completed');
    expect((await show(a.id)).steps).toHaveLength(2);
  });

  it('an identifier that matches nobody completes, with "no data found" recorded', async () => {
    const n = await open('--kind', 'access', '--email', 'nobody@example.com', '--verified-by', 'support: ID checked');
    expect(n.state).toBe('verified');
    const r = await run('request', 'run', n.id, '--plaintext');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('no data found');
    const d = await show(n.id);
    expect(d).toMatchObject({ state: 'completed', outcome: 'no-data' });
    expect(d.steps.map((s: any) => [s.step, s.status, s.outcome])).toEqual([
      ['find', 'done', 'no-data'],
      ['access', 'skipped', 'no-data'],
    ]);
    expect(existsSync(path.join(dir, 'requests', `${n.id}-access.zip`))).toBe(false);
  });

  it('a phone two people share waits for an identifier; once one is added the case completes', async () => {
    const c = await open('--kind', 'find', '--phone', '+44 20 7946 0002', '--verified-by', 'support');
    const first = await run('request', 'run', c.id);
    expect(first.code, first.err).toBe(1);
    expect(first.out).toContain('waits for an identifier');
    expect(await show(c.id)).toMatchObject({ state: 'awaiting-identifier' });
    const blocked = await run('request', 'run', c.id);
    expect(blocked.code).toBe(2);
    expect(blocked.err).toContain(`steward request add-identifier ${c.id}`);

    const added = await run('request', 'add-identifier', c.id, '--email', 'bob@example.com');
    expect(added.code, added.err).toBe(0);
    expect(await show(c.id)).toMatchObject({ state: 'in-progress', identifierKinds: { phone: 1, email: 1 } });
    const done = await run('request', 'run', c.id);
    expect(done.code, done.err).toBe(0);
    const d = await show(c.id);
    expect(d).toMatchObject({ state: 'completed', outcome: 'found' });
    expect(d.steps.map((s: any) => [s.step, s.status, s.identifiersVersion])).toEqual([
      ['find', 'ambiguous', 1],
      ['find', 'done', 2],
    ]);
    // Bob's row only: Carol shares the phone but not the email.
    expect(d.steps[1].counts).toMatchObject({ rows: 2, tables: 2 });
  });

  it('erasure runs its find step, then the erasure (subject erase) to completed; the row is gone, the others stay', async () => {
    const e = await open('--kind', 'delete', '--email', 'carol@example.com', '--verified-by', 'support');
    const r = await run('request', 'run', e.id);
    expect(r.code, r.err + r.out).toBe(0);
    const d = await show(e.id);
    expect(d.state).toBe('completed');
    expect(d.steps.map((s: any) => [s.step, s.status])).toEqual([
      ['find', 'done'],
      ['erase', 'done'],
    ]);
    expect(d.steps[1].counts).toMatchObject({ delete: 1 });
    const db = new Database(path.join(dir, 'shop.db'), { readonly: true });
    const ids = (db.prepare('select id from customers order by id').all() as { id: number }[]).map((x) => x.id);
    db.close();
    expect(ids).not.toContain(3);
    expect(ids).toContain(2);
    expect(ids.length).toBe(29);
  });

  it('rectification needs --set at run time (never stored with the case), then sets the value and completes', async () => {
    const c = await open('--kind', 'correct', '--email', 'p10@example.org', '--verified-by', 'support');
    const missing = await run('request', 'run', c.id);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--set');
    expect((await show(c.id)).state).toBe('in-progress');
    const r = await run('request', 'run', c.id, '--set', 'contact.email=p10@new.example');
    expect(r.code, r.err + r.out).toBe(0);
    expect((await show(c.id)).state).toBe('completed');
    const db = new Database(path.join(dir, 'shop.db'), { readonly: true });
    expect((db.prepare('select email from customers where id = 10').get() as { email: string }).email).toBe('p10@new.example');
    db.close();
    expect(textOf(path.join(dir, '.steward', 'state.db')).includes('p10@new.example')).toBe(false);
  });

  it('a source that is down fails its step, the case stays in progress with the error; the same command completes once it is back', async () => {
    const a = await open('--kind', 'access', '--email', 'bob@example.com', '--verified-by', 'support');
    const shop = path.join(dir, 'shop.db');
    renameSync(shop, `${shop}.away`);
    let r;
    try {
      r = await run('request', 'run', a.id, '--plaintext');
    } finally {
      renameSync(`${shop}.away`, shop);
    }
    expect(r.code).toBe(4);
    expect(r.err).toContain(`${a.id}: the find step failed`);
    let d = await show(a.id);
    expect(d.state).toBe('in-progress');
    expect(d.steps.map((s: any) => [s.step, s.status, s.errorCode])).toEqual([['find', 'failed', 'SOURCE_NOT_FOUND']]);
    expect(d.steps[0].errorMessage).toContain('the file does not exist');
    const list = await run('request', 'list');
    expect(list.out).toMatch(new RegExp(`${a.id}\\s+access\\s+in-progress`));

    const back = await run('request', 'run', a.id, '--plaintext');
    expect(back.code, back.err).toBe(0);
    d = await show(a.id);
    expect(d.state).toBe('completed');
    expect(d.steps.map((s: any) => [s.step, s.status])).toEqual([
      ['find', 'failed'],
      ['find', 'done'],
      ['access', 'done'],
    ]);
    expect(existsSync(path.join(dir, 'requests', `${a.id}-access.zip`))).toBe(true);
  });

  it('overdue and nearly-due cases are findings of steward audit --json; closed ones are not', async () => {
    const late = await open('--kind', 'erasure', '--email', 'dave@example.com', '--received', '2025-06-01');
    // CCPA, received 42 days ago: due in 3 days.
    const soon = await open('--kind', 'know', '--jurisdiction', 'ccpa', '--email', 'dave@example.com', '--received', isoDay(Date.now() - 42 * dayMs));
    const report = await json('audit');
    const found = (report.findings as { rule: string; severity: string; location: { source: string; table: string }; message: string }[]).filter((f) => f.rule.startsWith('subjects.request-'));
    const byCase = Object.fromEntries(found.map((f) => [f.location.table, [f.rule, f.severity]]));
    expect(byCase[late.id]).toEqual(['subjects.request-overdue', 'high']);
    expect(byCase[soon.id]).toEqual(['subjects.request-due-soon', 'medium']);
    expect(byCase[accessId]).toBeUndefined();
    expect(found.every((f) => f.location.source === 'data-subject requests')).toBe(true);
    expect(JSON.stringify(found)).not.toContain('dave@');
    // Refused, it is no longer overdue: the next audit lists the finding as fixed.
    expect((await run('request', 'refuse', late.id, '--reason', 'duplicate of an earlier case')).code).toBe(0);
    const next = await json('audit');
    expect(next.findings.some((f: any) => f.location.table === late.id)).toBe(false);
    expect(next.diff.fixed.map((f: any) => f.location.table)).toContain(late.id);
  });

  it('no identifier in plain text anywhere in the state store file or the activity log', async () => {
    const log = await run('log', '--json');
    expect(log.code).toBe(0);
    expect(log.out).toContain('request.opened');
    const haystacks = { state: textOf(stateFile), wal: textOf(`${stateFile}-wal`), log: log.out };
    expect(haystacks.state.length).toBeGreaterThan(0);
    for (const [where, text] of Object.entries(haystacks)) for (const s of SECRETS) expect(text.includes(s), `${s} in ${where}`).toBe(false);
    const db = new Database(stateFile, { readonly: true });
    try {
      const rows = db.prepare('select identifiers_ct from request_cases').all() as { identifiers_ct: string | null }[];
      expect(rows.length).toBeGreaterThanOrEqual(8);
      for (const r of rows) expect(r.identifiers_ct).toMatch(/^stw1:/);
    } finally {
      db.close();
    }
  });

  it('purge crypto-shreds a closed case: its key is destroyed, the captured ciphertext no longer decrypts, the evidence stays', async () => {
    const raw = () => new Database(stateFile, { readonly: true });
    let db = raw();
    const before = db.prepare('select identifiers_ct, key_id from request_cases where id = ?').get(accessId) as { identifiers_ct: string; key_id: string };
    db.close();
    const openCase = await open('--kind', 'find', '--email', 'alice@example.com');
    const refusedOpen = await run('request', 'purge', openCase.id);
    expect(refusedOpen.code).toBe(2);
    expect(refusedOpen.err).toContain('needed until the case is closed');

    const r = await run('request', 'purge', accessId);
    expect(r.code, r.err).toBe(0);
    const d = await show(accessId);
    expect(d).toMatchObject({ state: 'completed', outcome: 'found', identifiers: null, identifierKinds: { email: 1 }, receivedOn: '2025-01-31' });
    expect(d.shreddedAt).toBeTruthy();
    expect(d.steps).toHaveLength(2);
    db = raw();
    try {
      expect(db.prepare('select identifiers_ct from request_cases where id = ?').get(accessId)).toEqual({ identifiers_ct: null });
      expect(db.prepare('select count(*) as n from request_lookups where case_id = ?').get(accessId)).toEqual({ n: 0 });
      expect(db.prepare('select state, wrapped from data_keys where source = ? and column_name = ?').all('@requests', accessId)).toEqual([{ state: 'destroyed', wrapped: null }]);
    } finally {
      db.close();
    }
    const store = await openStateStore({ url: stateFile, baseDir: dir });
    try {
      const keyring = await openKeyring({ store, master: { env: 'K', environment: { K: KEY } } });
      const e = await createFieldEncryption(keyring)
        .decrypt(before.identifiers_ct, { source: '@requests', table: 'request_cases', column: accessId, rowKey: accessId })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CryptoError);
      expect((e as CryptoError).code).toBe('CRYPTO_KEY_DESTROYED');
      // Time-based: 31 days after closing, every closed case is shredded; open ones are not.
      const shredded = await shredRequests({ store, now: new Date(Date.now() + 31 * dayMs) });
      expect(shredded.length).toBeGreaterThanOrEqual(3);
      expect(shredded).not.toContain(openCase.id);
      expect((await store.requests.get(openCase.id))!.identifiersCiphertext).toMatch(/^stw1:/);
    } finally {
      await store.close();
    }
    const log = await json('log', '--action', 'request.shredded');
    expect(JSON.stringify(log)).toContain(accessId);
  });
});

// ---- the state store backends, through the library

type Backend = 'sqlite' | 'postgres';
const RUN_TAG = `${process.pid}_${randomBytes(3).toString('hex')}`;

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  describe.skipIf(backend === 'postgres' && !servers.postgres)(`request cases on the ${backend} state store`, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `steward-req-${backend}-`));
    const schema = `steward_req_${RUN_TAG}`;
    let store: StateStore;
    let keyring: Keyring;
    let loaded: LoadedConfig;
    const opened: Source[] = [];
    const NOW = new Date();

    /** Steward's steps on the shop, with a context opened on first use (as `steward request run` does). */
    const stepsOf = () =>
      subjectRequestSteps({
        config: loaded.config,
        context: async () => {
          const cfg = loaded.config.sources[0]!;
          const source = await openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url }, { readonly: true, command: 'subject' });
          opened.push(source);
          const sources = new Map([[cfg.name, source]]);
          const d = await discoverSubjectMap({
            config: loaded.config,
            sources,
            store,
            freshInventory: async (name) => (await runAudit({ config: loaded.config, patterns: loaded.patterns, sources: [name], openSource: (c) => openSource(c, { readonly: true }) })).sources.flatMap((s) => s.inventory),
          });
          return { map: d.map, schemas: d.schemas, sources };
        },
        accessOut: (id) => path.join(dir, `${id}.zip`),
        plaintext: true,
      });
    const ids = (email: string) => parseIdentifiers({ email: [email] });

    beforeAll(async () => {
      makeShop(dir);
      writeConfig(dir);
      loaded = await loadConfig({ cwd: dir, env: {} });
      store = backend === 'sqlite' ? await openStateStore({ url: path.join(dir, 'state.db'), baseDir: dir }) : await openStateStore({ url: PG_URL, baseDir: dir, schema });
      keyring = await openKeyring({ store, master: { env: 'K', environment: { K: KEY } } });
    });
    afterAll(async () => {
      for (const s of opened) await s.close().catch(() => undefined);
      await store?.close();
      if (backend === 'postgres') {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`drop schema if exists "${schema}" cascade`);
        await c.end();
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('migrates to 0006 and runs an access case to completion', async () => {
      expect(await store.migrations()).toContain('0006_request_cases');
      const { request } = await openRequest({ store, keyring, kind: 'access', identifiers: ids('alice@example.com'), received: '2025-03-31', now: NOW });
      expect(request).toMatchObject({ state: 'received', dueOn: '2025-04-30' });
      await expect(runRequest({ store, keyring, id: request.id, steps: stepsOf() })).rejects.toThrow(/is not verified/);
      await verifyRequest({ store, id: request.id, method: 'account login', by: 'portal' });
      const r = await runRequest({ store, keyring, id: request.id, steps: stepsOf() });
      expect(r.status).toBe('completed');
      expect(r.ran.map((s) => [s.step, s.status])).toEqual([
        ['find', 'done'],
        ['access', 'done'],
      ]);
      expect(existsSync(path.join(dir, `${request.id}.zip`))).toBe(true);
      const d = await getRequest({ store, id: request.id, keyring });
      expect(d.identifiers).toEqual(['a***@example.com']);
    });

    it('a source that goes down between the find and the access step: in progress, and the re-run runs only the access step', async () => {
      const { request } = await openRequest({ store, keyring, kind: 'access', identifiers: ids('bob@example.com'), verification: { by: 'support', method: 'ID document' } });
      const shop = path.join(dir, 'shop.db');
      const real = stepsOf();
      const later = stepsOf();
      const steps = {
        ...real,
        find: async (i: Parameters<typeof real.find>[0]) => {
          const out = await real.find(i);
          renameSync(shop, `${shop}.away`); // the database goes away after the find
          return out;
        },
        access: later.access,
      };
      let err: unknown;
      try {
        await runRequest({ store, keyring, id: request.id, steps });
      } catch (e) {
        err = e;
      } finally {
        renameSync(`${shop}.away`, shop);
      }
      expect(err).toBeInstanceOf(RequestStepError);
      expect(err).toMatchObject({ code: 'SOURCE_NOT_FOUND', exitCode: 4, step: 'access', caseId: request.id });
      let d = await getRequest({ store, id: request.id });
      expect(d.state).toBe('in-progress');
      expect(d.steps.map((s) => [s.step, s.status, s.errorCode])).toEqual([
        ['find', 'done', null],
        ['access', 'failed', 'SOURCE_NOT_FOUND'],
      ]);
      const r = await runRequest({ store, keyring, id: request.id, steps: stepsOf() });
      expect(r.status).toBe('completed');
      expect(r.ran.map((s) => s.step)).toEqual(['access']);
      d = await getRequest({ store, id: request.id });
      expect(d.steps.map((s) => s.status)).toEqual(['done', 'failed', 'done']);
    });

    it('one runner at a time: a live runner is refused; a dead one is taken over and its running step marked interrupted', async () => {
      const { request } = await openRequest({ store, keyring, kind: 'find', identifiers: ids('alice@example.com'), verification: { by: 'support' } });
      const at = new Date().toISOString();
      // pid 1 lives on every host; a pid above the kernel's limit never does.
      await store.requests.change(request.id, {}, { runner: `${os.hostname()}:1`, runnerAt: at, state: 'in-progress' }, []);
      await expect(runRequest({ store, keyring, id: request.id, steps: stepsOf() })).rejects.toThrow(new RegExp(`${request.id} is being run by ${os.hostname()}:1`));
      const dead = `${os.hostname()}:${2 ** 22 + 1}`;
      await store.requests.change(request.id, {}, { runner: dead }, []);
      await store.requests.startStep(request.id, 'find', 1, at, dead);
      const r = await runRequest({ store, keyring, id: request.id, steps: stepsOf() });
      expect(r.status).toBe('completed');
      const d = await getRequest({ store, id: request.id });
      expect(d.steps.map((x) => [x.step, x.status, x.errorCode])).toEqual([
        ['find', 'interrupted', 'INTERRUPTED'],
        ['find', 'done', null],
      ]);
      expect((await store.requests.get(request.id))!.runner).toBeNull();
    });

    it('extension once, before the first deadline; refusal closes; a closed case changes no more', async () => {
      const received = isoDay(Date.now() - 10 * dayMs);
      const { request } = await openRequest({ store, keyring, kind: 'erasure', identifiers: ids('carol@example.com'), received });
      const extended = await extendRequest({ store, id: request.id, reason: 'complex: four systems' });
      // Three calendar months from receipt, the day clamped to the month's last.
      const [y, m, dd] = received.split('-').map(Number) as [number, number, number];
      const last = new Date(Date.UTC(y, m - 1 + 4, 0)).getUTCDate();
      expect(extended.dueOn).toBe(isoDay(Date.UTC(y, m - 1 + 3, Math.min(dd, last))));
      expect(extended.originalDueOn < extended.dueOn).toBe(true);
      expect(extended.extension).toMatchObject({ reason: 'complex: four systems' });
      await expect(extendRequest({ store, id: request.id, reason: 'again' })).rejects.toThrow(/already extended/);
      const late = await openRequest({ store, keyring, kind: 'access', identifiers: ids('dave@example.com'), received: '2025-01-01', jurisdiction: 'ccpa' });
      await expect(extendRequest({ store, id: late.request.id, reason: 'too late' })).rejects.toThrow(/was due on 2025-02-15/);
      await expect(refuseRequest({ store, id: request.id, reason: 'alice@example.com asked' })).rejects.toThrow(/looks like personal data/);
      const refused = await refuseRequest({ store, id: request.id, reason: 'withdrawn by the requester' });
      expect(refused).toMatchObject({ state: 'refused', refusalReason: 'withdrawn by the requester' });
      await expect(refuseRequest({ store, id: request.id, reason: 'twice' })).rejects.toBeInstanceOf(UsageError);
      await expect(verifyRequest({ store, id: request.id, method: 'x', by: 'y' })).rejects.toThrow(/is closed/);
    });

    it('shredding by time destroys the keys of closed cases; open cases keep theirs', async () => {
      const shredded = await shredRequests({ store, now: new Date(Date.now() + 31 * dayMs) });
      expect(shredded.length).toBe(4);
      for (const id of shredded) {
        const d = await getRequest({ store, id, keyring });
        expect(d.identifiers).toBeNull();
        expect(d.shreddedAt).toBeTruthy();
        const keys = await store.keys.listKeys({ scope: { source: '@requests', table: 'request_cases', column: id } });
        expect(keys.map((k) => [k.state, k.wrapped])).toEqual([['destroyed', null]]);
      }
      const open = (await store.requests.list({ states: ['received'] }))[0]!;
      expect((await getRequest({ store, id: open.id, keyring })).identifiers).toEqual(['d***@example.com']);
    });

    it('no identifier in any table of the state store', async () => {
      let text: string;
      if (backend === 'sqlite') {
        text = textOf(path.join(dir, 'state.db')) + textOf(path.join(dir, 'state.db-wal'));
      } else {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        try {
          const tables = (await c.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [schema])).rows.map((r) => r.table_name);
          expect(tables).toEqual(expect.arrayContaining(['request_cases', 'request_lookups', 'request_steps', 'activity_log', 'data_keys']));
          const dumps: string[] = [];
          for (const t of tables) dumps.push(JSON.stringify((await c.query(`select * from "${schema}"."${t}"`)).rows));
          text = dumps.join('\n');
          expect(text).toContain('request.opened');
        } finally {
          await c.end();
        }
      }
      expect(text.length).toBeGreaterThan(0);
      for (const s of SECRETS) expect(text.includes(s), s).toBe(false);
    });
  });
}
