/**
 * HashiCorp Vault's transit secrets engine as Steward's master key: a
 * {@link KmsProvider} that wraps and unwraps data keys with a named transit key,
 * so the key-encryption key never leaves Vault. Plain HTTP(S) with Node's global
 * `fetch` (no client library); `node:https` with a private CA when one is given.
 *
 * Each data key is wrapped by `POST /v1/<mount>/encrypt/<name>` with the keyring's wrap
 * context ({@link WrapContext}) as `associated_data` (or as `context` for a `derived`
 * key, `binding: 'derived-context'`), so a wrapped key moved to another column, version
 * or row of the key table fails to unwrap (`CRYPTO_TAMPERED`). Errors are `CryptoError`s
 * that never hold the token, a data key or what Vault returned for one; network
 * failures, timeouts, 429 and 5xx are retried first.
 *
 * Format (wire protocol, and which Vault answer becomes which error): docs/encryption.md#vault-transit-wire-protocol
 *
 * @example
 *   import { openKeyring, createFieldEncryption, vaultTransitFromEnv } from 'steward/crypto';
 *   // VAULT_ADDR, VAULT_TOKEN, STEWARD_VAULT_TRANSIT_KEY=steward (and optionally
 *   // VAULT_NAMESPACE, VAULT_CACERT, STEWARD_VAULT_TRANSIT_MOUNT)
 *   const keyring = await openKeyring({ store, master: await vaultTransitFromEnv() });
 */
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { inspect } from 'node:util';
import { CryptoError, type ErrorCode } from '../../errors.js';
import { scopeName } from '../format.js';
import { wrapAad } from '../keyring.js';
import type { KeyStore, KmsProvider, StoredKey, WrapContext } from '../types.js';

/** The `kind` recorded in the state store's master key list. */
export const VAULT_TRANSIT_KIND = 'vault-transit';

/**
 * How the wrap context is bound to a wrapped key:
 * - `associated-data` (default): `associated_data` on encrypt/decrypt; any `aes256-gcm96`
 *   (or `aes128-gcm96`, `chacha20-poly1305`) key that is not `derived`; needs Vault ≥ 1.13;
 * - `derived-context`: `context` on a key created with `derived=true`; rewraps inside Vault.
 */
export type VaultTransitBinding = 'associated-data' | 'derived-context';

export interface VaultTransitOptions {
  /** Vault's address, e.g. `https://vault.internal:8200` (a path prefix is kept). Plain `http` only to a loopback address unless {@link allowPlainHttp}. */
  readonly address: string;
  /** A Vault token, or a function returning the current one (e.g. read from a Vault Agent sink file), called per request. */
  readonly token: string | (() => string | Promise<string>);
  /** The transit key's name. */
  readonly name: string;
  /** Where the transit engine is mounted (default `transit`). */
  readonly mount?: string;
  /** Vault Enterprise / HCP namespace, sent as `X-Vault-Namespace`. */
  readonly namespace?: string;
  /** Per-attempt deadline for connecting and reading the whole answer, in ms (default 10,000). */
  readonly timeoutMs?: number;
  /** Further attempts after a network failure, 429 or 5xx (not after a timeout); default 2, with 100 ms, 200 ms, … pauses. */
  readonly retries?: number;
  /** PEM certificate(s) of the CA that signed Vault's certificate, when it is not a publicly trusted one. */
  readonly ca?: string | Buffer;
  /** See {@link VaultTransitBinding}. */
  readonly binding?: VaultTransitBinding;
  /** Accept `http://` to a non-loopback host (the token would cross the network in clear). Default false. */
  readonly allowPlainHttp?: boolean;
}

