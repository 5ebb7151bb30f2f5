/**
 * A local stand-in for HashiCorp Vault's transit secrets engine, for tests of
 * `VaultTransitKms`. It speaks the HTTP API shape of Vault 1.13+ closely enough
 * that the client cannot tell the difference on the paths Steward uses:
 *
 * - `POST /v1/<mount>/encrypt/<name>`  `{ plaintext, associated_data?, context?, key_version? }`
 *   → `{ data: { ciphertext: "vault:v<N>:<base64>", key_version } }`; creates a missing key
 *   only for a token with `create` on the path (Vault's upsert);
 * - `POST /v1/<mount>/decrypt/<name>`  `{ ciphertext, associated_data?, context? }` → `{ data: { plaintext } }`;
 * - `POST /v1/<mount>/rewrap/<name>`   `{ ciphertext, context?, key_version? }`: like Vault,
 *   it does NOT take `associated_data` (ignored, with a warning), so a ciphertext bound
 *   to associated data fails to rewrap with "cipher: message authentication failed";
 * - `POST /v1/<mount>/keys/<name>` (create; `derived`, `type`), `GET …/keys/<name>`,
 *   `POST …/keys/<name>/rotate`, `POST …/keys/<name>/config` (`min_decryption_version`).
 *
 * Cryptography as Vault does it: AES-256-GCM (node:crypto) under a random 32-byte key
 * per key version, ciphertext `vault:v<version>:` + base64(nonce 12 ‖ ciphertext ‖ tag 16),
 * `associated_data` (base64) as GCM additional data; for a `derived` key, the version
 * key is HKDF-SHA256(key, no salt, info = context) (Vault's `hkdf_sha256` KDF).
 *
 * Authorisation as Vault does it: `X-Vault-Token` must name a known token whose policy
 * grants the capability the request needs (`update` on encrypt/decrypt/rewrap/rotate/config,
 * `create` to upsert a key, `read` on keys/<name>); otherwise HTTP 403
 * `{ "errors": ["permission denied"] }`. Errors use Vault's shape `{ "errors": [...] }`
 * and messages (`cipher: message authentication failed`, `invalid ciphertext: …`,
 * `encryption key not found`, `Vault is sealed` with 503, …).
 *
 * Fault injection for tests: `delayMs` (a slow server), `sealed`, `failNext(status, n)`,
 * `redirectTo`, `stop()` then the port is closed. Listens on 127.0.0.1, OS-picked port;
 * over HTTPS when given `tls: { key, cert }`.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type Capability = 'create' | 'read' | 'update' | 'delete' | 'list';

/** One Vault policy rule: `path` as in HCL (`transit/encrypt/steward`, a trailing `*` glob, `+` for one segment). */
export interface PolicyRule {
  readonly path: string;
  readonly capabilities: readonly Capability[];
}

export interface TransitKeyOptions {
  /** Key derivation: every request must carry `context` (default false). */
  readonly derived?: boolean;
  /** `aes256-gcm96` (default) supports associated data; `aes128-gcm96` also; anything else is refused. */
  readonly type?: 'aes256-gcm96' | 'aes128-gcm96';
}

export interface VaultTransitServerOptions {
  /** Mount path of the transit engine (default `transit`). */
  readonly mount?: string;
  /** Tokens and their policies; `'root'` allows everything. Default: `{ 'root-token': 'root' }`. */
  readonly tokens?: Readonly<Record<string, 'root' | readonly PolicyRule[]>>;
  /** Keys to create up front. */
  readonly keys?: Readonly<Record<string, TransitKeyOptions>>;
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** When set, requests must carry `X-Vault-Namespace` with this value (404 otherwise, as for a path in another namespace). */
  readonly namespace?: string;
}

