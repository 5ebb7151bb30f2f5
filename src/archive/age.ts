/**
 * Encrypted archives as age files (https://age-encryption.org/v1), written and
 * read with the `age-encryption` library, so that `age -d -i key.txt` (or rage)
 * opens what Steward writes and Steward opens what `age -r age1…` writes. The
 * machine that writes an archive holds public keys only and cannot read it back.
 * Files of Steward's earlier format (`steward-archive/1`) are still read
 * (legacy.ts); nothing writes them. The layout is in docs/archives.md.
 *
 * Streams hold at most one 64 KiB chunk plus what their neighbours buffer,
 * whatever the archive's size. A decrypting stream releases each chunk once it
 * authenticates and errors when the file was cut, so treat its output as
 * provisional until it ends without error (`decryptFile` does: temporary file,
 * renamed only on success).
 *
 * Errors (`CryptoError`): `CRYPTO_NOT_CIPHERTEXT` (empty, or neither an age file
 * nor the earlier format; armored age files are not read), `CRYPTO_WRONG_KEY`
 * (not encrypted to any of the given private keys), `CRYPTO_TAMPERED` (header or
 * chunk does not verify; truncated; data appended). Messages name fingerprints,
 * chunk numbers and byte offsets, never key material or plaintext.
 */
import { Duplex } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';
import { CryptoError } from '../errors.js';
import { parseRecipient, type Recipient, type RecipientIdentity } from './keys.js';
import { inspectLegacyHeader, LegacyDecryptor, looksLikeLegacy } from './legacy.js';

/** The first line of every age file. */
export const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n', 'latin1');
/** Plaintext bytes per payload chunk (age's STREAM chunk). */
export const CHUNK_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const NONCE_BYTES = 16;
/** Headers longer than this are not read (age's own header of 64 X25519 recipients is ~8 KiB). */
const MAX_HEADER_BYTES = 1024 * 1024;
const ARCHIVE_HINT = 'Copy the archive again from where it was written; do not trust anything already decrypted from this copy';

/** The size of the age file of `plaintextBytes` bytes encrypted to `recipients` X25519 recipients. */
export function archiveLength(plaintextBytes: number, recipients: number): number {
  const chunks = Math.max(1, Math.ceil(plaintextBytes / CHUNK_BYTES));
  // "-> X25519 <43 base64>\n<43 base64>\n" per recipient, "--- <43 base64>\n", the 16-byte payload nonce.
  return AGE_MAGIC.length + recipients * (10 + 43 + 1 + 43 + 1) + (4 + 43 + 1) + NONCE_BYTES + plaintextBytes + chunks * TAG_BYTES;
}

/** One stanza of an age header: its type (`X25519`, `scrypt`, …) and arguments; bodies are not kept. */
export interface AgeStanza {
  readonly type: string;
  readonly args: readonly string[];
}

const B64_LINE = /^[A-Za-z0-9+/]*$/;

/**
 * What an age header says without a private key: its stanzas (recipient entries).
 * `null` when `head` does not hold the whole header yet; a string says why it is
 * not an age header. Checks the shape age requires (version line, `-> ` stanzas
 * with base64 bodies in 64-column lines, the `--- ` MAC line), not the MAC.
 */
export function parseAgeHeader(head: Uint8Array, final = true): { stanzas: AgeStanza[]; headerBytes: number } | string | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const n = Math.min(b.length, AGE_MAGIC.length);
  if (!b.subarray(0, n).equals(AGE_MAGIC.subarray(0, n))) return 'it is not an age file (it does not start with "age-encryption.org/v1")';
  const stanzas: AgeStanza[] = [];
  let at = n;
  if (n < AGE_MAGIC.length) return final ? 'it ends inside its header' : null;
  for (;;) {
    const nl = b.indexOf(0x0a, at);
    if (nl < 0) return final || b.length > MAX_HEADER_BYTES ? 'it ends inside its header' : null;
    const line = b.subarray(at, nl).toString('latin1');
    at = nl + 1;
    if (line.startsWith('--- ')) {
      if (!/^[A-Za-z0-9+/]{43}$/.test(line.slice(4))) return 'its header MAC line is malformed';
      if (stanzas.length === 0) return 'its header has no recipient stanza';
      return { stanzas, headerBytes: at };
    }
    if (!line.startsWith('-> ')) return 'its header has a line that is neither a stanza nor the MAC';
    const [type, ...args] = line.slice(3).split(' ');
    if (!type || args.some((a) => a === '')) return 'its header has a malformed stanza';
    // The body: full 64-column base64 lines, ended by a shorter (possibly empty) one.
    for (;;) {
      const end = b.indexOf(0x0a, at);
      if (end < 0) return final || b.length > MAX_HEADER_BYTES ? 'it ends inside its header' : null;
      const body = b.subarray(at, end).toString('latin1');
      at = end + 1;
      if (body.length > 64 || !B64_LINE.test(body)) return 'its header has a malformed stanza body';
      if (body.length < 64) break;
    }
    stanzas.push({ type, args });
  }
}

