/**
 * The activity log's pure parts: canonical JSON, the hash chain, how
 * verification names the first broken entry, checkpoint signatures, and the
 * no-personal-data guard. (The store-backed log: test/integration/activity-log.test.ts.)
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../src/errors.js';
import {
  GENESIS_HASH,
  assertNoPersonalData,
  canonicalJson,
  checkpoint,
  checkpointSignatureValid,
  entryHash,
  verifyChain,
  type ActivityEntry,
  type StoredActivity,
} from '../../../src/state/activity-log.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x y' } })).toBe('{"a":{"c":"x y","d":[3,{"y":2,"z":1}]},"b":1}');
  });
  it('gives one text per value whatever the key order', () => {
    expect(canonicalJson({ x: 1, y: [1, 2], z: { q: null } })).toBe(canonicalJson({ z: { q: null }, y: [1, 2], x: 1 }));
  });
  it('escapes strings as JSON does, drops undefined members, keeps null', () => {
    expect(canonicalJson({ s: 'a"b\n\u00e9', u: undefined, n: null, t: true })).toBe('{"n":null,"s":"a\\"b\\n\u00e9","t":true}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });
  it('refuses numbers JSON cannot represent', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(InternalError);
    expect(() => canonicalJson({ n: Number.POSITIVE_INFINITY })).toThrow(InternalError);
  });
});

function chain(n: number): StoredActivity[] {
  const out: StoredActivity[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e: ActivityEntry = { seq, at: `2026-01-0${Math.min(seq, 9)}T00:00:00.000Z`, actor: 'ops', action: 'audit.run', subject: { runId: `r${seq}` }, details: { high: seq } };
    const hash = entryHash(prev, e);
    out.push({ ...e, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

async function* batches(rows: readonly StoredActivity[], size = 2): AsyncGenerator<StoredActivity[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

const lookup = (rows: readonly StoredActivity[]) => async (hash: string) => rows.find((r) => r.hash === hash)?.seq ?? null;
const verify = (rows: readonly StoredActivity[]) => verifyChain(batches(rows), lookup(rows));

describe('hash chain', () => {
  it('hash = sha256(prev_hash, newline, canonical JSON of the entry)', () => {
    const e: ActivityEntry = { seq: 1, at: '2026-01-01T00:00:00.000Z', actor: 'ops', action: 'audit.run', subject: { runId: 'r1' }, details: { b: 2, a: 1 } };
    const body = '{"action":"audit.run","actor":"ops","at":"2026-01-01T00:00:00.000Z","details":{"a":1,"b":2},"seq":1,"subject":{"runId":"r1"}}';
    expect(entryHash(GENESIS_HASH, e)).toBe(createHash('sha256').update(`${GENESIS_HASH}\n${body}`).digest('hex'));
    expect(entryHash(GENESIS_HASH, e)).toMatch(/^[0-9a-f]{64}$/);
  });
  it('every field, the seq and the previous hash change the hash', () => {
    const [e] = chain(1);
    const base = entryHash(GENESIS_HASH, e!);
    for (const changed of [{ seq: 2 }, { at: 'x' }, { actor: 'x' }, { action: 'x' }, { subject: { runId: 'r2' } }, { details: { high: 2 } }]) {
      expect(entryHash(GENESIS_HASH, { ...e!, ...changed })).not.toBe(base);
    }
    expect(entryHash('f'.repeat(64), e!)).not.toBe(base);
  });
  it('the first entry links to 64 zeros and each later one to its predecessor', () => {
    const rows = chain(4);
    expect(rows[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
  });
});

describe('verifyChain', () => {
  it('an empty log and an intact log verify', async () => {
    expect(await verify([])).toEqual({ ok: true, entries: 0, lastSeq: 0, lastHash: GENESIS_HASH });
    const rows = chain(5);
    expect(await verify(rows)).toEqual({ ok: true, entries: 5, lastSeq: 5, lastHash: rows[4]!.hash });
  });
  it('changed content', async () => {
    const rows = chain(5);
    rows[2] = { ...rows[2]!, details: { high: 99 } };
    expect(await verify(rows)).toMatchObject({ ok: false, entries: 5, firstBroken: { seq: 3, reason: 'changed' } });
  });
  it('changed content with the hash recomputed breaks the link of the next entry', async () => {
    const rows = chain(5);
    const e = { ...rows[2]!, details: { high: 99 } };
    rows[2] = { ...e, hash: entryHash(e.prevHash, e) };
    expect((await verify(rows)).firstBroken).toMatchObject({ seq: 4, reason: 'changed' });
  });
  it('a removed middle entry (a seq gap)', async () => {
    const rows = chain(5);
    rows.splice(2, 1);
    expect(await verify(rows)).toMatchObject({ ok: false, entries: 4, firstBroken: { seq: 3, reason: 'removed' } });
  });
  it('an inserted entry, with a correct or a wrong hash of its own', async () => {
    const rows = chain(4);
    const forged: ActivityEntry = { seq: 3, at: 'x', actor: 'mallory', action: 'audit.run', subject: {}, details: {} };
    const shifted = rows.slice(2).map((r) => ({ ...r, seq: r.seq + 1 }));
    const good = [...rows.slice(0, 2), { ...forged, prevHash: rows[1]!.hash!, hash: entryHash(rows[1]!.hash!, forged) }, ...shifted];
    expect((await verify(good)).firstBroken).toMatchObject({ seq: 3, reason: 'inserted' });
    const bad = [...rows.slice(0, 2), { ...forged, prevHash: rows[1]!.hash!, hash: 'a'.repeat(64) }, ...shifted];
    expect((await verify(bad)).firstBroken).toMatchObject({ seq: 3, reason: 'inserted' });
  });
  it('two entries swapped', async () => {
    const rows = chain(5);
    const swapped = [rows[0]!, rows[1]!, { ...rows[3]!, seq: 3 }, { ...rows[2]!, seq: 4 }, rows[4]!];
    expect((await verify(swapped)).firstBroken).toMatchObject({ seq: 3, reason: 'reordered' });
  });
  it('the last entry cut mid-write (no hash, or half a hash)', async () => {
    const rows = chain(3);
    expect((await verify([...rows.slice(0, 2), { ...rows[2]!, hash: null }])).firstBroken).toMatchObject({ seq: 3, reason: 'truncated' });
    expect((await verify([...rows.slice(0, 2), { ...rows[2]!, hash: rows[2]!.hash!.slice(0, 20) }])).firstBroken).toMatchObject({ seq: 3, reason: 'truncated' });
    // The same damage in the middle is a change, not a cut.
    expect((await verify([rows[0]!, { ...rows[1]!, hash: null }, rows[2]!])).firstBroken).toMatchObject({ seq: 2, reason: 'changed' });
  });
  it('names only the first break and still counts every entry', async () => {
    const rows = chain(6);
    rows[1] = { ...rows[1]!, actor: 'mallory' };
    rows[4] = { ...rows[4]!, actor: 'mallory' };
    expect(await verify(rows)).toMatchObject({ ok: false, entries: 6, lastSeq: 6, firstBroken: { seq: 2, reason: 'changed' } });
  });
  it('reads batch by batch, never more than it needs ahead', async () => {
    const rows = chain(7);
    let pulled = 0;
    let maxBatch = 0;
    async function* counted(): AsyncGenerator<StoredActivity[]> {
      for await (const b of batches(rows, 3)) {
        pulled++;
        maxBatch = Math.max(maxBatch, b.length);
        yield b;
      }
    }
    expect((await verifyChain(counted())).ok).toBe(true);
    expect(pulled).toBe(3);
    expect(maxBatch).toBe(3);
  });
});

describe('checkpoints', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  it('signs {seq, hash, at} with Ed25519 and names the key by fingerprint', () => {
    const cp = checkpoint({ seq: 7, hash: 'c'.repeat(64) }, priv, '2026-02-01T00:00:00.000Z');
    expect(cp).toMatchObject({ format: 'steward-log-checkpoint/1', seq: 7, hash: 'c'.repeat(64), at: '2026-02-01T00:00:00.000Z' });
    expect(cp.keyFingerprint).toBe(createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex'));
    expect(Buffer.from(cp.signature, 'base64')).toHaveLength(64);
    expect(checkpointSignatureValid(cp, pub)).toBe(true);
  });
  it('an edited checkpoint, another key or a garbled signature does not verify', () => {
    const cp = checkpoint({ seq: 7, hash: 'c'.repeat(64) }, priv, '2026-02-01T00:00:00.000Z');
    expect(checkpointSignatureValid({ ...cp, seq: 8 }, pub)).toBe(false);
    expect(checkpointSignatureValid({ ...cp, hash: 'd'.repeat(64) }, pub)).toBe(false);
    expect(checkpointSignatureValid({ ...cp, at: '2026-02-02T00:00:00.000Z' }, pub)).toBe(false);
    expect(checkpointSignatureValid({ ...cp, signature: 'garbage' }, pub)).toBe(false);
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(checkpointSignatureValid(cp, other)).toBe(false);
    expect(checkpointSignatureValid(cp, 'not a key')).toBe(false);
  });
  it('refuses a key that is not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => checkpoint({ seq: 1, hash: 'c'.repeat(64) }, rsa, 'x')).toThrow(/Ed25519/);
  });
});

describe('no personal data in the log', () => {
  it('accepts ids, names of things, counts, locations and timestamps', () => {
    expect(() =>
      assertNoPersonalData({
        runId: 'run-2026-11-24T19:00:00.000Z',
        stage: 'collection',
        sources: [{ name: 'shop', status: 'ok', tables: 12, personalColumns: 9 }],
        location: 'public.customers.email',
        host: '10.0.0.5',
        findingsBySeverity: { critical: 0, high: 2 },
      }),
    ).not.toThrow();
  });
  it('rejects an email, a card or a phone number anywhere, naming where but not the value', () => {
    for (const [value, category] of [
      ['jane.doe@example.com', 'contact.email'],
      ['4111 1111 1111 1111', 'financial.card'],
      ['+44 20 7946 0958', 'contact.phone'],
    ] as const) {
      let err: unknown;
      try {
        assertNoPersonalData({ rows: [{ ok: 1 }, { v: value }] }, 'details');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InternalError);
      expect((err as Error).message).toContain(`details.rows[1].v holds a value classified as ${category}`);
      expect((err as Error).message).not.toContain(value);
    }
  });
});

describe('assertNoPersonalData and identifiers', () => {
  it('accepts source, schema, table and column names shaped like personal data, and still refuses such values in free-form details', () => {
    expect(() =>
      assertNoPersonalData({ runId: 'r1', sources: ['ann.lee@example.com'], location: { source: 's', schema: 'public', table: 'ann.lee@example.com', column: '+44 20 7946 0958' } }, 'subject'),
    ).not.toThrow();
    expect(() => assertNoPersonalData({ source: 's', table: 'public.ann.lee@example.com', column: 'email' }, 'subject')).not.toThrow();
    expect(() => assertNoPersonalData({ location: { table: 't' }, note: 'ann.lee@example.com' }, 'details')).toThrow(/details\.note holds a value classified as contact\.email/);
  });
});