/** {@link createVaultTransitKms} options: anything left out is read from the environment. */
export interface VaultTransitFactoryOptions extends Partial<VaultTransitOptions> {
  /** A file holding the CA's PEM certificate(s) (default `VAULT_CACERT`). */
  readonly caFile?: string;
  /** Where defaults are read from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

/** What Vault reports about the transit key (`GET /v1/<mount>/keys/<name>`, needs `read`). */
export interface VaultTransitKeyInfo {
  readonly name: string;
  readonly type: string;
  readonly derived: boolean;
  readonly latestVersion: number;
  readonly minDecryptionVersion: number;
}

export const DEFAULT_VAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_VAULT_RETRIES = 2;
const MAX_RESPONSE_BYTES = 1024 * 1024;
const WRAPPED = /^vault:v(\d{1,10}):[A-Za-z0-9+/]+={0,2}$/;
const NAME = /^\w(?:[\w.@-]*\w)?$/;
const MOUNT = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;
const AEAD_TYPES = new Set(['aes256-gcm96', 'aes128-gcm96', 'chacha20-poly1305', 'xchacha20-poly1305']);

/** The transit key version a wrapped key names (`vault:v3:…` → 3); null when it is not a transit ciphertext. */
export function vaultKeyVersion(wrapped: string): number | null {
  const m = WRAPPED.exec(wrapped);
  return m ? Number(m[1]) : null;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function configError(message: string, hint: string): CryptoError {
  return new CryptoError('CRYPTO_MASTER_KEY', message, { hint });
}

function strictBase64(text: unknown): Buffer | null {
  if (typeof text !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  return Buffer.from(text, 'base64');
}

/** A request that got no HTTP answer. */
class TransportFailure extends Error {
  constructor(
    readonly reason: string,
    readonly timedOut: boolean,
    readonly tls: boolean,
    readonly systemCause: unknown,
  ) {
    super(reason);
  }
}

interface HttpAnswer {
  readonly status: number;
  readonly location: string | null;
  readonly body: string;
}

type Operation = 'wrap' | 'unwrap' | 'rewrap' | 'read';

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME/;

function describeNetworkError(e: unknown): { reason: string; tls: boolean; cause: unknown } {
  // fetch wraps the socket error: TypeError('fetch failed', { cause })
  let cause: unknown = e;
  for (let i = 0; i < 3 && cause instanceof Error && cause.cause !== undefined && !(cause as { code?: unknown }).code; i++) cause = cause.cause;
  const code = String((cause as { code?: unknown })?.code ?? '');
  if (code === 'ECONNREFUSED') return { reason: 'the connection was refused (is Vault running on that port?)', tls: false, cause };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { reason: 'the host name does not resolve', tls: false, cause };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return { reason: 'the connection was closed before Vault answered', tls: false, cause };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { reason: 'the host is unreachable from here', tls: false, cause };
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return { reason: 'connecting timed out', tls: false, cause };
  if (TLS_CODES.test(code)) return { reason: `its TLS certificate was not accepted (${code})`, tls: true, cause };
  const msg = cause instanceof Error ? cause.message : String(cause);
  return { reason: `the request failed (${code || msg.slice(0, 120)})`, tls: /certificate|tls|ssl/i.test(msg), cause };
}

/**
 * The Vault transit {@link KmsProvider}. Create it with {@link createVaultTransitKms}
 * or {@link vaultTransitFromEnv}; pass it as `master` (or in `previous`) to `openKeyring`.
 * Safe to use concurrently. Prints as `VaultTransitKms(vault:transit/steward @ https://…)`:
 * never the token.
 */
export class VaultTransitKms implements KmsProvider {
  /** `vault:<mount>/<name>`: recorded with every wrapped key and bound into its wrap context. */
  readonly keyId: string;
  readonly kind = VAULT_TRANSIT_KIND;
  /** Where Vault is (origin and path prefix; never credentials). */
  readonly address: string;
  readonly mount: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly binding: VaultTransitBinding;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly #token: string | (() => string | Promise<string>);
  readonly #agent: https.Agent | null;

  constructor(options: VaultTransitOptions) {
    let url: URL;
    try {
      url = new URL(options.address);
    } catch {
      throw configError(`The Vault address is not a URL (${options.address.length} characters)`, 'Set VAULT_ADDR (or `address`) to e.g. https://vault.internal:8200');
    }
    if (url.username || url.password) {
      throw configError('The Vault address must not contain credentials', 'Remove user:password@ from VAULT_ADDR; Steward authenticates with the token (VAULT_TOKEN)');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw configError(`The Vault address must be http(s), not ${url.protocol}`, 'Set VAULT_ADDR to e.g. https://vault.internal:8200');
    }
    if (url.search || url.hash) throw configError('The Vault address must not have a query or fragment', 'Set VAULT_ADDR to the bare address, e.g. https://vault.internal:8200');
    if (url.protocol === 'http:' && !isLoopback(url.hostname) && !options.allowPlainHttp) {
      throw configError(
        `Refusing plain http to Vault at ${url.origin}: the token and every data key would cross the network unencrypted`,
        'Use https (set VAULT_CACERT for a private CA), or pass allowPlainHttp: true if the network path is protected some other way',
      );
    }
    this.address = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    const mount = (options.mount ?? 'transit').replace(/^\/+|\/+$/g, '');
    if (!MOUNT.test(mount) || mount.split('/').some((seg) => seg === '.' || seg === '..')) throw configError(`The Vault transit mount "${mount.slice(0, 80)}" is not a valid mount path`, 'Use the path the transit engine is enabled at, e.g. transit');
    if (typeof options.name !== 'string' || !NAME.test(options.name)) {
      throw configError(`The Vault transit key name "${String(options.name ?? '').slice(0, 80)}" is not a valid key name`, 'Set STEWARD_VAULT_TRANSIT_KEY (or `name`) to the transit key, e.g. steward (letters, digits, _ - . @)');
    }
    if (typeof options.token === 'string' && options.token.trim() === '') {
      throw configError('No Vault token: VAULT_TOKEN is empty', 'Set VAULT_TOKEN to a token whose policy allows update on the transit encrypt and decrypt paths of the key');
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_VAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
    const retries = options.retries ?? DEFAULT_VAULT_RETRIES;
    if (!Number.isInteger(retries) || retries < 0 || retries > 10) throw new RangeError(`retries must be an integer 0..10, got ${retries}`);
    const binding = options.binding ?? 'associated-data';
    if (binding !== 'associated-data' && binding !== 'derived-context') throw new RangeError(`binding must be associated-data or derived-context, got ${String(binding)}`);
    this.mount = mount;
    this.name = options.name;
    this.keyId = `vault:${mount}/${options.name}`;
    this.namespace = options.namespace?.trim() ? options.namespace.trim() : undefined;
    this.binding = binding;
    this.timeoutMs = timeoutMs;
    this.retries = retries;
    this.#token = typeof options.token === 'string' ? options.token.trim() : options.token;
    this.#agent = options.ca !== undefined && url.protocol === 'https:' ? new https.Agent({ ca: options.ca, keepAlive: true }) : null;
  }

  async wrapKey(dek: Uint8Array, context: WrapContext): Promise<string> {
    const bound = Buffer.from(context.aad).toString('base64');
    const data = await this.#call('wrap', context, 'POST', 'encrypt', {
      plaintext: Buffer.from(dek.buffer, dek.byteOffset, dek.byteLength).toString('base64'),
      ...(this.binding === 'derived-context' ? { context: bound } : { associated_data: bound }),
    });
    return this.#ciphertextOf(data, 'wrap', context);
  }

  async unwrapKey(wrapped: string, context: WrapContext): Promise<Buffer> {
    this.#checkWrapped(wrapped, context);
    const bound = Buffer.from(context.aad).toString('base64');
    const data = await this.#call('unwrap', context, 'POST', 'decrypt', {
      ciphertext: wrapped,
      ...(this.binding === 'derived-context' ? { context: bound } : { associated_data: bound }),
    });
    const dek = strictBase64(data.plaintext);
    if (dek === null) throw this.#unexpected('unwrap', context, 'its answer has no base64 plaintext');
    return dek;
  }

