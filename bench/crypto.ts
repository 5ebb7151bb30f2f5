/**
 * `npm run bench -- crypto [--values 20000] [--rounds 5] [--seed 7]`
 *
 * Field encryption throughput against its floor, in one run over the same values:
 * - bare: a plain `crypto.createCipheriv('aes-256-gcm')` encrypt + `createDecipheriv`
 *   decrypt loop (random 12-byte IV per value, 16-byte tag, no AAD, no encoding) —
 *   what the library costs at the very least;
 * - bare with the key imported once as a KeyObject (reference only: the library
 *   holds keys that way, which is part of why it can beat the plain loop);
 * - library, async API: `await fields.encrypt(v, ctx)` + `await fields.decrypt(c, ctx)`
 *   (FieldEncryption: context lookup, AAD with the row key, `stw1:` text, base64url);
 * - library, column cipher: `cipher.encryptSync` + `cipher.decryptSync` after one
 *   `reserve(n)` (what a batch migration uses).
 * One operation = one encrypt plus one decrypt. Best of --rounds after a warm-up;
 * the ratio is library ops/s ÷ bare ops/s (target ≥ 0.8). Keys live in an
 * in-memory SQLite state store; reservations are taken before timing.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import os from 'node:os';
import { createFieldEncryption, openKeyring, LocalMasterKey, type FieldContext } from '../src/crypto/index.js';
import { openStateStore } from '../src/state/index.js';
import { opt } from './args.js';

const N = Number(opt('values', '20000'));
const ROUNDS = Number(opt('rounds', '5'));
const SEED = Number(opt('seed', '7'));

// ---- the values: emails, names, phones, IBANs, birth dates (deterministic)
let s = SEED >>> 0 || 1;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
const FIRST = ['Ann', 'Bob', 'Zoë', 'José', 'Łukasz', 'Aiko', 'Mohammed', 'Chloé', 'Sven', 'Priya'];
const LAST = ['Smith', 'Müller', 'García', 'Kowalski', 'Tanaka', 'Okafor', 'Dubois', 'Jensen', 'Rossi', 'Nguyen'];
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
const values: string[] = Array.from({ length: N }, (_, i) => {
  switch (i % 5) {
    case 0:
      return `${pick(FIRST).toLowerCase()}.${pick(LAST).toLowerCase()}${digits(2)}@example.com`;
    case 1:
      return `${pick(FIRST)} ${pick(LAST)}`;
    case 2:
      return `+44 20 ${digits(4)} ${digits(4)}`;
    case 3:
      return `DE${digits(2)} ${digits(4)} ${digits(4)} ${digits(4)} ${digits(4)} ${digits(2)}`;
    default:
      return `19${digits(2)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`;
  }
});
const avgBytes = values.reduce((a, v) => a + Buffer.byteLength(v), 0) / values.length;

// ---- bare floor
const bareKey = randomBytes(32);
function bare(): number {
  let check = 0;
  for (const v of values) {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', bareKey, iv);
    const ct = Buffer.concat([c.update(v, 'utf8'), c.final()]);
    const tag = c.getAuthTag();
    const d = createDecipheriv('aes-256-gcm', bareKey, iv);
    d.setAuthTag(tag);
    const pt = Buffer.concat([d.update(ct), d.final()]).toString('utf8');
    check += pt.length;
  }
  return check;
}

// The same loop with the key imported once as a KeyObject (as the library holds keys):
// shows how much of the library's speed comes from not re-importing the key per call.
const bareKeyObject = createSecretKey(bareKey);
function bareKeyObj(): number {
  let check = 0;
  for (const v of values) {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', bareKeyObject, iv);
    const ct = Buffer.concat([c.update(v, 'utf8'), c.final()]);
    const tag = c.getAuthTag();
    const d = createDecipheriv('aes-256-gcm', bareKeyObject, iv);
    d.setAuthTag(tag);
    const pt = Buffer.concat([d.update(ct), d.final()]).toString('utf8');
    check += pt.length;
  }
  return check;
}

// ---- library
const store = await openStateStore({ url: ':memory:', baseDir: os.tmpdir() });
const keyring = await openKeyring({ store, master: new LocalMasterKey(randomBytes(32)) });
const fields = createFieldEncryption(keyring);
const scope = { source: 'shop', table: 'public.customers', column: 'email' } as const;
const contexts: FieldContext[] = values.map((_, i) => ({ ...scope, rowKey: i + 1 }));
const cipher = await fields.column(scope);

async function libraryAsync(): Promise<number> {
  let check = 0;
  for (let i = 0; i < values.length; i++) {
    const ctx = contexts[i]!;
    const c = await fields.encrypt(values[i]!, ctx);
    check += (await fields.decrypt(c, ctx)).length;
  }
  return check;
}

async function librarySync(): Promise<number> {
  await cipher.reserve(values.length);
  const t0 = performance.now();
  let check = 0;
  for (let i = 0; i < values.length; i++) {
    const c = cipher.encryptSync(values[i]!, i + 1);
    check += cipher.decryptSync(c, i + 1).length;
  }
  syncElapsed = performance.now() - t0;
  return check;
}
let syncElapsed = 0;

const expected = values.reduce((a, v) => a + v.length, 0);
async function time(fn: () => number | Promise<number>): Promise<number> {
  const t0 = performance.now();
  const check = await fn();
  const ms = performance.now() - t0;
  if (check !== expected) throw new Error('round trip mismatch');
  return ms;
}

// Warm-up, and enough reserved messages that no timed round touches the store.
await cipher.reserve(values.length * (ROUNDS + 2) * 2);
await time(bare);
await time(bareKeyObj);
await time(libraryAsync);
await time(librarySync);

const best = { bare: Infinity, bareKeyObj: Infinity, async: Infinity, sync: Infinity };
for (let r = 0; r < ROUNDS; r++) {
  // Interleaved, so machine load hits all three alike.
  best.bare = Math.min(best.bare, await time(bare));
  best.bareKeyObj = Math.min(best.bareKeyObj, await time(bareKeyObj));
  best.async = Math.min(best.async, await time(libraryAsync));
  await time(librarySync);
  best.sync = Math.min(best.sync, syncElapsed);
  globalThis.gc?.();
}
await store.close();

const ops = (ms: number) => Math.round((values.length / ms) * 1000);
const rows: [string, number][] = [
  ['bare createCipheriv + createDecipheriv', best.bare],
  ['bare, key as a KeyObject (reference)', best.bareKeyObj],
  ['library: fields.encrypt + fields.decrypt (async)', best.async],
  ['library: cipher.encryptSync + decryptSync', best.sync],
];
console.log(`crypto: ${values.length} values (avg ${avgBytes.toFixed(1)} UTF-8 bytes), best of ${ROUNDS} rounds, Node ${process.version}`);
console.log('');
console.log('| path | ms | encrypt+decrypt ops/s | vs bare |');
console.log('|---|---|---|---|');
for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} | ${ops(ms).toLocaleString('en-US')} | ${(best.bare / ms).toFixed(2)} |`);
console.log('');
const ratio = best.bare / best.async;
console.log(`ratio (async API vs bare): ${ratio.toFixed(2)} — target ≥ 0.8: ${ratio >= 0.8 ? 'met' : 'NOT met'}`);