interface KeyRing {
  readonly type: 'aes256-gcm96' | 'aes128-gcm96';
  readonly derived: boolean;
  /** versions[0] is version 1. */
  readonly versions: Buffer[];
  minDecryptionVersion: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly namespace: string | undefined;
  /** Field names of the JSON body (never values: they hold data keys). */
  readonly fields: readonly string[];
  readonly status: number;
}

export interface VaultTransitServer {
  /** `http://127.0.0.1:<port>` (or https). */
  readonly address: string;
  readonly port: number;
  readonly mount: string;
  /** Every request answered, in order. */
  readonly requests: RecordedRequest[];
  /** Delay before answering each request (a slow or overloaded Vault). */
  delayMs: number;
  /** Answer every request with 503 "Vault is sealed". */
  sealed: boolean;
  /** Answer every request with a 307 redirect to this address (a standby node). */
  redirectTo: string | null;
  /** The next `count` requests get HTTP `status` with a Vault error body. */
  failNext(status: number, count?: number, message?: string): void;
  createKey(name: string, options?: TransitKeyOptions): void;
  /** New key version; returns the latest version. */
  rotate(name: string): number;
  latestVersion(name: string): number;
  setMinDecryptionVersion(name: string, version: number): void;
  /** Closes the listener and every open connection (the port then refuses connections). */
  stop(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '));
  }
}

const badRequest = (msg: string) => new VaultHttpError(400, [msg]);

function strictBase64(s: unknown, what: string): Buffer {
  if (typeof s !== 'string') throw badRequest(`'${what}' must be a string`);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    const bad = s.search(/[^A-Za-z0-9+/=]/);
    throw badRequest(`illegal base64 data at input byte ${bad >= 0 ? bad : s.length}`);
  }
  return Buffer.from(s, 'base64');
}