  /**
   * Re-wraps `wrapped` under the transit key's latest version (after
   * `vault write -f <mount>/keys/<name>/rotate`), bound to the same context.
   * With `binding: 'derived-context'` this is Vault's `rewrap` endpoint and the data key
   * never leaves Vault; with `associated-data` it is decrypt then encrypt, because
   * Vault's rewrap endpoint does not accept associated data (the key passes through
   * this process's memory, as it does on every unwrap, and is zeroed after).
   */
  async rewrap(wrapped: string, context: WrapContext): Promise<string> {
    this.#checkWrapped(wrapped, context);
    if (this.binding === 'derived-context') {
      const data = await this.#call('rewrap', context, 'POST', 'rewrap', { ciphertext: wrapped, context: Buffer.from(context.aad).toString('base64') });
      return this.#ciphertextOf(data, 'rewrap', context);
    }
    const dek = await this.unwrapKey(wrapped, context);
    try {
      return await this.wrapKey(dek, context);
    } finally {
      dek.fill(0);
    }
  }

  /** The transit key's type, derivation and versions (needs `read` on `<mount>/keys/<name>`). */
  async describeKey(): Promise<VaultTransitKeyInfo> {
    const data = await this.#call('read', null, 'GET', 'keys', null);
    const latest = data.latest_version;
    if (typeof data.type !== 'string' || typeof latest !== 'number') throw this.#unexpected('read', null, 'its answer lacks the key type or latest version');
    return {
      name: typeof data.name === 'string' ? data.name : this.name,
      type: data.type,
      derived: data.derived === true,
      latestVersion: latest,
      minDecryptionVersion: typeof data.min_decryption_version === 'number' ? data.min_decryption_version : 1,
    };
  }

