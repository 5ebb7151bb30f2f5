/**
 * The hash-chained activity log on SQLite and real PostgreSQL: every kind of
 * tampering, done directly with SQL on the store, is caught at the right entry.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors.js';
import { appendActivity, checkpoint, checkpointSignatureValid, entryHash, exportCheckpoint, verifyActivityLog, verifyCheckpoint } from '../../src/state/activity-log.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { inject, PG_URL } from '../helpers/servers.js';

const backends = ['sqlite', 'postgres'] as const;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-log-'));
const schemas: string[] = [];
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  if (schemas.length && inject('servers').postgres) {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const s of schemas) await c.query(`drop schema if exists "${s}" cascade`);
    await c.end();
  }
});

async function freshStore(backend: (typeof backends)[number]): Promise<StateStore> {
  if (backend === 'sqlite') return openStateStore({ url: path.join(tmp, `${randomBytes(4).toString('hex')}.db`), baseDir: tmp });
  const schema = `steward_t_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
  const store = await openStateStore({ url: PG_URL, baseDir: tmp, schema });
  schemaOf.set(store, schema);
  return store;
}

const schemaOf = new WeakMap<StateStore, string>();

/** Raw SQL on the store's database through a separate connection, as an attacker with database access would. */
async function tamper(store: StateStore, statement: string): Promise<void> {
  const schema = schemaOf.get(store);
  if (!schema) {
    const db = new Database(store.location);
    try {
      db.exec(statement);
    } finally {
      db.close();
    }
    return;
  }
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`set search_path to "${schema}"`);
    await c.query(statement);
  } finally {
    await c.end();
  }
}

async function seed(store: StateStore, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await store.appendActivity({ actor: 'test', action: 'audit.run', subject: { runId: `run-${i}` }, details: { n: i, findings: { high: i % 3 } } });
  }
}