/** Which format an archive file is in, and what its header says without a key. */
export type ArchiveHeader =
  | { readonly format: 'age'; readonly recipients: number; readonly stanzas: readonly AgeStanza[]; readonly headerBytes: number }
  | { readonly format: 'steward-archive/1'; readonly recipients: number; readonly recipientIds: readonly string[]; readonly headerBytes: number };

/**
 * The header of an archive file of either format, read from its first bytes
 * (`head`, 64 KiB are plenty) and its size; a string says why it is not one.
 * An age header does not name its recipients: `recipients` counts its X25519 stanzas.
 */
export function inspectArchiveHeader(head: Uint8Array, fileBytes: number): ArchiveHeader | string {
  if (looksLikeLegacy(head)) {
    const h = inspectLegacyHeader(head, fileBytes);
    return typeof h === 'string' ? h : { format: 'steward-archive/1', recipients: h.recipients.length, recipientIds: h.recipients, headerBytes: h.headerBytes };
  }
  const h = parseAgeHeader(head.length > fileBytes ? head.subarray(0, fileBytes) : head, true);
  if (h === null || typeof h === 'string') return h ?? 'it ends inside its header';
  if (fileBytes < h.headerBytes + NONCE_BYTES + TAG_BYTES) return 'it ends right after its header';
  return { format: 'age', recipients: h.stanzas.filter((s) => s.type === 'X25519').length, stanzas: h.stanzas, headerBytes: h.headerBytes };
}

/** True when `head` (a file's first bytes, at least 22) starts like an archive of either format. */
export function looksLikeArchive(head: Uint8Array): boolean {
  return looksLikeLegacy(head) || (head.length >= AGE_MAGIC.length && Buffer.from(head.buffer, head.byteOffset, AGE_MAGIC.length).equals(AGE_MAGIC));
}

function recipientList(recipients: readonly (Recipient | string)[]): Recipient[] {
  const list: Recipient[] = [];
  const seen = new Set<string>();
  for (const r of recipients) {
    const recipient = parseRecipient(r);
    if (!seen.has(recipient.publicKey)) list.push(recipient);
    seen.add(recipient.publicKey);
  }
  if (list.length === 0) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', 'An archive needs at least one recipient public key', {
      hint: 'Give the age1… public key of whoever may read it (`steward keys recipient new` or `age-keygen` creates a key pair)',
    });
  }
  return list;
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/**
 * A Node Duplex over a web-streams transformation (what the age library offers):
 * bytes written go into a ReadableStream that `start` consumes; what the stream
 * it returns yields is read out. Backpressure both ways (one chunk in flight), and
 * destroying the Duplex (a reader that went away) cancels both web streams, so
 * nothing is left waiting.
 */
class WebBridge extends Duplex {
  #input!: ReadableStreamDefaultController<Uint8Array>;
  #resume: (() => void) | null = null;
  #output: Promise<ReadableStream<Uint8Array>>;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #reading = false;
  readonly #mapError: (e: unknown) => Error;
  plaintextBytes = 0;
  archiveBytes = 0;
  readonly #countIn: 'plaintextBytes' | 'archiveBytes';