  /**
   * Checks the transit key fits this provider (exists, supports associated data, and is
   * `derived` exactly when `binding` is `derived-context`); returns what Vault reports.
   * @throws CryptoError `CRYPTO_MASTER_KEY` naming the mismatch.
   */
  async verify(): Promise<VaultTransitKeyInfo> {
    const info = await this.describeKey();
    const where = `Vault transit key ${this.mount}/${this.name} at ${this.address}`;
    if (!AEAD_TYPES.has(info.type)) {
      throw configError(`${where} is of type ${info.type}, which cannot wrap data keys with associated data`, `Create an aes256-gcm96 key: vault write -f ${this.mount}/keys/<name>`);
    }
    if (this.binding === 'associated-data' && info.derived) {
      throw configError(`${where} is a derived key, but Steward is set to bind with associated data`, "Use binding: 'derived-context' for this key, or a key created without derived=true");
    }
    if (this.binding === 'derived-context' && !info.derived) {
      throw configError(`${where} is not a derived key, but Steward is set to bind with a derivation context`, `Create one with \`vault write ${this.mount}/keys/<name> derived=true\`, or use binding: 'associated-data'`);
    }
    return info;
  }

  toString(): string {
    return `VaultTransitKms(${this.keyId} @ ${this.address}${this.namespace ? ` ns ${this.namespace}` : ''})`;
  }

  toJSON(): { keyId: string; kind: string; address: string; namespace?: string; binding: VaultTransitBinding } {
    return { keyId: this.keyId, kind: this.kind, address: this.address, ...(this.namespace ? { namespace: this.namespace } : {}), binding: this.binding };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  // ---------------------------------------------------------------------------

  #what(op: Operation, context: WrapContext | null): string {
    if (!context) return `Cannot read transit key ${this.mount}/${this.name} from Vault at ${this.address}`;
    const key = `${context.kind === 'dek' ? 'data key' : 'blind-index key'} ${context.keyId} version ${context.version} of ${scopeName(context.scope)}`;
    const verb = op === 'wrap' ? 'wrap the new' : op === 'unwrap' ? 'unwrap the' : 'rewrap the';
    return `Cannot ${verb} ${key} with Vault transit key ${this.mount}/${this.name} at ${this.address}`;
  }