/** Vault's HCL path matching: exact, trailing `*` prefix glob, `+` one segment. */
function pathMatches(pattern: string, path: string): boolean {
  const p = pattern.replace(/^\//, '');
  if (!p.endsWith('*')) return segmentsMatch(p, path);
  const head = p.slice(0, -1).split('/');
  const segs = path.split('/');
  if (segs.length < head.length) return false;
  for (let i = 0; i < head.length - 1; i++) if (head[i] !== '+' && head[i] !== segs[i]) return false;
  return segs.slice(head.length - 1).join('/').startsWith(head[head.length - 1]!);
}

function segmentsMatch(pattern: string, path: string): boolean {
  const a = pattern.split('/');
  const b = path.split('/');
  return a.length === b.length && a.every((seg, i) => seg === '+' || seg === b[i]);
}

export async function startVaultTransitServer(options: VaultTransitServerOptions = {}): Promise<VaultTransitServer> {
  const mount = options.mount ?? 'transit';
  const tokens = options.tokens ?? { 'root-token': 'root' };
  const keys = new Map<string, KeyRing>();
  const requests: RecordedRequest[] = [];
  const failures: { status: number; message: string }[] = [];

  const newKey = (name: string, o: TransitKeyOptions = {}): void => {
    const type = o.type ?? 'aes256-gcm96';
    keys.set(name, { type, derived: o.derived ?? false, versions: [randomBytes(type === 'aes128-gcm96' ? 16 : 32)], minDecryptionVersion: 1 });
  };
  for (const [name, o] of Object.entries(options.keys ?? {})) newKey(name, o);

  const need = (name: string): KeyRing => {
    const k = keys.get(name);
    if (!k) throw badRequest('encryption key not found');
    return k;
  };

  const allowed = (token: string | undefined, path: string, cap: Capability): boolean => {
    if (token === undefined) return false;
    const policy = Object.prototype.hasOwnProperty.call(tokens, token) ? tokens[token] : undefined;
    if (policy === undefined) return false;
    if (policy === 'root') return true;
    return policy.some((r) => r.capabilities.includes(cap) && pathMatches(r.path, path));
  };

  const versionKey = (k: KeyRing, version: number, context: Buffer | null): Buffer => {
    const raw = k.versions[version - 1]!;
    if (!k.derived) return raw;
    return Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), context!, raw.length));
  };

  const contextOf = (k: KeyRing, body: Record<string, unknown>): Buffer | null => {
    const c = body.context;
    if (k.derived) {
      if (typeof c !== 'string' || c === '') throw badRequest("missing 'context' for key derivation; the parameter is required for derived keys");
      return strictBase64(c, 'context');
    }
    if (typeof c === 'string' && c !== '') throw badRequest('key was not created as a derived key, but a context was provided');
    return null;
  };

  const aadOf = (k: KeyRing, body: Record<string, unknown>): Buffer | null => {
    const ad = body.associated_data;
    if (ad === undefined || ad === '') return null;
    if (k.type !== 'aes256-gcm96' && k.type !== 'aes128-gcm96') throw badRequest(`'[0].associated_data' provided for non-AEAD cipher suite ${k.type}`);
    return strictBase64(ad, 'associated_data');
  };

  const seal = (k: KeyRing, version: number, context: Buffer | null, aad: Buffer | null, plaintext: Buffer): string => {
    const key = versionKey(k, version, context);
    const nonce = randomBytes(12);
    const c = createCipheriv(k.type === 'aes128-gcm96' ? 'aes-128-gcm' : 'aes-256-gcm', key, nonce);
    if (aad) c.setAAD(aad);
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return `vault:v${version}:${Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64')}`;
  };

  const open = (k: KeyRing, ciphertext: unknown, context: Buffer | null, aad: Buffer | null): Buffer => {
    if (typeof ciphertext !== 'string' || ciphertext === '') throw badRequest('missing ciphertext to decrypt');
    if (!ciphertext.startsWith('vault:')) throw badRequest('invalid ciphertext: no prefix');
    const rest = ciphertext.slice('vault:'.length);
    const colon = rest.indexOf(':');
    if (colon < 0) throw badRequest('invalid ciphertext: wrong number of fields');
    const vText = rest.slice(0, colon);
    if (!/^v\d+$/.test(vText)) throw badRequest('invalid ciphertext: version number could not be decoded');
    let version = Number(vText.slice(1));
    if (version === 0) version = 1;
    if (version > k.versions.length) throw badRequest('invalid ciphertext: version is too new');
    if (version < k.minDecryptionVersion) throw badRequest('ciphertext or signature version is disallowed by policy (too old)');
    let blob: Buffer;
    try {
      blob = strictBase64(rest.slice(colon + 1), 'ciphertext');
    } catch {
      throw badRequest('invalid ciphertext: could not decode base64');
    }
    if (blob.length < 12) throw badRequest('invalid ciphertext length');
    const key = versionKey(k, version, context);
    const d = createDecipheriv(k.type === 'aes128-gcm96' ? 'aes-128-gcm' : 'aes-256-gcm', key, blob.subarray(0, 12));
    if (aad) d.setAAD(aad);
    try {
      if (blob.length < 12 + 16) throw new Error('short');
      d.setAuthTag(blob.subarray(-16));
      return Buffer.concat([d.update(blob.subarray(12, -16)), d.final()]);
    } catch {
      throw badRequest('cipher: message authentication failed');
    }
  };

  const encryptVersion = (k: KeyRing, body: Record<string, unknown>): number => {
    const v = body.key_version;
    if (v === undefined || v === 0) return k.versions.length;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badRequest('requested version for encryption is negative');
    if (v > k.versions.length) throw badRequest('requested version for encryption is higher than the latest key version');
    return v;
  };

  const known = (fields: string[], accepted: string[]): string[] | null => {
    const extra = fields.filter((f) => !accepted.includes(f));
    return extra.length > 0 ? [`Endpoint ignored these unrecognized parameters: [${extra.join(' ')}]`] : null;
  };

  /** Routes one request; returns [status, data, warnings]. */
  const route = (method: string, path: string, token: string | undefined, body: Record<string, unknown>): [number, unknown, string[] | null] => {
    // path is relative to /v1/, e.g. `transit/encrypt/steward`.
    const segs = path.split('/');
    const mountSegs = mount.split('/');
    if (segs.slice(0, mountSegs.length).join('/') !== mount) throw new VaultHttpError(404, [`no handler for route "${path}". route entry not found.`]);
    const [op, name, sub] = segs.slice(mountSegs.length);
    const fields = Object.keys(body);
    const check = (cap: Capability) => {
      if (!allowed(token, path, cap)) throw new VaultHttpError(403, ['permission denied']);
    };
    if (!name || !/^\w(?:[\w.@-]*\w)?$/.test(name)) throw new VaultHttpError(404, [`no handler for route "${path}". route entry not found.`]);

    if (method === 'POST' && op === 'encrypt' && sub === undefined) {
      let k = keys.get(name);
      if (!k) {
        check('create');
        newKey(name, { derived: typeof body.context === 'string' && body.context !== '' });
        k = keys.get(name)!;
      } else check('update');
      if (body.plaintext === undefined) throw badRequest('missing plaintext to encrypt');
      const plaintext = strictBase64(body.plaintext, 'plaintext');
      const context = contextOf(k, body);
      const aad = aadOf(k, body);
      const version = encryptVersion(k, body);
      return [200, { ciphertext: seal(k, version, context, aad, plaintext), key_version: version }, known(fields, ['plaintext', 'context', 'associated_data', 'key_version', 'nonce', 'type'])];
    }
    if (method === 'POST' && op === 'decrypt' && sub === undefined) {
      check('update');
      const k = need(name);
      const plaintext = open(k, body.ciphertext, contextOf(k, body), aadOf(k, body));
      return [200, { plaintext: plaintext.toString('base64') }, known(fields, ['ciphertext', 'context', 'associated_data', 'nonce'])];
    }
    if (method === 'POST' && op === 'rewrap' && sub === undefined) {
      check('update');
      const k = need(name);
      const context = contextOf(k, body);
      // Vault's rewrap has no associated_data parameter: decrypts and re-encrypts without it.
      const plaintext = open(k, body.ciphertext, context, null);
      const version = encryptVersion(k, body);
      return [200, { ciphertext: seal(k, version, context, null, plaintext), key_version: version }, known(fields, ['ciphertext', 'context', 'key_version', 'nonce'])];
    }
    if (op === 'keys') {
      if (method === 'POST' && sub === undefined) {
        check(keys.has(name) ? 'update' : 'create');
        if (!keys.has(name)) {
          if (body.type !== undefined && body.type !== 'aes256-gcm96' && body.type !== 'aes128-gcm96') throw badRequest(`unknown key type ${String(body.type)}`);
          newKey(name, { derived: body.derived === true, type: body.type as TransitKeyOptions['type'] });
        }
        return [204, null, null];
      }
      if (method === 'GET' && sub === undefined) {
        check('read');
        const k = keys.get(name);
        if (!k) throw new VaultHttpError(404, []);
        const versions = Object.fromEntries(k.versions.map((_, i) => [String(i + 1), 1_700_000_000 + i]));
        return [
          200,
          {
            name,
            type: k.type,
            derived: k.derived,
            kdf: k.derived ? 'hkdf_sha256' : undefined,
            keys: versions,
            latest_version: k.versions.length,
            min_decryption_version: k.minDecryptionVersion,
            min_encryption_version: 0,
            supports_encryption: true,
            supports_decryption: true,
            supports_derivation: true,
          },
          null,
        ];
      }
      if (method === 'POST' && sub === 'rotate') {
        check('update');
        const k = need(name);
        k.versions.push(randomBytes(k.type === 'aes128-gcm96' ? 16 : 32));
        return [200, { name, latest_version: k.versions.length, type: k.type }, null];
      }
      if (method === 'POST' && sub === 'config') {
        check('update');
        const k = need(name);
        const m = body.min_decryption_version;
        if (m !== undefined) {
          if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || m > k.versions.length) throw badRequest('cannot set min decryption version of 0 or higher than the latest version');
          k.minDecryptionVersion = Math.max(1, m);
        }
        return [204, null, null];
      }
    }
    if (method !== 'POST' && method !== 'GET') throw new VaultHttpError(405, ['unsupported operation']);
    throw new VaultHttpError(404, [`no handler for route "${path}". route entry not found.`]);
  };

  const sockets = new Set<import('node:net').Socket>();
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname.replace(/^\/v1\//, '');
      const namespace = typeof req.headers['x-vault-namespace'] === 'string' ? req.headers['x-vault-namespace'] : undefined;
      let fields: string[] = [];
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        requests.push({ method: req.method ?? '', path: url.pathname, namespace, fields, status });
        const text = payload === null ? '' : JSON.stringify(payload);
        const go = () => {
          if (res.destroyed) return;
          res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
          res.end(text);
        };
        if (server.delayMs > 0) setTimeout(go, server.delayMs);
        else go();
      };
      const fail = (e: unknown) => {
        if (e instanceof VaultHttpError) send(e.status, { errors: e.errors });
        else send(500, { errors: ['1 error occurred:\n\t* internal error\n\n'] });
      };
      try {
        if (tooLarge) throw new VaultHttpError(413, ['http: request body too large']);
        let body: Record<string, unknown> = {};
        const raw = Buffer.concat(chunks).toString('utf8');
        if (raw.trim() !== '') {
          try {
            const parsed: unknown = JSON.parse(raw);
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
            body = parsed as Record<string, unknown>;
          } catch (e) {
            throw badRequest(`failed to parse JSON input: ${(e as Error).message}`);
          }
        }
        fields = Object.keys(body);
        if (server.redirectTo) {
          send(307, null, { location: `${server.redirectTo}${url.pathname}` });
          return;
        }
        if (server.sealed) throw new VaultHttpError(503, ['Vault is sealed']);
        const injected = failures.shift();
        if (injected) throw new VaultHttpError(injected.status, [injected.message]);
        if (!url.pathname.startsWith('/v1/')) throw new VaultHttpError(404, []);
        if (options.namespace !== undefined && namespace !== options.namespace) {
          throw new VaultHttpError(404, [`no handler for route "${path}". route entry not found.`]);
        }
        const token = typeof req.headers['x-vault-token'] === 'string' ? req.headers['x-vault-token'] : undefined;
        const [status, data, warnings] = route(req.method ?? 'GET', path, token, body);
        if (status === 204) send(204, null);
        else send(status, { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings, auth: null });
      } catch (e) {
        fail(e);
      }
    });
  };

  const raw = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  raw.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  raw.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    raw.once('error', reject);
    raw.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (raw.address() as AddressInfo).port;

  const server: VaultTransitServer = {
    address: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    mount,
    requests,
    delayMs: 0,
    sealed: false,
    redirectTo: null,
    failNext(status, count = 1, message = status >= 500 ? '1 error occurred:\n\t* internal error\n\n' : 'injected failure') {
      for (let i = 0; i < count; i++) failures.push({ status, message });
    },
    createKey: (name, o) => {
      if (keys.has(name)) throw new Error(`key ${name} exists`);
      newKey(name, o);
    },
    rotate(name) {
      const k = keys.get(name);
      if (!k) throw new Error(`no key ${name}`);
      k.versions.push(randomBytes(k.type === 'aes128-gcm96' ? 16 : 32));
      return k.versions.length;
    },
    latestVersion: (name) => keys.get(name)?.versions.length ?? 0,
    setMinDecryptionVersion(name, version) {
      const k = keys.get(name);
      if (!k) throw new Error(`no key ${name}`);
      k.minDecryptionVersion = version;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        raw.close(() => resolve());
      }),
  };
  return server;
}
