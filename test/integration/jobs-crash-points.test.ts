/**
 * The real jobs on the engine, stopped at every named point of a batch in turn
 * (src/jobs/engine.ts: before/after the write, before/after the checkpoint,
 * before/after the commit), at their first, a middle and their last batch, and
 * resumed: the end state is the same each time.
 * - `migrateColumn` (encrypt with a blind index): every value decrypts to exactly its
 *   original (nothing lost, nothing encrypted twice), every blind index matches.
 * - `applyPolicy` erase: exactly the due rows gone; the certificate counts each once,
 *   and (in key order) has the key hash of an uninterrupted run.
 * - `applyPolicy` archive: the set holds each archived row exactly once and verifies.
 * Deterministic: every point, not a random sample (the SIGKILL tests sample at random).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateColumn } from '../../src/crypto/column-migration.js';
import { createFieldEncryption, type FieldEncryption } from '../../src/crypto/field.js';
import { openKeyring } from '../../src/crypto/keyring.js';
import { generateMasterKeyText, masterKeyFromEnv } from '../../src/crypto/master-key.js';
import { generateRecipient } from '../../src/archive/keys.js';
import { InternalError } from '../../src/errors.js';
import { CRASH_POINTS, type CrashHook, type CrashPoint } from '../../src/jobs/engine.js';
import { applyPolicy, type RetentionCertificate } from '../../src/retention/apply.js';
import { verifyArchiveSet } from '../../src/archive/verify.js';
import type { RetentionPolicy } from '../../src/retention/policy.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { forEachDialect } from '../helpers/dialects.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-jcp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const N = 120;
const BATCH = 25;
const now = new Date('2026-11-27T12:00:00Z');
const due = (id: number) => id % 4 !== 0;
const DUE = Array.from({ length: N }, (_, i) => i + 1).filter(due).length;
const at = (batches: number) => [...new Set([1, Math.ceil(batches / 2), batches])];

class Crash extends InternalError {}
const crashAt = (point: CrashPoint, batch: number): CrashHook => (p, b) => {
  if (p === point && b === batch) throw new Crash(`crash at ${point} of batch ${batch}`);
};

forEachDialect('jobs stopped at every step boundary and resumed (jcp)', (d) => {
  let store: StateStore;
  let fields: FieldEncryption;
  let seq = 0;
  beforeAll(async () => {
    store = await openStateStore({ url: path.join(tmp, `${d.kind}-${d.engine}.db`), baseDir: tmp });
    fields = createFieldEncryption(await openKeyring({ store, master: await masterKeyFromEnv('K', { K: generateMasterKeyText() }) }));
  });
  afterAll(async () => store?.close());

  /** A fresh table `jcp_<n>` (id, email, seen): `seen` is past a 2-year period for the due ids. */
  const table = async (): Promise<string> => {
    const name = `jcp_${seq++}`;
    await d.exec(`create table ${name} (id integer primary key, email varchar(200), email_bidx varchar(200), seen date)`);
    await d.db
      .insertInto(name)
      .values(Array.from({ length: N }, (_, i) => ({ id: i + 1, email: i % 17 === 5 ? null : `Jcp.${i + 1}@Example.org`, seen: due(i + 1) ? '2023-01-15' : '2026-10-01' })))
      .execute();
    return name;
  };
  const ids = async (name: string) => (await d.db.selectFrom(name).select('id').orderBy('id').execute()).map((r) => Number(r.id));

  const encrypt = async (name: string, crash?: CrashHook) => {
    const source = await d.openSource();
    try {
      return await migrateColumn({ source, table: name, column: 'email', operation: 'encrypt', fields, store, actor: 'test', batchSize: BATCH, blindIndex: { column: 'email_bidx', normalize: 'email' }, ...(crash ? { crashAt: crash } : {}) });
    } finally {
      await source.close();
    }
  };

  const policy = (name: string, method: 'erase' | 'archive'): RetentionPolicy => ({ name: `p_${name}`, source: 's', table: name, from: 'seen', period: '2y', method, legalBasis: 'GDPR Art. 5(1)(e)', cascade: [] });
  const apply = async (name: string, method: 'erase' | 'archive', archiveDir: string | null, crash?: CrashHook): Promise<RetentionCertificate> => {
    const source = await d.openSource();
    try {
      return await applyPolicy({ source, store, policy: policy(name, method), index: 0, actor: 'test', now: () => now, batchSize: BATCH, ...(archiveDir ? { archive: { dir: archiveDir, recipients: [reader.publicKey] } } : {}), ...(crash ? { crashAt: crash } : {}) });
    } finally {
      await source.close();
    }
  };
  const reader = generateRecipient();

  for (const point of CRASH_POINTS) {
    it(`encrypt stopped at ${point} of its first, a middle and its last batch: every value encrypted exactly once`, async () => {
      const batches = Math.ceil(N / BATCH);
      for (const batch of at(batches)) {
        const name = await table();
        const original = new Map((await d.db.selectFrom(name).select(['id', 'email']).execute()).map((r) => [Number(r.id), r.email as string | null]));
        await expect(encrypt(name, crashAt(point, batch)), `${point} of batch ${batch}`).rejects.toBeInstanceOf(Crash);
        const done = await encrypt(name);
        expect(done.plan.resumes).not.toBeNull();
        expect(done.counts.remaining).toBe(0);
        const scope = done.plan.scope;
        const cipher = await fields.column(scope);
        const bidx = await fields.blindIndexer(scope, { normalize: 'email' });
        for (const r of await d.db.selectFrom(name).select(['id', 'email', 'email_bidx']).execute()) {
          const was = original.get(Number(r.id));
          if (was === null) {
            expect(r.email).toBeNull();
            continue;
          }
          const plain = cipher.decryptSync(String(r.email), Number(r.id));
          expect(plain).toBe(was); // nothing lost, nothing encrypted twice
          expect(r.email_bidx).toBe(bidx.index(plain));
        }
        expect((await store.jobs.list(1000)).filter((j) => j.status === 'running' && j.table === name)).toEqual([]);
      }
      expect((await store.verifyActivityLog()).ok).toBe(true);
    });

    it(`retention erase stopped at ${point} of its first, a middle and its last batch: the due rows gone, each certified once`, async () => {
      const reference = await apply(await table(), 'erase', null);
      expect(reference.rows).toBe(DUE);
      for (const batch of at(reference.batches)) {
        const name = await table();
        await expect(apply(name, 'erase', null, crashAt(point, batch)), `${point} of batch ${batch}`).rejects.toBeInstanceOf(Crash);
        const cert = await apply(name, 'erase', null);
        expect(await ids(name)).toEqual(Array.from({ length: N }, (_, i) => i + 1).filter((id) => !due(id)));
        expect(cert.rows).toBe(DUE); // every erased row counted exactly once, across the stop
        expect(cert.remaining).toBe(0);
        // Key order cuts the same batches however often it stops: the same chain of key digests.
        // (Postgres erases by block range, whose spans adapt as they go: a resumed run cuts other ones.)
        if (d.kind !== 'postgres') expect(cert.keysSha256).toBe(reference.keysSha256);
        const certs = [];
        for await (const b of store.activityBatches({ action: 'retention.certificate' })) certs.push(...b.filter((e) => (e.details as { policy?: string }).policy === `p_${name}`));
        expect(certs).toHaveLength(1);
      }
    });

    it(`retention archive stopped at ${point} of its first, a middle and its last batch: each row in the set exactly once, then gone`, async () => {
      const dir = mkdtempSync(path.join(tmp, `arch-${d.kind}-`));
      const reference = await apply(await table(), 'archive', dir);
      for (const batch of at(reference.batches)) {
        const name = await table();
        await expect(apply(name, 'archive', dir, crashAt(point, batch)), `${point} of batch ${batch}`).rejects.toBeInstanceOf(Crash);
        const cert = await apply(name, 'archive', dir);
        expect(cert.rows).toBe(DUE);
        expect(await ids(name)).toEqual(Array.from({ length: N }, (_, i) => i + 1).filter((id) => !due(id)));
        const v = await verifyArchiveSet(cert.archive!.dir, { privateKey: reader.identity });
        expect(v.rows).toBe(DUE); // decrypted, counted, no key twice (verify checks)
        expect(v.digest).toBe(cert.archive!.digest);
      }
    });
  }
});