  #checkWrapped(wrapped: string, context: WrapContext): void {
    if (typeof wrapped !== 'string' || wrapped.length > 8192 || !WRAPPED.test(wrapped)) {
      throw new CryptoError(
        'CRYPTO_TAMPERED',
        `The wrapped ${context.kind === 'dek' ? 'data key' : 'blind-index key'} ${context.keyId} version ${context.version} of ${scopeName(context.scope)} is not a Vault transit ciphertext (vault:v<N>:…) in the state store`,
        { hint: 'Restore the state store from a backup' },
      );
    }
  }

  #ciphertextOf(data: Record<string, unknown>, op: Operation, context: WrapContext): string {
    const c = data.ciphertext;
    if (typeof c !== 'string' || !WRAPPED.test(c)) throw this.#unexpected(op, context, 'its answer has no vault:v<N>: ciphertext');
    return c;
  }

  #unexpected(op: Operation, context: WrapContext | null, why: string): CryptoError {
    return configError(`${this.#what(op, context)}: ${why}`, 'Check that VAULT_ADDR points at Vault itself (not a proxy page) and that the mount is a transit engine');
  }

  async #tokenNow(): Promise<string> {
    let t: string;
    try {
      t = typeof this.#token === 'string' ? this.#token : await this.#token();
    } catch (e) {
      throw new CryptoError('CRYPTO_MASTER_KEY', `Could not obtain a Vault token for ${this.keyId}: the token function failed`, {
        hint: 'Check the Vault Agent sink file or whatever supplies the token',
        cause: e,
      });
    }
    if (typeof t !== 'string' || t.trim() === '') {
      throw configError(`No Vault token for ${this.keyId}`, 'Set VAULT_TOKEN to a token whose policy allows update on the transit encrypt and decrypt paths of the key');
    }
    return t.trim();
  }

  /** One call with retries; returns the answer's `data` object or throws a mapped CryptoError. */
  async #call(op: Operation, context: WrapContext | null, method: 'GET' | 'POST', endpoint: string, body: Record<string, unknown> | null): Promise<Record<string, unknown>> {
    const token = await this.#tokenNow();
    const url = `${this.address}/v1/${this.mount}/${endpoint}/${this.name}`;
    const headers: Record<string, string> = { 'x-vault-token': token, 'x-vault-request': 'true', accept: 'application/json' };
    if (this.namespace) headers['x-vault-namespace'] = this.namespace;
    const payload = body === null ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const redact = (s: string) => (token.length >= 4 ? s.split(token).join('[token]') : s);

    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.retries;
      let answer: HttpAnswer;
      try {
        answer = await this.#send(method, url, headers, payload);
      } catch (e) {
        if (!(e instanceof TransportFailure)) throw e;
        if (!last && !e.timedOut && !e.tls) {
          await sleep(100 * 2 ** attempt);
          continue;
        }
        throw new CryptoError('CRYPTO_MASTER_KEY', `${this.#what(op, context)}: ${redact(e.reason)}`, {
          hint: e.tls
            ? 'Set VAULT_CACERT (or caFile) to the CA certificate that signed Vault\'s certificate, and check the host name in VAULT_ADDR matches it'
            : e.timedOut
              ? `Check Vault's health (\`vault status\`) and the network, or raise timeoutMs (${this.timeoutMs} ms now)`
              : 'Check VAULT_ADDR and that Vault is running, reachable from this host and unsealed (`vault status`); the master key is unavailable until it is',
          cause: e.systemCause,
        });
      }
      const retryable = answer.status === 429 || (answer.status >= 500 && answer.status !== 501);
      if (retryable && !last) {
        await sleep(100 * 2 ** attempt);
        continue;
      }
      return this.#interpret(op, context, answer, redact);
    }
  }

  #interpret(op: Operation, context: WrapContext | null, answer: HttpAnswer, redact: (s: string) => string): Record<string, unknown> {
    const what = this.#what(op, context);
    let json: unknown = null;
    try {
      json = answer.body === '' ? null : JSON.parse(answer.body);
    } catch {
      json = null;
    }
    const obj = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
    if (answer.status >= 200 && answer.status < 300) {
      const data = obj?.data;
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw this.#unexpected(op, context, `its answer (HTTP ${answer.status}) has no data object`);
      return data as Record<string, unknown>;
    }
    const errors = Array.isArray(obj?.errors) ? (obj!.errors as unknown[]).filter((x): x is string => typeof x === 'string') : [];
    const said = redact(errors.join('; ').replace(/\s+/g, ' ').trim()).slice(0, 300);
    const vaultSays = said ? `Vault says "${said}"` : 'Vault gave no reason';
    const fail = (code: Extract<ErrorCode, `CRYPTO_${string}`>, message: string, hint: string) => new CryptoError(code, message, { hint });
    const status = answer.status;

    if (status >= 300 && status < 400) {
      let to = 'another address';
      try {
        if (answer.location) to = new URL(answer.location, this.address).origin;
      } catch {
        /* keep the generic text */
      }
      return throwIt(
        fail('CRYPTO_MASTER_KEY', `${what}: Vault redirected the request to ${to} (HTTP ${status}; a standby node?)`, 'Point VAULT_ADDR at the active Vault node or a load balancer that forwards to it; Steward does not follow redirects, so the token is never sent to another address'),
      );
    }
    if (status === 401 || status === 403) {
      return throwIt(
        fail(
          'CRYPTO_WRONG_KEY',
          `${what}: Vault refused the token (HTTP ${status}, ${vaultSays})`,
          `The token (VAULT_TOKEN) may be invalid or expired, or its policy lacks the path; it needs \`path "${this.mount}/encrypt/${this.name}" { capabilities = ["update"] }\` and \`path "${this.mount}/decrypt/${this.name}" { capabilities = ["update"] }\`${this.namespace ? ` in namespace ${this.namespace}` : ''}`,
        ),
      );
    }
    if (status === 400 && context && (op === 'unwrap' || op === 'rewrap')) {
      const key = `The wrapped ${context.kind === 'dek' ? 'data key' : 'blind-index key'} ${context.keyId} version ${context.version} of ${scopeName(context.scope)}`;
      if (/message authentication failed/i.test(said)) {
        if (op === 'rewrap' && this.binding === 'associated-data') {
          // Cannot happen through rewrap() (it decrypts and encrypts); kept for clarity.
          return throwIt(fail('CRYPTO_MASTER_KEY', `${what}: Vault's rewrap endpoint cannot rewrap keys bound with associated data`, "Use binding: 'derived-context' to rewrap inside Vault"));
        }
        return throwIt(
          fail('CRYPTO_TAMPERED', `${key} does not verify under Vault transit key ${this.mount}/${this.name}: its stored row was changed, or moved to another column or version (${vaultSays})`, 'Restore the state store from a backup; the Vault key and token are the right ones (Vault accepted the request)'),
        );
      }
      if (/version is too new/i.test(said)) {
        return throwIt(
          fail('CRYPTO_WRONG_KEY', `${key} names a version of Vault transit key ${this.mount}/${this.name} that the key does not have (${vaultSays})`, 'The transit key was deleted and recreated, or restored from an older backup: restore the key that wrapped these data keys'),
        );
      }
      if (/too old|min_decryption_version|disallowed by policy/i.test(said)) {
        return throwIt(
          fail('CRYPTO_UNKNOWN_KEY_VERSION', `${key} was wrapped with a version of Vault transit key ${this.mount}/${this.name} below its min_decryption_version (${vaultSays})`, `Lower min_decryption_version (\`vault write ${this.mount}/keys/${this.name}/config min_decryption_version=<n>\`), and rewrap data keys before raising it again`),
        );
      }
      if (/invalid ciphertext/i.test(said)) {
        return throwIt(fail('CRYPTO_TAMPERED', `${key} is malformed in the state store (${vaultSays})`, 'Restore the state store from a backup'));
      }
    }
    if (status === 400 && /encryption key not found/i.test(said)) {
      return throwIt(fail('CRYPTO_MASTER_KEY', `${what}: the transit key does not exist (${vaultSays})`, `Create it with \`vault write -f ${this.mount}/keys/${this.name}\`${this.binding === 'derived-context' ? ' derived=true' : ''}, or set STEWARD_VAULT_TRANSIT_KEY to the key's name; if data keys were wrapped with it, restore it from a backup`));
    }
    if (status === 400 && /associated_data|non-AEAD/i.test(said)) {
      return throwIt(fail('CRYPTO_MASTER_KEY', `${what}: the transit key cannot take associated data (${vaultSays})`, 'Use an aes256-gcm96 key on Vault 1.13 or later'));
    }
    if (status === 400 && /context|derived|derivation/i.test(said)) {
      return throwIt(
        fail('CRYPTO_MASTER_KEY', `${what}: the transit key's derivation setting does not match binding ${this.binding} (${vaultSays})`, this.binding === 'associated-data' ? "This key is derived: use binding: 'derived-context'" : "This key is not derived: use binding: 'associated-data'"),
      );
    }
    if (status === 404) {
      return throwIt(
        fail('CRYPTO_MASTER_KEY', `${what}: Vault has no such path (HTTP 404, ${vaultSays})`, `Check that a transit engine is enabled at ${this.mount}${this.namespace ? ` in namespace ${this.namespace}` : ''} (\`vault secrets list\`) and that the key exists`),
      );
    }
    if (status === 503 && /sealed/i.test(said)) {
      return throwIt(fail('CRYPTO_MASTER_KEY', `${what}: Vault is sealed`, 'Unseal Vault (`vault operator unseal`); the master key is unavailable until then'));
    }
    if (status === 429 || status >= 500) {
      return throwIt(
        fail('CRYPTO_MASTER_KEY', `${what}: Vault failed (HTTP ${status}, ${vaultSays}) after ${this.retries + 1} attempt${this.retries === 0 ? '' : 's'}`, 'Check Vault\'s health and logs (`vault status`); retry when it is healthy'),
      );
    }
    return throwIt(fail('CRYPTO_MASTER_KEY', `${what}: Vault rejected the request (HTTP ${status}, ${vaultSays})`, 'Check the transit key, mount and namespace settings'));
  }

  /** One HTTP exchange within the deadline; throws TransportFailure when there is no complete answer. */
  async #send(method: string, url: string, headers: Record<string, string>, payload: string | undefined): Promise<HttpAnswer> {
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, this.timeoutMs);
    const failure = (e: unknown): TransportFailure => {
      if (e instanceof TransportFailure) return e;
      if (timedOut) return new TransportFailure(`Vault did not answer within ${this.timeoutMs} ms`, true, false, undefined);
      const d = describeNetworkError(e);
      return new TransportFailure(d.reason, false, d.tls, d.cause);
    };
    try {
      return this.#agent ? await this.#sendHttps(method, url, headers, payload, ac.signal) : await sendFetch(method, url, headers, payload, ac.signal);
    } catch (e) {
      throw failure(e);
    } finally {
      clearTimeout(timer);
    }
  }

  #sendHttps(method: string, url: string, headers: Record<string, string>, payload: string | undefined, signal: AbortSignal): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: this.#agent!, signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy();
            reject(new TransportFailure(`Vault answered with more than ${MAX_RESPONSE_BYTES} bytes`, false, false, undefined));
          } else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: typeof res.headers.location === 'string' ? res.headers.location : null, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error('the connection closed before the answer was complete'));
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}

