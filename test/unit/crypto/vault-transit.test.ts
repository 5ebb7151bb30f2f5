/**
 * VaultTransitKms against a local transit server (test/helpers/vault-transit-server.ts)
 * that speaks Vault's HTTP API: wrap/unwrap, the error mapping (wrong token, tampered
 * or moved wrapped keys, Vault down, slow, sealed, redirecting, misconfigured), key
 * rotation and rewrap, HTTPS with a private CA, and that no token or data key ever
 * appears in an error.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CryptoError, type WrapContext } from '../../../src/crypto/index.js';
import { wrapAad } from '../../../src/crypto/keyring.js';
import { createVaultTransitKms, vaultKeyVersion, vaultTransitFromEnv, VaultTransitKms, type VaultTransitOptions } from '../../../src/crypto/kms/vault-transit.js';
import { makeTestCerts, opensslPath, type TestCerts } from '../../helpers/tls-certs.js';
import { startVaultTransitServer, type VaultTransitServer, type VaultTransitServerOptions } from '../../helpers/vault-transit-server.js';

const ROOT = `hvs.${randomBytes(18).toString('base64url')}`;
const APP = `hvs.${randomBytes(18).toString('base64url')}`;
const OTHER = `hvs.${randomBytes(18).toString('base64url')}`;
const KEK_ID = 'vault:transit/steward';

const running: VaultTransitServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function vault(options: VaultTransitServerOptions = {}): Promise<VaultTransitServer> {
  const s = await startVaultTransitServer({
    keys: { steward: {}, derivedkey: { derived: true } },
    tokens: {
      [ROOT]: 'root',
      // The policy the README documents: update on encrypt and decrypt of the one key.
      [APP]: [
        { path: 'transit/encrypt/steward', capabilities: ['update'] },
        { path: 'transit/decrypt/steward', capabilities: ['update'] },
        { path: 'transit/rewrap/steward', capabilities: ['update'] },
      ],
      [OTHER]: [{ path: 'transit/encrypt/other', capabilities: ['update'] }],
    },
    ...options,
  });
  running.push(s);
  return s;
}

function kms(server: VaultTransitServer, options: Partial<VaultTransitOptions> = {}): VaultTransitKms {
  return new VaultTransitKms({ address: server.address, token: APP, name: 'steward', retries: 0, timeoutMs: 5000, ...options });
}

const scope = { source: 'crm', table: 'public.contacts', column: 'phone' };
function ctx(over: Partial<Omit<WrapContext, 'aad'>> = {}, kekId = KEK_ID): WrapContext {
  const c = { scope, kind: 'dek' as const, keyId: 'k3yId', version: 1, ...over };
  return { ...c, aad: wrapAad(kekId, c.kind, c.keyId, c.version, c.scope) };
}

async function caught(p: Promise<unknown>): Promise<CryptoError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e, 'expected a CryptoError').toBeInstanceOf(CryptoError);
  return e as CryptoError;
}

/** Nothing secret in any rendering of an error (message, hint, JSON, inspect with its cause chain). */
function expectClean(e: unknown, secrets: (string | Buffer)[]): void {
  const renderings = [String(e), JSON.stringify(e), inspect(e, { depth: 10 }), (e as CryptoError).hint ?? '', (e as CryptoError).toUserString?.() ?? ''];
  for (const s of secrets) {
    const forms = typeof s === 'string' ? [s] : [s.toString('hex'), s.toString('base64'), s.toString('base64url')];
    for (const f of forms) for (const r of renderings) expect(r).not.toContain(f);
  }
}