  constructor(start: (input: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>, direction: 'encrypt' | 'decrypt', mapError: (e: unknown) => Error = (e) => e as Error) {
    super();
    this.#countIn = direction === 'encrypt' ? 'plaintextBytes' : 'archiveBytes';
    this.#mapError = mapError;
    const input = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.#input = c;
        },
        pull: () => {
          const resume = this.#resume;
          this.#resume = null;
          resume?.();
        },
      },
      { highWaterMark: 1 },
    );
    this.#output = start(input);
    this.#output.catch(() => undefined); // surfaced by the first read
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this[this.#countIn] += chunk.length;
    try {
      this.#input.enqueue(chunk);
    } catch (e) {
      callback(e as Error);
      return;
    }
    if ((this.#input.desiredSize ?? 0) > 0) callback();
    else this.#resume = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    try {
      this.#input.close();
    } catch {
      // already errored: the read side reports why
    }
    callback();
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      this.#reader ??= (await this.#output).getReader();
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (this.destroyed) return;
        if (done) {
          this.push(null);
          return;
        }
        if (this.#countIn === 'plaintextBytes') this.archiveBytes += value.length;
        else this.plaintextBytes += value.length;
        if (!this.push(asBuffer(value))) return;
      }
    } catch (e) {
      if (!this.destroyed) this.destroy(this.#mapError(e));
    } finally {
      this.#reading = false;
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const why = error ?? new Error('the stream was closed');
    try {
      this.#input.error(why);
    } catch {
      // closed already
    }
    const resume = this.#resume;
    this.#resume = null;
    resume?.();
    void this.#output.then((out) => (this.#reader ? this.#reader.cancel(why) : out.cancel(why))).catch(() => undefined);
    callback(error);
  }
}

/** A Node stream with the byte counts of what went through it. */
export interface ArchiveEncryptStream extends Duplex {
  /** The recipients, deduplicated, in the order given. */
  readonly recipients: readonly Recipient[];
  readonly plaintextBytes: number;
  readonly archiveBytes: number;
}

export interface ArchiveDecryptStream extends Duplex {
  /** The format of the archive (once its header was read). */
  readonly format: 'age' | 'steward-archive/1' | null;
  /** The identity whose key opened the archive (once it was read). */
  readonly recipient: Recipient | null;
  readonly plaintextBytes: number;
  readonly archiveBytes: number;
}

/**
 * A Duplex from plaintext to an age file encrypted to `recipients` (`age1…`
 * texts, `stwpub1…` keys of the earlier format, or {@link Recipient}s). Checks the
 * recipients before anything is written.
 */
export function encryptStream(recipients: readonly (Recipient | string)[]): ArchiveEncryptStream {
  const list = recipientList(recipients);
  const encrypter = new Encrypter();
  for (const r of list) encrypter.addRecipient(r.publicKey);
  const bridge = new WebBridge((input) => encrypter.encrypt(input), 'encrypt');
  return Object.defineProperty(bridge, 'recipients', { value: list, enumerable: true }) as unknown as ArchiveEncryptStream;
}

export interface DecryptOptions {
  /** How messages name the archive, e.g. its file name (default "The archive"). */
  readonly name?: string;
}

/** Bytes read from `reader` until `enough(head)` (or its end), and whether it ended. */
async function peek(reader: ReadableStreamDefaultReader<Uint8Array>, enough: (head: Buffer) => boolean, head: Buffer = Buffer.alloc(0)): Promise<{ head: Buffer; done: boolean }> {
  for (;;) {
    if (enough(head)) return { head, done: false };
    const r = await reader.read();
    if (r.done) return { head, done: true };
    head = head.length ? Buffer.concat([head, r.value]) : asBuffer(r.value);
  }
}

/** `head`, then the rest of `reader`, as one stream. */
function prepended(head: Buffer, reader: ReadableStreamDefaultReader<Uint8Array>, done: boolean): ReadableStream<Uint8Array> {
  let first = head.length > 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        if (first) {
          first = false;
          c.enqueue(head);
          return;
        }
        if (done) return c.close();
        const r = await reader.read();
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      cancel: (why) => reader.cancel(why),
    },
    { highWaterMark: 0 },
  );
}

/**
 * A Duplex from an archive (an age file, or one of the earlier format) to its
 * plaintext, with one of `identities`. Errors with a `CryptoError` when the file
 * is no archive, not for these keys, changed, or cut short.
 */
export function decryptStream(identities: RecipientIdentity | readonly RecipientIdentity[], options: DecryptOptions = {}): ArchiveDecryptStream {
  const ids: readonly RecipientIdentity[] = Array.isArray(identities) ? identities : [identities as RecipientIdentity];
  if (ids.length === 0) throw new TypeError('decryptStream needs at least one private key');
  const name = options.name ?? 'The archive';
  const state = { format: null as ArchiveDecryptStream['format'], recipient: null as Recipient | null, recipients: 0 };
  const start = async (input: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> => {
    const reader = input.getReader();
    const { head, done } = await peek(reader, (h) => h.length >= AGE_MAGIC.length);
    if (looksLikeLegacy(head)) {
      state.format = 'steward-archive/1';
      const dec = new LegacyDecryptor(ids, { name });
      return prepended(head, reader, done).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(part, c) {
            for (const out of dec.update(part)) c.enqueue(out);
            state.recipient ??= dec.recipient;
          },
          flush(c) {
            for (const out of dec.final()) c.enqueue(out);
            state.recipient = dec.recipient;
          },
        }),
      );
    }
    if (head.length === 0) throw new CryptoError('CRYPTO_NOT_CIPHERTEXT', `${name} is empty, not an archive`, { hint: 'Check the file: archives are age files (they start with "age-encryption.org/v1")' });
    if (head.length < AGE_MAGIC.length || !head.subarray(0, AGE_MAGIC.length).equals(AGE_MAGIC)) {
      const armored = head.subarray(0, 11).toString('latin1') === '-----BEGIN ';
      throw new CryptoError('CRYPTO_NOT_CIPHERTEXT', armored ? `${name} is an armored (PEM-style) age file, which Steward does not read` : `${name} is not an age file (it does not start with "age-encryption.org/v1")`, {
        hint: armored ? 'Write it without --armor, or decrypt it with `age -d` itself' : 'Check the file: archives are age files written by Steward or `age -r` for your public key',
      });
    }
    // The whole header, to know how many recipients it has (for the message when no key matches).
    const whole = done ? { head, done } : await peek(reader, (h) => parseAgeHeader(h, false) !== null, head);
    const header = parseAgeHeader(whole.head, true);
    if (header && typeof header !== 'string') state.recipients = header.stanzas.length;
    const decrypter = new Decrypter();
    for (const id of ids) decrypter.addIdentity(await id.cryptoKey());
    const output = await decrypter.decrypt(prepended(whole.head, reader, whole.done));
    state.format = 'age';
    // age does not say which identity opened the header: with one key, that one; else try each.
    state.recipient = ids.length === 1 ? ids[0]!.recipient : await openedBy(ids, whole.head);
    return output;
  };
  const bridge = new WebBridge(start, 'decrypt', (e) => ageError(e, name, ids, state.recipients));
  return Object.defineProperties(bridge, {
    format: { get: () => state.format },
    recipient: { get: () => state.recipient },
  }) as unknown as ArchiveDecryptStream;
}