async function sendFetch(method: string, url: string, headers: Record<string, string>, payload: string | undefined, signal: AbortSignal): Promise<HttpAnswer> {
  const res = await fetch(url, { method, headers, body: payload, signal, redirect: 'manual' });
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_RESPONSE_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw new TransportFailure(`Vault answered with more than ${MAX_RESPONSE_BYTES} bytes`, false, false, undefined);
      }
      chunks.push(value);
    }
  }
  return { status: res.status, location: res.headers.get('location'), body: Buffer.concat(chunks).toString('utf8') };
}

function throwIt(e: CryptoError): never {
  throw e;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A {@link VaultTransitKms} from options, anything left out taken from the environment:
 * `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE`, `VAULT_CACERT` (a PEM file), and
 * `STEWARD_VAULT_TRANSIT_KEY` (the key name) / `STEWARD_VAULT_TRANSIT_MOUNT` (default `transit`).
 * @throws CryptoError `CRYPTO_MASTER_KEY` when the address, token or key name is missing or
 *   malformed, or the CA file cannot be read (the token is never echoed).
 */
export async function createVaultTransitKms(options: VaultTransitFactoryOptions = {}): Promise<VaultTransitKms> {
  const env = options.env ?? process.env;
  const pick = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);
  const address = options.address ?? pick(env.VAULT_ADDR);
  if (!address) throw configError('The Vault address is not set (VAULT_ADDR)', 'Set VAULT_ADDR to e.g. https://vault.internal:8200');
  const token = options.token ?? pick(env.VAULT_TOKEN);
  if (token === undefined) {
    throw configError('No Vault token: VAULT_TOKEN is not set', 'Set VAULT_TOKEN to a token whose policy allows update on the transit encrypt and decrypt paths of the key (docs/encryption.md, Key management services)');
  }
  const name = options.name ?? pick(env.STEWARD_VAULT_TRANSIT_KEY);
  if (!name) throw configError('The Vault transit key name is not set (STEWARD_VAULT_TRANSIT_KEY)', 'Set STEWARD_VAULT_TRANSIT_KEY to the name of the transit key that wraps Steward\'s data keys');
  let ca = options.ca;
  const caFile = options.caFile ?? pick(env.VAULT_CACERT);
  if (ca === undefined && caFile !== undefined) {
    try {
      ca = await readFile(caFile);
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new CryptoError('CRYPTO_MASTER_KEY', `Cannot read the Vault CA certificate file ${caFile}: ${code === 'ENOENT' ? 'it does not exist' : (code ?? 'unreadable')}`, {
        hint: 'Set VAULT_CACERT (or caFile) to the PEM file of the CA that signed Vault\'s certificate',
        cause: e,
      });
    }
    if (!ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
      throw configError(`The Vault CA certificate file ${caFile} holds no PEM certificate`, 'Point VAULT_CACERT at a PEM file (-----BEGIN CERTIFICATE-----)');
    }
  }
  return new VaultTransitKms({
    address,
    token,
    name,
    mount: options.mount ?? pick(env.STEWARD_VAULT_TRANSIT_MOUNT) ?? 'transit',
    namespace: options.namespace ?? pick(env.VAULT_NAMESPACE),
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    ca,
    binding: options.binding,
    allowPlainHttp: options.allowPlainHttp,
  });
}