for (const backend of backends) {
  describe.skipIf(backend === 'postgres' && !inject('servers').postgres)(`${backend}: activity log`, () => {
    it('an intact log verifies, and each entry links to the one before', async () => {
      const store = await freshStore(backend);
      await seed(store, 5);
      const r = await store.verifyActivityLog();
      expect(r).toMatchObject({ ok: true, entries: 5, lastSeq: 5 });
      const batches: number[][] = [];
      for await (const b of store.activityBatches({ batch: 2 })) batches.push(b.map((e) => e.seq));
      expect(batches).toEqual([[1, 2], [3, 4], [5]]);
      await store.close();
    });

    const cases: [string, string, number, string][] = [
      ['changed detail', `update activity_log set details_json = '{"n":3,"findings":{"high":9}}' where seq = 3`, 3, 'changed'],
      ['removed entry', `delete from activity_log where seq = 3`, 3, 'removed'],
      ['removed last entry is not visible without a checkpoint', `delete from activity_log where seq = 6`, -1, 'ok'],
      ['reordered entries', `update activity_log set seq = case when seq = 3 then 4 when seq = 4 then 3 else seq end where seq in (3, 4)`, 3, 'reordered'],
      ['last entry cut mid-write', `update activity_log set hash = null where seq = 6`, 6, 'truncated'],
      ['prev_hash rewritten', `update activity_log set prev_hash = '${'f'.repeat(64)}' where seq = 2`, 2, 'changed'],
    ];
    for (const [title, statement, seq, reason] of cases) {
      it(`catches: ${title}`, async () => {
        const store = await freshStore(backend);
        await seed(store, 6);
        // Move seq aside first where a swap would collide with the primary key.
        if (reason === 'reordered') {
          await tamper(store, 'update activity_log set seq = seq + 100 where seq in (3, 4)');
          await tamper(store, 'update activity_log set seq = 4 where seq = 103');
          await tamper(store, 'update activity_log set seq = 3 where seq = 104');
        } else {
          await tamper(store, statement);
        }
        const r = await store.verifyActivityLog();
        if (reason === 'ok') expect(r.ok).toBe(true);
        else expect(r.firstBroken).toMatchObject({ seq, reason });
        await store.close();
      });
    }

    it('catches a forged entry inserted in the middle, even with a correctly computed hash', async () => {
      const store = await freshStore(backend);
      await seed(store, 5);
      const h2 = (await store.activityHash(2))!;
      await tamper(store, 'update activity_log set seq = seq + 100 where seq >= 3');
      await tamper(store, 'update activity_log set seq = seq - 99 where seq >= 103');
      const forged = { seq: 3, at: new Date().toISOString(), actor: 'mallory', action: 'audit.run', subject: {}, details: { forged: true } };
      await tamper(store, 
        `insert into activity_log (seq, at, actor, action, subject_json, details_json, prev_hash, hash) values (3, '${forged.at}', 'mallory', 'audit.run', '{}', '{"forged":true}', '${h2}', '${entryHash(h2, forged)}')`,
      );
      const r = await store.verifyActivityLog();
      expect(r.firstBroken).toMatchObject({ seq: 3, reason: 'inserted' });
      await store.close();
    });

    it('refuses to chain onto a damaged last entry, and writes nothing', async () => {
      const store = await freshStore(backend);
      await seed(store, 2);
      await tamper(store, 'update activity_log set hash = null where seq = 2');
      await expect(store.appendActivity({ actor: 't', action: 'x', subject: {}, details: {} })).rejects.toThrow(/last entry \(2\) is incomplete/);
      const r = await store.verifyActivityLog();
      expect(r.entries).toBe(2);
      await store.close();
    });

    it('refuses personal data that a caller puts into an entry, and writes nothing', async () => {
      const store = await freshStore(backend);
      await seed(store, 1);
      await expect(store.appendActivity({ actor: 't', action: 'dsr.export', subject: { email: 'jane.doe@example.com' }, details: {} })).rejects.toThrow(InternalError);
      const err = await appendActivity(store, { actor: 't', action: 'dsr.export', subject: {}, details: { rows: [{ card: '4111 1111 1111 1111' }] } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InternalError);
      expect((err as Error).message).toMatch(/details\.rows\[0\]\.card holds a value classified as financial\.card/);
      expect((err as Error).message).not.toContain('4111 1111 1111 1111');
      expect(await verifyActivityLog(store)).toMatchObject({ ok: true, entries: 1 });
      await store.close();
    });

    it('catches a forged entry inserted in the middle whose own hash is wrong', async () => {
      const store = await freshStore(backend);
      await seed(store, 5);
      const h2 = (await store.activityHash(2))!;
      await tamper(store, 'update activity_log set seq = seq + 100 where seq >= 3');
      await tamper(store, 'update activity_log set seq = seq - 99 where seq >= 103');
      await tamper(store, `insert into activity_log (seq, at, actor, action, subject_json, details_json, prev_hash, hash) values (3, '2026-01-01T00:00:00.000Z', 'mallory', 'audit.run', '{}', '{}', '${h2}', '${'a'.repeat(64)}')`);
      const r = await store.verifyActivityLog();
      expect(r).toMatchObject({ ok: false, entries: 6, firstBroken: { seq: 3, reason: 'inserted' } });
      await store.close();
    });

    it('verifies a log longer than one read batch', async () => {
      const store = await freshStore(backend);
      await seed(store, 2500);
      expect(await store.verifyActivityLog()).toMatchObject({ ok: true, entries: 2500, lastSeq: 2500 });
      await tamper(store, `update activity_log set actor = 'mallory' where seq = 2222`);
      expect(await store.verifyActivityLog()).toMatchObject({ ok: false, entries: 2500, firstBroken: { seq: 2222, reason: 'changed' } });
      await store.close();
    }, 120_000);

    it('exportCheckpoint / verifyCheckpoint: signed, verified, and failing after the log is rewritten', async () => {
      const store = await freshStore(backend);
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      await expect(exportCheckpoint(store, { privateKeyPem })).rejects.toThrow(/empty/);
      await seed(store, 3);
      const cp = await exportCheckpoint(store, { privateKeyPem });
      expect(cp).toMatchObject({ seq: 3, hash: await store.activityHash(3) });
      expect(await verifyCheckpoint(cp, pub, store)).toEqual({ ok: true });
      await seed(store, 1); // appending keeps an old checkpoint valid
      expect(await verifyCheckpoint(cp, pub, store)).toEqual({ ok: true });
      const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(await verifyCheckpoint(cp, other, store)).toMatchObject({ ok: false, reason: 'signature' });
      expect(await verifyCheckpoint({ ...cp, hash: 'b'.repeat(64) }, pub, store)).toMatchObject({ ok: false, reason: 'signature' });
      // Rewrite the log from entry 2 on, consistently: the chain verifies, the checkpoint does not.
      await tamper(store, 'delete from activity_log where seq >= 2');
      await seed(store, 3);
      expect((await store.verifyActivityLog()).ok).toBe(true);
      expect(await verifyCheckpoint(cp, pub, store)).toMatchObject({ ok: false, reason: 'rewritten' });
      await tamper(store, 'delete from activity_log where seq >= 2');
      expect(await verifyCheckpoint(cp, pub, store)).toMatchObject({ ok: false, reason: 'rewritten', detail: expect.stringMatching(/no longer has entry 3/) });
      await store.close();
    });

    it('signed checkpoints: valid for the key, and the log still holds the hash until it is rewritten', async () => {
      const store = await freshStore(backend);
      await seed(store, 4);
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const head = await store.verifyActivityLog();
      const cp = checkpoint({ seq: head.lastSeq, hash: head.lastHash }, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), new Date().toISOString());
      const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(checkpointSignatureValid(cp, pub)).toBe(true);
      expect(checkpointSignatureValid({ ...cp, seq: cp.seq - 1 }, pub)).toBe(false);
      expect(await store.activityHash(cp.seq)).toBe(cp.hash);
      // A consistent rewrite of the tail passes the chain check but not the checkpoint.
      await tamper(store, 'delete from activity_log where seq >= 3');
      await store.appendActivity({ actor: 'mallory', action: 'audit.run', subject: {}, details: {} });
      await store.appendActivity({ actor: 'mallory', action: 'audit.run', subject: {}, details: {} });
      expect((await store.verifyActivityLog()).ok).toBe(true);
      expect(await store.activityHash(cp.seq)).not.toBe(cp.hash);
      await store.close();
    });

    it('concurrent appends from two store handles keep one chain', async () => {
      const a = await freshStore(backend);
      if (backend === 'sqlite') {
        // One store per file per process (better-sqlite3 is synchronous); concurrency is exercised on PostgreSQL.
        await Promise.all(Array.from({ length: 20 }, (_, i) => a.appendActivity({ actor: 'a', action: 'x', subject: { i }, details: {} })));
        expect((await a.verifyActivityLog()).entries).toBe(20);
        await a.close();
        return;
      }
      const schema = schemas[schemas.length - 1]!;
      const b = await openStateStore({ url: PG_URL, baseDir: tmp, schema });
      await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).appendActivity({ actor: 'x', action: 'x', subject: { i }, details: {} })));
      const r = await a.verifyActivityLog();
      expect(r).toMatchObject({ ok: true, entries: 30 });
      await a.close();
      await b.close();
    });

    it('a store from before the activity log migrates, with its runs intact', async () => {
      const store = await freshStore(backend);
      await tamper(store, `insert into audit_runs (id, stage, started_at, finished_at, status, tool_version, config_hash, summary_json) values ('old-run', 'collection', '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z', 'ok', '0.0.1', null, '{}')`);
      await tamper(store, 'drop table activity_log');
      // A store that old predates the keyring (0003) too.
      await tamper(store, 'drop table data_keys');
      await tamper(store, 'drop table master_keys');
      await tamper(store, 'drop table column_jobs');
      await tamper(store, 'drop table legal_holds');
      await tamper(store, 'drop table store_secrets');
      await tamper(store, 'drop table request_lookups');
      await tamper(store, 'drop table request_steps');
      await tamper(store, 'drop table request_cases');
      await tamper(store, `delete from steward_migration where name in ('0002_activity_log', '0003_keys', '0004_column_jobs', '0005_legal_holds', '0006_request_cases')`);
      await store.close();
      const reopened = backend === 'sqlite' ? await openStateStore({ url: store.location, baseDir: tmp }) : await openStateStore({ url: PG_URL, baseDir: tmp, schema: schemas[schemas.length - 1]! });
      expect(await reopened.migrations()).toEqual(['0001_audit_runs', '0002_activity_log', '0003_keys', '0004_column_jobs', '0005_legal_holds', '0006_request_cases']);
      expect((await reopened.getRun('old-run'))?.toolVersion).toBe('0.0.1');
      await reopened.appendActivity({ actor: 't', action: 'x', subject: {}, details: {} });
      expect((await reopened.verifyActivityLog()).ok).toBe(true);
      await reopened.close();
    });
  });
}