/** The age library's errors (plain `Error`s), as a typed one that names what failed. */
function ageError(e: unknown, name: string, ours: readonly RecipientIdentity[], recipients: number): CryptoError {
  if (e instanceof CryptoError) return e;
  const m = e instanceof Error ? e.message : String(e);
  if (m.includes('no identity matched')) {
    const keys = ours.map((i) => i.id).join(', ');
    return new CryptoError('CRYPTO_WRONG_KEY', `${name} is not encrypted to key ${keys} (the given private key${ours.length > 1 ? 's' : ''}): it is for ${recipients === 1 ? 'another recipient' : `${recipients} other recipients`}`, {
      hint: 'Decrypt it with the private key of one of its recipients (the manifest of an archive set lists them; `steward keys recipient public <key file>` shows a key\'s fingerprint)',
    });
  }
  if (m.includes('header HMAC')) return new CryptoError('CRYPTO_TAMPERED', `${name} header does not verify: it was changed after it was written`, { hint: ARCHIVE_HINT, cause: e });
  if (/stanza|header|non-ASCII/.test(m)) return new CryptoError('CRYPTO_TAMPERED', `${name} has a header that cannot be read: it was changed or is corrupt`, { hint: ARCHIVE_HINT, cause: e });
  if (m.includes('stream ended before reading')) return new CryptoError('CRYPTO_TAMPERED', `${name} ends right after its header: it was truncated`, { hint: ARCHIVE_HINT, cause: e });
  // The library reads ahead, so which chunk failed is not known exactly; the messages do not guess.
  if (m.includes('final chunk is empty')) return new CryptoError('CRYPTO_TAMPERED', `${name} ends with an empty final chunk: it is not a valid age file`, { hint: ARCHIVE_HINT, cause: e });
  if (/tag|invalid/.test(m)) {
    return new CryptoError('CRYPTO_TAMPERED', `${name} does not verify: it was changed, cut short or appended to`, { hint: ARCHIVE_HINT, cause: e });
  }
  return new CryptoError('CRYPTO_TAMPERED', `${name} does not decrypt: it is corrupt`, { hint: ARCHIVE_HINT, cause: e });
}

/** The first of `ids` that opens the header in `head` (several keys were given). */
async function openedBy(ids: readonly RecipientIdentity[], head: Buffer): Promise<Recipient | null> {
  const h = parseAgeHeader(head, true);
  if (h === null || typeof h === 'string') return null;
  for (const id of ids) {
    const d = new Decrypter();
    d.addIdentity(await id.cryptoKey());
    if (await d.decryptHeader(head.subarray(0, h.headerBytes)).then(() => true, () => false)) return id.recipient;
  }
  return null;
}

async function collect(stream: Duplex, data: Uint8Array): Promise<Buffer> {
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const part of stream) out.push(part as Buffer);
  })();
  stream.end(data);
  await done;
  return Buffer.concat(out);
}

/** Encrypts `data` to `recipients` in memory (for small data; use the streams or files for more). */
export async function encryptBuffer(data: Uint8Array, recipients: readonly (Recipient | string)[]): Promise<Buffer> {
  return collect(encryptStream(recipients), data);
}

/** Decrypts an archive (either format) held in memory with one of `identities`. */
export async function decryptBuffer(archive: Uint8Array, identities: RecipientIdentity | readonly RecipientIdentity[], options: DecryptOptions = {}): Promise<Buffer> {
  return collect(decryptStream(identities, options), archive);
}