/** {@link createVaultTransitKms} with everything from the environment (`VAULT_ADDR`, `VAULT_TOKEN`, `STEWARD_VAULT_TRANSIT_KEY`, …). */
export function vaultTransitFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<VaultTransitKms> {
  return createVaultTransitKms({ env });
}

/**
 * After rotating the transit key in Vault (`vault write -f <mount>/keys/<name>/rotate`),
 * moves every stored key wrapped by `kms` to the key's latest version, so older
 * versions can be retired (`min_decryption_version`) and eventually trimmed. Data is
 * not re-encrypted and data keys do not change. All or nothing: the store is updated
 * in one transaction after every key was rewrapped (destroyed keys are left alone).
 *
 * (Moving keys to a different master key — local → Vault, or one transit key to
 * another — is `keyring.rewrap(newProvider)` with the old one in `previous`.)
 */
export async function rewrapStoredKeys(store: { readonly keys: KeyStore } | KeyStore, kms: VaultTransitKms): Promise<{ readonly examined: number; readonly rewrapped: number }> {
  const keys: KeyStore = 'keys' in store && typeof (store as { keys: unknown }).keys === 'object' ? (store as { keys: KeyStore }).keys : (store as KeyStore);
  const rows = (await keys.listKeys()).filter((r): r is StoredKey & { wrapped: string } => r.wrapped !== null && r.kekId === kms.keyId);
  const updates: { keyId: string; version: number; kekId: string; wrapped: string }[] = [];
  for (const r of rows) {
    const context: WrapContext = { scope: r.scope, kind: r.kind, keyId: r.keyId, version: r.version, aad: wrapAad(r.kekId, r.kind, r.keyId, r.version, r.scope) };
    const next = await kms.rewrap(r.wrapped, context);
    if (vaultKeyVersion(next) !== vaultKeyVersion(r.wrapped)) updates.push({ keyId: r.keyId, version: r.version, kekId: r.kekId, wrapped: next });
  }
  await keys.rewrapKeys(updates);
  return { examined: rows.length, rewrapped: updates.length };
}