for (const backend of backends) {
  describe.skipIf(backend === 'postgres' && !inject('servers').postgres)(`${backend}: repairing a last entry cut mid-write`, () => {
    const filled = async () => {
      const store = await freshStore(backend);
      for (let i = 1; i <= 4; i++) await store.appendActivity({ actor: 'ops', action: 'audit.run', subject: { runId: `r${i}` }, details: { i } });
      return store;
    };

    it('completes the entry, logs the repair, and the chain verifies and takes new entries again', async () => {
      const store = await filled();
      try {
        await tamper(store, 'update activity_log set hash = null where seq = 4');
        expect((await store.verifyActivityLog()).firstBroken).toMatchObject({ seq: 4, reason: 'truncated' });
        await expect(store.appendActivity({ actor: 'ops', action: 'audit.run', subject: {}, details: {} })).rejects.toThrow(/last entry \(4\) is incomplete/);
        // Dry run: says what it would do, changes nothing.
        const dry = await store.repairActivityLog({ actor: 'ops', dryRun: true });
        expect(dry).toMatchObject({ repaired: null, message: expect.stringMatching(/^Would repair: Entry 4/) });
        expect((await store.verifyActivityLog()).ok).toBe(false);
        const done = await store.repairActivityLog({ actor: 'ops', at: '2026-11-27T00:00:00.000Z' });
        expect(done.repaired).toMatchObject({ seq: 5, action: 'log.repaired', subject: { seq: 4 }, details: { action: 'audit.run', storedHash: null } });
        expect(await store.verifyActivityLog()).toMatchObject({ ok: true, entries: 5 });
        await store.appendActivity({ actor: 'ops', action: 'audit.run', subject: {}, details: {} });
        expect(await store.verifyActivityLog()).toMatchObject({ ok: true, entries: 6 });
        // Nothing left to repair.
        expect((await store.repairActivityLog({ actor: 'ops' })).repaired).toBeNull();
      } finally {
        await store.close();
      }
    });

    const refused: [string, string, RegExp][] = [
      ['an entry that links elsewhere (altered, not cut)', `update activity_log set hash = null, prev_hash = '${'1'.repeat(64)}' where seq = 4`, /does not link to the entry before it/],
      ['content cut inside its JSON', `update activity_log set hash = null, details_json = '{"i":' where seq = 4`, /cut inside its content/],
      ['a gap before the last entry', `delete from activity_log where seq = 3; update activity_log set hash = null where seq = 4`, /entries are missing/],
    ];
    for (const [title, statement, message] of refused) {
      it(`refuses to repair ${title}, and changes nothing`, async () => {
        const store = await filled();
        try {
          await tamper(store, statement);
          const before = await store.verifyActivityLog();
          await expect(store.repairActivityLog({ actor: 'ops' })).rejects.toThrow(message);
          expect(await store.verifyActivityLog()).toEqual(before);
        } finally {
          await store.close();
        }
      });
    }
  });
}