describe('VaultTransitKms: wrap and unwrap', () => {
  it('wraps through encrypt with associated data and unwraps through decrypt, from another instance too', async () => {
    const server = await vault();
    const a = kms(server);
    const dek = randomBytes(32);
    const wrapped = await a.wrapKey(dek, ctx());
    expect(wrapped).toMatch(/^vault:v1:[A-Za-z0-9+/]+={0,2}$/);
    expect(vaultKeyVersion(wrapped)).toBe(1);
    // A second process with the same settings unwraps it.
    const b = kms(server);
    expect((await b.unwrapKey(wrapped, ctx())).equals(dek)).toBe(true);
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.fields.join(',')} ${r.status}`)).toEqual([
      'POST /v1/transit/encrypt/steward plaintext,associated_data 200',
      'POST /v1/transit/decrypt/steward ciphertext,associated_data 200',
    ]);
    // Each wrap is fresh (random nonce in Vault).
    expect(await a.wrapKey(dek, ctx())).not.toBe(wrapped);
  });

  it('names itself by key id and address, never the token', async () => {
    const server = await vault();
    const k = kms(server, { namespace: 'team-a' });
    expect(k.keyId).toBe(KEK_ID);
    expect(k.kind).toBe('vault-transit');
    for (const r of [String(k), JSON.stringify(k), inspect(k, { depth: 5, showHidden: true })]) {
      expect(r).toContain(KEK_ID);
      expect(r).not.toContain(APP);
    }
    expect(JSON.parse(JSON.stringify(k))).toEqual({ keyId: KEK_ID, kind: 'vault-transit', address: server.address, namespace: 'team-a', binding: 'associated-data' });
    expect(new VaultTransitKms({ address: 'https://vault.example:8200/', token: 'x', name: 'k', mount: '/team/transit/' }).keyId).toBe('vault:team/transit/k');
  });

  it('concurrent wraps and unwraps', async () => {
    const server = await vault();
    const k = kms(server);
    const deks = Array.from({ length: 40 }, () => randomBytes(32));
    const wrapped = await Promise.all(deks.map((d, i) => k.wrapKey(d, ctx({ version: i + 1 }))));
    const back = await Promise.all(wrapped.map((w, i) => k.unwrapKey(w, ctx({ version: i + 1 }))));
    back.forEach((b, i) => expect(b.equals(deks[i]!)).toBe(true));
  });
});

describe('VaultTransitKms: errors', () => {
  it('a wrong token, or one whose policy lacks the key, is CRYPTO_WRONG_KEY without the token in the error', async () => {
    const server = await vault();
    const dek = randomBytes(32);
    const wrapped = await kms(server).wrapKey(dek, ctx());
    const bad = `hvs.${randomBytes(18).toString('base64url')}`;
    for (const token of [bad, OTHER]) {
      const e1 = await caught(kms(server, { token }).unwrapKey(wrapped, ctx()));
      expect(e1.code).toBe('CRYPTO_WRONG_KEY');
      expect(e1.exitCode).toBe(7);
      expect(e1.message).toContain('Vault refused the token (HTTP 403');
      expect(e1.message).toContain(server.address);
      expect(e1.hint).toContain('path "transit/decrypt/steward"');
      expectClean(e1, [token, APP, dek]);
      const e2 = await caught(kms(server, { token }).wrapKey(dek, ctx()));
      expect(e2.code).toBe('CRYPTO_WRONG_KEY');
      expectClean(e2, [token, dek]);
    }
    // The documented policy is enough; it does not allow creating keys.
    const e3 = await caught(kms(server, { name: 'brand-new' }).wrapKey(dek, ctx()));
    expect(e3.code).toBe('CRYPTO_WRONG_KEY');
  });

  it('a changed wrapped key is CRYPTO_TAMPERED: any flipped character, truncation, or a malformed value', async () => {
    const server = await vault();
    const k = kms(server);
    const dek = randomBytes(32);
    const wrapped = await k.wrapKey(dek, ctx());
    const body = wrapped.slice('vault:v1:'.length);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // Flip every character of the payload in turn (excluding padding).
    let checked = 0;
    for (let i = 0; i < body.replace(/=+$/, '').length; i++) {
      const c = body[i]!;
      const swapped = alphabet[(alphabet.indexOf(c) + 1) % 64]!;
      const changed = `vault:v1:${body.slice(0, i)}${swapped}${body.slice(i + 1)}`;
      const e = await caught(k.unwrapKey(changed, ctx()));
      expect(e.code, `position ${i}`).toBe('CRYPTO_TAMPERED');
      checked++;
    }
    expect(checked).toBeGreaterThan(70);
    const before = server.requests.length;
    for (const junk of ['', 'vault:v1:', 'vault:vX:AAAA', 'stw1:abc', `${wrapped}\n`, `vault:v1:${body}$`, 'x'.repeat(10_000)]) {
      const e = await caught(k.unwrapKey(junk, ctx()));
      expect(e.code).toBe('CRYPTO_TAMPERED');
      expect(e.message).toContain('not a Vault transit ciphertext');
    }
    expect(server.requests.length, 'malformed values are refused without asking Vault').toBe(before);
    const short = await caught(k.unwrapKey('vault:v1:AAAA', ctx()));
    expect(short.code).toBe('CRYPTO_TAMPERED');
    expect(short.message).toContain('malformed');
    expectClean(short, [APP, dek]);
  });

  it('a wrapped key presented with another column, kind, key id, version or KEK context is CRYPTO_TAMPERED', async () => {
    const server = await vault();
    const k = kms(server);
    const dek = randomBytes(32);
    const wrapped = await k.wrapKey(dek, ctx());
    const others: WrapContext[] = [
      ctx({ scope: { ...scope, column: 'email' } }),
      ctx({ scope: { ...scope, table: 'public.leads' } }),
      ctx({ scope: { ...scope, source: 'billing' } }),
      ctx({ kind: 'bidx' }),
      ctx({ keyId: 'other' }),
      ctx({ version: 2 }),
      ctx({}, 'vault:transit/other'),
    ];
    for (const o of others) {
      const e = await caught(k.unwrapKey(wrapped, o));
      expect(e.code).toBe('CRYPTO_TAMPERED');
      expect(e.message).toContain('does not verify under Vault transit key transit/steward');
      expect(e.message).toContain('cipher: message authentication failed');
      expectClean(e, [APP, dek]);
    }
    expect((await k.unwrapKey(wrapped, ctx())).equals(dek)).toBe(true);
  });

  it('Vault down (closed port): CRYPTO_MASTER_KEY naming the address and what to do, never the token', async () => {
    const server = await vault();
    const wrapped = await kms(server).wrapKey(randomBytes(32), ctx());
    await server.stop();
    for (const retries of [0, 2]) {
      const k = kms(server, { retries });
      const t0 = performance.now();
      const e = await caught(k.unwrapKey(wrapped, ctx()));
      const ms = performance.now() - t0;
      expect(e.code).toBe('CRYPTO_MASTER_KEY');
      expect(e.message).toContain(`at ${server.address}`);
      expect(e.message).toContain('connection was refused');
      expect(e.message).toContain('data key k3yId version 1 of crm.public.contacts.phone');
      expect(e.hint).toContain('VAULT_ADDR');
      expectClean(e, [APP]);
      // Retries back off 100 ms, 200 ms: bounded.
      expect(ms).toBeLessThan(retries === 0 ? 1000 : 2000);
    }
    const w = await caught(kms(server).wrapKey(randomBytes(32), ctx()));
    expect(w.code).toBe('CRYPTO_MASTER_KEY');
  });

  it('a slow Vault: the per-attempt deadline ends the call with a timeout error (not retried)', async () => {
    const server = await vault();
    server.delayMs = 3000;
    const k = kms(server, { timeoutMs: 250, retries: 2 });
    const t0 = performance.now();
    const e = await caught(k.wrapKey(randomBytes(32), ctx()));
    const ms = performance.now() - t0;
    expect(e.code).toBe('CRYPTO_MASTER_KEY');
    expect(e.message).toContain('Vault did not answer within 250 ms');
    expect(e.hint).toContain('timeoutMs');
    expectClean(e, [APP]);
    expect(ms).toBeGreaterThanOrEqual(240);
    expect(ms).toBeLessThan(1500);
    expect(server.requests, 'one attempt: a timeout is not retried').toHaveLength(1);
  });

  it('5xx and 429 are retried; a sealed Vault is named; failures after the last attempt are CRYPTO_MASTER_KEY', async () => {
    const server = await vault();
    const dek = randomBytes(32);
    server.failNext(500, 1);
    server.failNext(429, 1);
    const wrapped = await kms(server, { retries: 2 }).wrapKey(dek, ctx());
    expect(server.requests.map((r) => r.status)).toEqual([500, 429, 200]);

    server.failNext(502, 3);
    const e = await caught(kms(server, { retries: 2 }).unwrapKey(wrapped, ctx()));
    expect(e.code).toBe('CRYPTO_MASTER_KEY');
    expect(e.message).toContain('Vault failed (HTTP 502');
    expect(e.message).toContain('after 3 attempts');

    server.sealed = true;
    const s = await caught(kms(server).unwrapKey(wrapped, ctx()));
    expect(s.code).toBe('CRYPTO_MASTER_KEY');
    expect(s.message).toContain('Vault is sealed');
    expect(s.hint).toContain('vault operator unseal');
    server.sealed = false;
    expect((await kms(server).unwrapKey(wrapped, ctx())).equals(dek)).toBe(true);
  });

  it('a redirect (standby node) is refused and the token is not sent to the other address', async () => {
    const server = await vault();
    const elsewhere = await vault();
    server.redirectTo = elsewhere.address;
    const e = await caught(kms(server).wrapKey(randomBytes(32), ctx()));
    expect(e.code).toBe('CRYPTO_MASTER_KEY');
    expect(e.message).toContain(`redirected the request to ${elsewhere.address}`);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('misconfiguration: missing key, wrong mount, wrong namespace, derivation mismatch', async () => {
    const server = await vault({ namespace: 'team-a' });
    const ns = { namespace: 'team-a', token: ROOT };
    const dek = randomBytes(32);

    const noKey = await caught(kms(server, { ...ns, name: 'missing' }).unwrapKey(`vault:v1:${randomBytes(60).toString('base64')}`, ctx()));
    expect(noKey.code).toBe('CRYPTO_MASTER_KEY');
    expect(noKey.message).toContain('the transit key does not exist');
    expect(noKey.hint).toContain('vault write -f transit/keys/missing');

    const badMount = await caught(kms(server, { ...ns, mount: 'kv' }).wrapKey(dek, ctx()));
    expect(badMount.code).toBe('CRYPTO_MASTER_KEY');
    expect(badMount.message).toContain('HTTP 404');

    const noNs = await caught(kms(server, { token: ROOT }).wrapKey(dek, ctx()));
    expect(noNs.code).toBe('CRYPTO_MASTER_KEY');
    expect(noNs.hint).toContain('transit engine is enabled at transit');
    expect(server.requests.at(-1)!.namespace).toBeUndefined();

    const ok = await kms(server, ns).wrapKey(dek, ctx());
    expect(server.requests.at(-1)!.namespace).toBe('team-a');
    expect((await kms(server, ns).unwrapKey(ok, ctx())).equals(dek)).toBe(true);

    // A derived key needs a context: with the default binding Vault refuses, and the error says what to change.
    const derived = await caught(kms(server, { ...ns, name: 'derivedkey' }).wrapKey(dek, ctx()));
    expect(derived.code).toBe('CRYPTO_MASTER_KEY');
    expect(derived.message).toContain('derivation setting does not match binding associated-data');
    expect(derived.hint).toContain("binding: 'derived-context'");
    await expect(kms(server, { ...ns, name: 'derivedkey' }).verify()).rejects.toThrow(/is a derived key/);
    await expect(kms(server, { ...ns, binding: 'derived-context' }).verify()).rejects.toThrow(/is not a derived key/);
    expect(await kms(server, ns).verify()).toEqual({ name: 'steward', type: 'aes256-gcm96', derived: false, latestVersion: 1, minDecryptionVersion: 1 });
  });

  it('a non-JSON answer (a proxy page) is a clear CRYPTO_MASTER_KEY', async () => {
    const server = await vault();
    server.failNext(400, 1, 'x');
    const e = await caught(kms(server).wrapKey(randomBytes(32), ctx()));
    expect(e.code).toBe('CRYPTO_MASTER_KEY');
    expect(e.message).toContain('Vault rejected the request (HTTP 400, Vault says "x")');
  });
});

describe('VaultTransitKms: key rotation and rewrap', () => {
  it('after rotation old wraps still unwrap, new wraps use the latest version, rewrap moves old ones up', async () => {
    const server = await vault();
    const k = kms(server);
    const dek = randomBytes(32);
    const v1 = await k.wrapKey(dek, ctx());
    expect(server.rotate('steward')).toBe(2);
    expect((await k.unwrapKey(v1, ctx())).equals(dek)).toBe(true);
    expect(vaultKeyVersion(await k.wrapKey(dek, ctx()))).toBe(2);

    const v2 = await k.rewrap(v1, ctx());
    expect(vaultKeyVersion(v2)).toBe(2);
    expect((await k.unwrapKey(v2, ctx())).equals(dek)).toBe(true);
    // Rewrap keeps the binding: the result does not unwrap under another context.
    expect((await caught(k.unwrapKey(v2, ctx({ version: 9 })))).code).toBe('CRYPTO_TAMPERED');
    // Rewrapping with the wrong context is refused as tampering, not silently re-bound.
    expect((await caught(k.rewrap(v1, ctx({ scope: { ...scope, column: 'email' } })))).code).toBe('CRYPTO_TAMPERED');

    // Retiring version 1 in Vault: what still names it cannot be unwrapped, and says why.
    server.setMinDecryptionVersion('steward', 2);
    const old = await caught(k.unwrapKey(v1, ctx()));
    expect(old.code).toBe('CRYPTO_UNKNOWN_KEY_VERSION');
    expect(old.hint).toContain('min_decryption_version');
    expect((await k.unwrapKey(v2, ctx())).equals(dek)).toBe(true);

    // A ciphertext naming a version the key never had: the key was recreated or restored.
    const future = v2.replace('vault:v2:', 'vault:v7:');
    expect((await caught(k.unwrapKey(future, ctx()))).code).toBe('CRYPTO_WRONG_KEY');
  });

  it("Vault's rewrap endpoint takes no associated data (as in Vault): an AD-bound wrap fails to rewrap there", async () => {
    // This is why VaultTransitKms.rewrap decrypts and encrypts with the associated-data binding.
    const server = await vault();
    const wrapped = await kms(server).wrapKey(randomBytes(32), ctx());
    server.rotate('steward');
    const res = await fetch(`${server.address}/v1/transit/rewrap/steward`, {
      method: 'POST',
      headers: { 'x-vault-token': ROOT, 'content-type': 'application/json' },
      body: JSON.stringify({ ciphertext: wrapped, associated_data: ctx().aad.toString('base64') }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errors: ['cipher: message authentication failed'] });
  });

  it("binding 'derived-context' on a derived key: wraps bind through key derivation and rewrap stays inside Vault", async () => {
    const server = await vault();
    const k = kms(server, { name: 'derivedkey', binding: 'derived-context', token: ROOT });
    expect((await k.verify()).derived).toBe(true);
    const dek = randomBytes(32);
    const v1 = await k.wrapKey(dek, ctx({}, 'vault:transit/derivedkey'));
    expect((await k.unwrapKey(v1, ctx({}, 'vault:transit/derivedkey'))).equals(dek)).toBe(true);
    const moved = await caught(k.unwrapKey(v1, ctx({ scope: { ...scope, column: 'email' } }, 'vault:transit/derivedkey')));
    expect(moved.code).toBe('CRYPTO_TAMPERED');

    server.rotate('derivedkey');
    const before = server.requests.length;
    const v2 = await k.rewrap(v1, ctx({}, 'vault:transit/derivedkey'));
    expect(vaultKeyVersion(v2)).toBe(2);
    expect(server.requests.slice(before).map((r) => `${r.path} ${r.fields.join(',')}`)).toEqual(['/v1/transit/rewrap/derivedkey ciphertext,context']);
    expect((await k.unwrapKey(v2, ctx({}, 'vault:transit/derivedkey'))).equals(dek)).toBe(true);
    const wrongCtx = await caught(k.rewrap(v1, ctx({ version: 5 }, 'vault:transit/derivedkey')));
    expect(wrongCtx.code).toBe('CRYPTO_TAMPERED');
  });
});

describe('VaultTransitKms: configuration', () => {
  it('vaultTransitFromEnv reads VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, STEWARD_VAULT_TRANSIT_KEY/MOUNT', async () => {
    const server = await vault({ mount: 'secure/transit', keys: { app: {} } });
    const k = await vaultTransitFromEnv({ VAULT_ADDR: server.address, VAULT_TOKEN: ROOT, STEWARD_VAULT_TRANSIT_KEY: 'app', STEWARD_VAULT_TRANSIT_MOUNT: 'secure/transit', VAULT_NAMESPACE: 'ns1' });
    expect(k.keyId).toBe('vault:secure/transit/app');
    expect(k.namespace).toBe('ns1');
    const c = ctx({}, k.keyId);
    const dek = randomBytes(32);
    expect((await k.unwrapKey(await k.wrapKey(dek, c), c)).equals(dek)).toBe(true);
    expect(server.requests[0]!.path).toBe('/v1/secure/transit/encrypt/app');
  });

  it('refuses missing or unsafe settings with CRYPTO_MASTER_KEY, never echoing the token', async () => {
    const env = { VAULT_ADDR: 'https://vault.example:8200', VAULT_TOKEN: APP, STEWARD_VAULT_TRANSIT_KEY: 'steward' };
    const bad = async (e: NodeJS.ProcessEnv, text: string, extra: Parameters<typeof createVaultTransitKms>[0] = {}) => {
      const err = await caught(createVaultTransitKms({ env: e, ...extra }));
      expect(err.code).toBe('CRYPTO_MASTER_KEY');
      expect(err.message).toContain(text);
      expectClean(err, [APP, 'hunter2']);
    };
    await bad({ ...env, VAULT_ADDR: '' }, 'VAULT_ADDR');
    await bad({ ...env, VAULT_TOKEN: undefined }, 'VAULT_TOKEN is not set');
    await bad({ ...env, STEWARD_VAULT_TRANSIT_KEY: undefined }, 'STEWARD_VAULT_TRANSIT_KEY');
    await bad({ ...env, STEWARD_VAULT_TRANSIT_KEY: 'no spaces' }, 'not a valid key name');
    await bad({ ...env, VAULT_ADDR: 'vault.example:8200' }, 'must be http(s)');
    await bad({ ...env, VAULT_ADDR: 'not a url' }, 'not a URL');
    await bad({ ...env, VAULT_ADDR: 'https://admin:hunter2@vault.example' }, 'must not contain credentials');
    await bad({ ...env, VAULT_ADDR: 'http://vault.example:8200' }, 'Refusing plain http');
    await bad({ ...env, VAULT_CACERT: '/nonexistent/ca.pem' }, 'it does not exist');
    await bad(env, 'not a valid mount path', { mount: '../x' });
    expect((await createVaultTransitKms({ env: { ...env, VAULT_ADDR: 'http://vault.example:8200' }, allowPlainHttp: true })).address).toBe('http://vault.example:8200');
    for (const a of ['http://127.0.0.1:8200', 'http://localhost:8200/', 'http://[::1]:8200']) expect((await createVaultTransitKms({ env: { ...env, VAULT_ADDR: a } })).address).toBe(a.replace(/\/$/, ''));
    const notPem = path.join(makeTmp(), 'ca.pem');
    writeFileSync(notPem, 'hello');
    await bad({ ...env, VAULT_CACERT: notPem }, 'holds no PEM certificate');
  });

  it('a token function is called per request (a renewed token is picked up)', async () => {
    const server = await vault();
    let current = APP;
    let calls = 0;
    const k = kms(server, {
      token: () => {
        calls++;
        return current;
      },
    });
    const dek = randomBytes(32);
    const w = await k.wrapKey(dek, ctx());
    current = ROOT;
    expect((await k.unwrapKey(w, ctx())).equals(dek)).toBe(true);
    expect(calls).toBe(2);
    current = '';
    expect((await caught(k.unwrapKey(w, ctx()))).message).toContain('No Vault token');
  });
});

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
function makeTmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'steward-vault-'));
  tmpDirs.push(d);
  return d;
}

describe.skipIf(!opensslPath())('VaultTransitKms over HTTPS', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  }, 60_000);
  afterAll(() => certs?.cleanup());

  it('with the private CA (VAULT_CACERT) it connects over node:https; without it the certificate is refused clearly', async () => {
    const server = await vault({ tls: { key: certs.good.key, cert: certs.good.cert } });
    expect(server.address).toMatch(/^https:/);
    const address = server.address.replace('127.0.0.1', 'localhost');
    const env = { VAULT_ADDR: address, VAULT_TOKEN: APP, STEWARD_VAULT_TRANSIT_KEY: 'steward', VAULT_CACERT: certs.caFile };
    const k = await vaultTransitFromEnv(env);
    const dek = randomBytes(32);
    const w = await k.wrapKey(dek, ctx());
    expect((await k.unwrapKey(w, ctx())).equals(dek)).toBe(true);

    const untrusted = await vaultTransitFromEnv({ ...env, VAULT_CACERT: undefined });
    const e = await caught(untrusted.unwrapKey(w, ctx()));
    expect(e.code).toBe('CRYPTO_MASTER_KEY');
    expect(e.message).toContain('TLS certificate was not accepted');
    expect(e.hint).toContain('VAULT_CACERT');
    expectClean(e, [APP, dek]);

    // Self-signed certificate for another CA: refused even with VAULT_CACERT set.
    const other = await vault({ tls: { key: certs.selfSigned.key, cert: certs.selfSigned.cert } });
    const e2 = await caught((await vaultTransitFromEnv({ ...env, VAULT_ADDR: other.address.replace('127.0.0.1', 'localhost') })).wrapKey(dek, ctx()));
    expect(e2.code).toBe('CRYPTO_MASTER_KEY');
    expect(e2.message).toContain('TLS certificate was not accepted');
    expect(other.requests).toHaveLength(0);
  });
});
