/**
 * Archive sets: the rows one retention run removes from one table,
 * written so that **no row is deleted before it is durably in a verified
 * archive**, and every deleted row is in the archive **exactly once**, whatever
 * instant the process is killed at.
 *
 * ## On disk (one directory per run and table)
 *
 * ```
 * chunk-000001.jsonl.gz.age    rows as JSON Lines (codec.ts), gzip, then an age file for the recipients
 * chunk-000002.jsonl.gz.age    …
 * manifest.partial.jsonl       the writer's journal: a header line, then one line per durable chunk
 * manifest.json                written last, by finish(): what verify and restore read
 * ```
 *
 * ## The writer's contract (for the retention engine)
 *
 * ```ts
 * const set = await openOrResumeArchiveSet({ dir, recipients, source, table, primaryKey, columns, runId, policy });
 * for (each batch of due rows, in key order) {
 *   const r = await set.writeChunk(rows);   // resolves only when the chunk is fsynced, renamed, re-read,
 *                                           // its SHA-256 and header checked, and its journal line fsynced
 *   delete rows except r.conflicts;         // every other row passed in is now in the set exactly once
 * }
 * const { digest } = await set.finish();    // manifest.json; record digest in the activity log
 * ```
 *
 * `writeChunk` order: temp file (`.chunk-….tmp`, `wx`) → fsync → rename → fsync the
 * directory → re-read: size, SHA-256, an age header with one X25519 stanza per configured recipient
 * → append the chunk's journal line → fsync the journal. A chunk is archived when,
 * and only when, its journal line is durable; anything else a crash leaves (temp
 * files, a renamed chunk without a journal line, a torn last journal line) is
 * removed by {@link resumeArchiveSet}, which continues the numbering after the
 * last journaled chunk. Those rows were never reported archived, so they are still
 * in the database and are written again.
 *
 * ## Exactly once
 *
 * The journal lists, per chunk, a fingerprint of every row: a keyed hash of its
 * primary key (HMAC-SHA256 with a random per-set salt, 16 bytes) and a hash of the
 * whole encoded row (8 bytes). `writeChunk` skips a row whose key the set already
 * holds with the same content (the engine re-reads rows archived but not yet deleted
 * before a crash) and reports a row whose key it holds with *different* content in
 * `conflicts` (changed after it was archived): it is not written twice, and must not
 * be deleted as if it were archived. Memory: about 80 bytes per archived row.
 *
 * A set begun by an earlier Steward (format `steward-retention-archive/1`, chunks
 * `.stwa`) is resumed too: its new chunks are age files, and its manifest says
 * format /2 and lists both kinds (docs/archives.md).
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { archiveLength, encryptStream, inspectArchiveHeader } from './age.js';
import { parseRecipient, type Recipient } from './keys.js';
import { ArchiveError, UsageError } from '../errors.js';
import type { TableRef } from '../sources/types.js';
import {
  ARCHIVE_SET_FORMAT,
  ArchiveCodecError,
  chunkFileName,
  chunkIndexOf,
  chunkRecordSchema,
  encodeValue,
  isLegacyChunk,
  JOURNAL_FILE,
  LEGACY_SET_FORMAT,
  keysDigest,
  keyText,
  keyValues,
  MANIFEST_FILE,
  manifestSchema,
  manifestSigningBytes,
  rowFingerprint,
  SET_ENCRYPTION,
  sha256Hex,
  VALUE_ENCODING,
  type ArchiveChunkRecord,
  type ArchiveColumn,
  type ArchiveManifest,
  type EncodedRow,
  type EncodedValue,
  type Row,
} from './codec.js';
import { describeFsError, nodeArchiveFs, targetError, type ArchiveFs } from './fs.js';
import { z } from 'zod';

export interface OpenArchiveSetOptions {
  /** The set's directory (created if missing; must not hold another set). */
  readonly dir: string;
  /** Public keys the chunks are encrypted to (`age1…`, `stwpub1…` of the earlier format, or {@link Recipient}). */
  readonly recipients: readonly (Recipient | string)[];
  /** The source's name in steward.yml. */
  readonly source: string;
  /** The table the rows come from (a name, or schema and name). */
  readonly table: string | TableRef;
  /** Primary key columns, in key order. */
  readonly primaryKey: readonly string[];
  /** Every column each row holds (a source's `ColumnInfo` fits), in the order lines list them. */
  readonly columns: readonly ArchiveColumn[];
  /** The retention run's id and policy name, recorded in the manifest. */
  readonly runId: string;
  readonly policy: string;
  /** Ed25519 private key (KeyObject or PEM) to sign manifest.json with; without it the manifest is unsigned. */
  readonly signingKey?: KeyObject | string;
  /** File operations (tests inject failures). */
  readonly fs?: ArchiveFs;
  readonly now?: () => Date;
}

export interface ResumeArchiveSetOptions {
  readonly signingKey?: KeyObject | string;
  readonly fs?: ArchiveFs;
  readonly now?: () => Date;
}

export interface WriteChunkResult {
  /** The new chunk, or null when every row was already in the set. */
  readonly chunk: ArchiveChunkRecord | null;
  /** Rows written into the new chunk. */
  readonly written: number;
  /** Rows already in the set with the same content: not written again (safe to delete). */
  readonly alreadyArchived: number;
  /**
   * Indexes (into the rows given) of rows whose key the set already holds with other
   * content: changed after they were archived. Not written, and NOT safe to delete.
   */
  readonly conflicts: readonly number[];
}

export interface FinishResult {
  readonly manifest: ArchiveManifest;
  /** SHA-256 (hex) of manifest.json's bytes: record it in the activity log. */
  readonly digest: string;
  readonly file: string;
}

/** What {@link resumeArchiveSet} found and cleaned up. */
export interface ResumeReport {
  /** A last journal line cut by a crash, dropped. */
  readonly tornLine: boolean;
  /** Temporary and unjournaled chunk files removed (their rows were never reported archived). */
  readonly removed: readonly string[];
}

/** The journal's first line: the manifest's description of the set, and the per-set salt of the key fingerprints. */
const headerSchema = manifestSchema
  .pick({ format: true, source: true, table: true, primaryKey: true, columns: true, runId: true, policy: true, recipients: true, createdAt: true })
  .extend({ type: z.literal('set'), salt: z.string() });
type JournalHeader = z.infer<typeof headerSchema>;

const chunkLineSchema = chunkRecordSchema.extend({ type: z.literal('chunk'), keys: z.array(z.string()) });

const TMP_RE = /^\.(chunk-\d{6,}\.jsonl\.gz\.(?:age|stwa)|manifest\.json|manifest\.partial\.jsonl)\.[0-9a-f]+\.tmp$/;

function tableRefOf(table: string | TableRef): { schema: string | null; name: string } {
  return typeof table === 'string' ? { schema: null, name: table } : { schema: table.schema, name: table.name };
}

function signingKeyOf(key: KeyObject | string | undefined): KeyObject | null {
  if (key === undefined) return null;
  const k = typeof key === 'string' ? createPrivateKey(key) : key;
  if (k.type !== 'private' || k.asymmetricKeyType !== 'ed25519') throw new UsageError('The manifest signing key must be an Ed25519 private key', { hint: 'Create one with `openssl genpkey -algorithm ed25519 -out archive-signing.pem`' });
  return k;
}

/** Signs `manifest` (without its signature member) and returns it with `signature` set. */
export function signManifest(manifest: ArchiveManifest, key: KeyObject): ArchiveManifest {
  const { signature: _drop, ...rest } = manifest;
  const publicKey = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const value = sign(null, manifestSigningBytes(rest as ArchiveManifest), key).toString('base64');
  return { ...rest, signature: { algorithm: 'ed25519', publicKey: publicKey.toString('base64'), keyId: sha256Hex(publicKey).slice(0, 16), value } };
}

/** Writes `data` to `file` atomically: temp file, fsync, rename, fsync of the directory. */
async function writeFileAtomic(fs: ArchiveFs, dir: string, name: string, data: Uint8Array, what: string): Promise<void> {
  const tmp = path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  let stage = 'open';
  try {
    const h = await fs.open(tmp, 'wx', 0o644);
    try {
      stage = 'write';
      await h.write(data);
      await h.sync();
    } finally {
      await h.close();
    }
    stage = 'rename';
    await fs.rename(tmp, path.join(dir, name));
    await fs.syncDir(dir);
  } catch (e) {
    if (stage !== 'open') await fs.unlink(tmp).catch(() => undefined);
    throw targetError(dir, what, e);
  }
}

/** A Transform that passes bytes through and hashes them. */
class Sha256Tap extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

interface PreparedRow {
  readonly index: number;
  readonly line: string;
  readonly encoded: EncodedRow;
  readonly key: string;
  readonly fp: { key: string; row: string };
}

/**
 * Writes one archive set. Create with {@link openArchiveSet}, {@link resumeArchiveSet}
 * or {@link openOrResumeArchiveSet}. Calls are serialised; one writer per directory.
 */
export class ArchiveSetWriter {
  readonly dir: string;
  readonly #fs: ArchiveFs;
  readonly #now: () => Date;
  readonly #header: JournalHeader;
  readonly #recipients: readonly Recipient[];
  readonly #salt: Buffer;
  readonly #signingKey: KeyObject | null;
  readonly #chunks: ArchiveChunkRecord[] = [];
  /** key fingerprint → row fingerprint, for every archived row. */
  readonly #archived = new Map<string, string>();
  #journalBytes: number;
  #finished: FinishResult | null = null;
  #broken: ArchiveError | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  /** What resuming found; empty for a new set. */
  readonly resumed: ResumeReport;

  /** @internal use the functions above. */
  constructor(init: {
    dir: string;
    fs: ArchiveFs;
    now: () => Date;
    header: JournalHeader;
    signingKey: KeyObject | null;
    journalBytes: number;
    resumed: ResumeReport;
  }) {
    this.dir = init.dir;
    this.#fs = init.fs;
    this.#now = init.now;
    this.#header = init.header;
    this.#recipients = init.header.recipients.map((r) => parseRecipient(r.publicKey));
    this.#salt = Buffer.from(init.header.salt, 'base64url');
    this.#signingKey = init.signingKey;
    this.#journalBytes = init.journalBytes;
    this.resumed = init.resumed;
  }

  get source(): string {
    return this.#header.source;
  }
  get table(): { schema: string | null; name: string } {
    return this.#header.table;
  }
  get primaryKey(): readonly string[] {
    return this.#header.primaryKey;
  }
  get columns(): readonly ArchiveColumn[] {
    return this.#header.columns;
  }
  get runId(): string {
    return this.#header.runId;
  }
  get policy(): string {
    return this.#header.policy;
  }
  get recipients(): readonly Recipient[] {
    return this.#recipients;
  }
  /** Durable chunks, in order. */
  get chunks(): readonly ArchiveChunkRecord[] {
    return this.#chunks;
  }
  /** Rows in durable chunks. */
  get rows(): number {
    return this.#archived.size;
  }
  /** True once manifest.json is written. */
  get finished(): boolean {
    return this.#finished !== null;
  }

  /** @internal resume: a journaled chunk and its row fingerprints. */
  addJournaled(chunk: ArchiveChunkRecord, keys: readonly string[]): void {
    this.#chunks.push(chunk);
    for (const k of keys) {
      const dot = k.indexOf('.');
      this.#archived.set(k.slice(0, dot), k.slice(dot + 1));
    }
  }

  /** @internal resume: the manifest already written. */
  setFinished(result: FinishResult): void {
    this.#finished = result;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** True when the set holds a row with this row's primary key. */
  has(row: Row): boolean {
    const encoded: Record<string, EncodedValue> = {};
    for (const k of this.#header.primaryKey) encoded[k] = encodeValue(row[k], this.#header.columns.find((c) => c.name === k));
    return this.#archived.has(rowFingerprint(this.#salt, keyText(encoded, this.#header.primaryKey), '').key);
  }

  /**
   * The rows (indexes) the set already holds with other content: what `writeChunk`
   * would report in `conflicts`, found without writing anything (so a caller can
   * decide what to archive before archiving any of it).
   */
  conflictsOf(rows: readonly Row[]): number[] {
    return this.#prepare(rows).conflicts;
  }

  #prepare(rows: readonly Row[]): { fresh: PreparedRow[]; alreadyArchived: number; conflicts: number[] } {
    const { columns, primaryKey } = this.#header;
    const fresh: PreparedRow[] = [];
    const conflicts: number[] = [];
    let alreadyArchived = 0;
    const seen = new Set<string>();
    rows.forEach((row, index) => {
      let encoded: Record<string, EncodedValue>;
      let key: string;
      try {
        if (row === null || typeof row !== 'object') throw new ArchiveCodecError('it is not an object');
        encoded = {};
        for (const c of columns) {
          if (!Object.hasOwn(row, c.name)) throw new ArchiveCodecError(`it has no value for column ${c.name} (give every archived column, null for none)`);
          encoded[c.name] = encodeValue(row[c.name], c);
        }
        const extra = Object.keys(row).filter((k) => !columns.some((c) => c.name === k));
        if (extra.length) throw new ArchiveCodecError(`it has column(s) ${extra.join(', ')} that the archive set does not list`);
        key = keyText(encoded, primaryKey);
      } catch (e) {
        if (e instanceof ArchiveCodecError) throw new UsageError(`Row ${index + 1} of the chunk to archive cannot be archived: ${e.message}`, { hint: 'Pass rows with exactly the columns the set was opened with' });
        throw e;
      }
      const line = JSON.stringify(encoded);
      const fp = rowFingerprint(this.#salt, key, line);
      if (seen.has(fp.key)) throw new UsageError(`Row ${index + 1} of the chunk to archive repeats the primary key of an earlier row in the same chunk`, { hint: 'Pass each row once' });
      seen.add(fp.key);
      const archived = this.#archived.get(fp.key);
      if (archived === undefined) fresh.push({ index, line, encoded, key, fp });
      else if (archived === fp.row) alreadyArchived++;
      else conflicts.push(index);
    });
    return { fresh, alreadyArchived, conflicts };
  }

  /**
   * Archives `rows` (objects with exactly the set's columns) as one new chunk and
   * resolves once it is durable and verified (see the top of this file). Rows
   * already in the set are skipped; see {@link WriteChunkResult}.
   * @throws ArchiveError `ARCHIVE_TARGET` when the chunk cannot be written (nothing
   *   from it counts as archived), `ARCHIVE_FINISHED` after {@link finish}.
   */
  writeChunk(rows: readonly Row[]): Promise<WriteChunkResult> {
    return this.#serial(() => this.#writeChunk(rows));
  }

  async #writeChunk(rows: readonly Row[]): Promise<WriteChunkResult> {
    if (this.#broken) throw this.#broken;
    const { fresh, alreadyArchived, conflicts } = this.#prepare(rows);
    if (fresh.length === 0) return { chunk: null, written: 0, alreadyArchived, conflicts };
    if (this.#finished) {
      throw new ArchiveError('ARCHIVE_FINISHED', `The archive set ${this.dir} is finished (manifest.json is written); ${fresh.length} row(s) not in it cannot be added`, {
        hint: 'Archive them into a new set (a new run)',
      });
    }
    const index = this.#chunks.length + 1;
    const name = chunkFileName(index);
    const file = path.join(this.dir, name);
    const tmp = path.join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    const fs = this.#fs;

    // 1. Temp file, fsync, rename, fsync of the directory.
    const enc = encryptStream(this.#recipients);
    const tap = new Sha256Tap();
    let renamed = false;
    let stage = `chunk ${name}`;
    try {
      const h = await fs.open(tmp, 'wx', 0o644);
      try {
        const sink = new Writable({
          write: (chunk: Buffer, _e, cb) => void h.write(chunk).then(() => cb(), cb),
        });
        await pipeline(
          Readable.from((function* () {
            // ~64 KiB per write: zlib works in the thread pool, so one write per line would cost a round trip each.
            let parts: string[] = [];
            let size = 0;
            for (const r of fresh) {
              parts.push(r.line);
              size += r.line.length + 1;
              if (size >= 65_536) {
                yield Buffer.from(`${parts.join('\n')}\n`, 'utf8');
                parts = [];
                size = 0;
              }
            }
            if (parts.length) yield Buffer.from(`${parts.join('\n')}\n`, 'utf8');
          })()),
          createGzip(),
          enc,
          tap,
          sink,
        );
        await h.sync();
      } finally {
        await h.close();
      }
      await fs.rename(tmp, file);
      renamed = true;
      await fs.syncDir(this.dir);
    } catch (e) {
      await fs.unlink(renamed ? file : tmp).catch(() => undefined);
      throw targetError(this.dir, stage, e);
    }
    const sha256 = tap.hash.digest('hex');

    // 2. Re-read what is on disk: size, SHA-256, and a header for exactly our recipients.
    stage = `chunk ${name} (reading it back)`;
    try {
      const expectBytes = archiveLength(enc.plaintextBytes, this.#recipients.length);
      const problem = await this.#checkWritten(file, sha256, tap.bytes, expectBytes);
      if (problem) {
        await fs.unlink(file).catch(() => undefined);
        throw new ArchiveError('ARCHIVE_TARGET', `The chunk ${name} read back from ${this.dir} is not what was written: ${problem}`, {
          hint: 'The target does not store files faithfully; nothing from this chunk counts as archived. Check the disk or storage, then run again',
          chunk: name,
        });
      }
    } catch (e) {
      if (e instanceof ArchiveError) throw e;
      await fs.unlink(file).catch(() => undefined);
      throw targetError(this.dir, stage, e);
    }

    // 3. The journal line, fsynced: from here on the rows are archived.
    const first = fresh[0]!;
    const last = fresh[fresh.length - 1]!;
    const chunk: ArchiveChunkRecord = {
      file: name,
      rows: fresh.length,
      firstKey: keyValues(first.encoded, this.#header.primaryKey),
      lastKey: keyValues(last.encoded, this.#header.primaryKey),
      bytes: tap.bytes,
      sha256,
      keysSha256: keysDigest(fresh.map((r) => r.key)),
    };
    const keys = fresh.map((r) => `${r.fp.key}.${r.fp.row}`);
    const line = Buffer.from(`${JSON.stringify({ type: 'chunk', ...chunk, keys })}\n`, 'utf8');
    await this.#appendJournal(line, name);
    this.addJournaled(chunk, keys);
    return { chunk, written: fresh.length, alreadyArchived, conflicts };
  }

  async #checkWritten(file: string, sha256: string, bytes: number, expectBytes: number): Promise<string | null> {
    const info = await this.#fs.stat(file);
    if (!info?.isFile) return 'it is missing';
    if (info.size !== bytes || bytes !== expectBytes) return `it is ${info.size} bytes, ${bytes} were written and ${expectBytes} expected`;
    const h = createHash('sha256');
    let head = Buffer.alloc(0);
    for await (const part of this.#fs.createReadStream(file)) {
      const b = part as Buffer;
      h.update(b);
      if (head.length < 65_536) head = Buffer.concat([head, b.subarray(0, 65_536 - head.length)]);
    }
    if (h.digest('hex') !== sha256) return 'its SHA-256 differs';
    const header = inspectArchiveHeader(head, info.size);
    if (typeof header === 'string') return header;
    const want = this.#recipients.map((r) => r.id);
    if (header.format !== 'age') return 'it is not an age file';
    if (header.recipients !== want.length || header.stanzas.length !== want.length) return `its header has ${header.stanzas.length} recipient stanza(s), not one X25519 stanza for each of the ${want.length} recipient(s) ${want.join(', ')}`;
    return null;
  }

  async #appendJournal(line: Buffer, name: string): Promise<void> {
    const journal = path.join(this.dir, JOURNAL_FILE);
    const before = this.#journalBytes;
    try {
      const h = await this.#fs.open(journal, 'a');
      try {
        await h.write(line);
        await h.sync();
      } finally {
        await h.close();
      }
      this.#journalBytes += line.length;
    } catch (e) {
      // Put the journal back as it was, so the chunk is clearly not archived; if even
      // that fails, stop: resumeArchiveSet decides from what is on disk.
      const undone = await (async () => {
        const h = await this.#fs.open(journal, 'r+');
        try {
          await h.truncate(before);
          await h.sync();
        } finally {
          await h.close();
        }
        await this.#fs.unlink(path.join(this.dir, name));
        await this.#fs.syncDir(this.dir);
      })().then(
        () => true,
        () => false,
      );
      const err = targetError(this.dir, `the journal line of ${name}`, e);
      if (!undone) this.#broken = new ArchiveError('ARCHIVE_TARGET', `The archive set ${this.dir} stopped after a failed journal write (${describeFsError(e)})`, {
        hint: 'Resume it with resumeArchiveSet once the target is writable again: it keeps what is durable and drops the rest',
        cause: e,
      });
      throw err;
    }
  }

  /**
   * Writes manifest.json (atomically: temp file, fsync, rename, fsync of the
   * directory), signed when a signing key was given. Calling it again returns the
   * same result.
   */
  finish(): Promise<FinishResult> {
    return this.#serial(async () => {
      if (this.#broken) throw this.#broken;
      if (this.#finished) return this.#finished;
      const h = this.#header;
      // A set begun in the earlier format stays in it only if every chunk is of that format.
      const format = h.format === LEGACY_SET_FORMAT && this.#chunks.every((c) => isLegacyChunk(c.file)) ? LEGACY_SET_FORMAT : ARCHIVE_SET_FORMAT;
      let manifest: ArchiveManifest = {
        format,
        encoding: { rows: 'jsonl', values: VALUE_ENCODING, compression: 'gzip', encryption: SET_ENCRYPTION[format] },
        source: h.source,
        table: h.table,
        primaryKey: h.primaryKey,
        columns: h.columns,
        runId: h.runId,
        policy: h.policy,
        recipients: format === LEGACY_SET_FORMAT ? h.recipients : this.#recipients.map((r) => ({ id: r.id, publicKey: r.publicKey })),
        createdAt: h.createdAt,
        finishedAt: this.#now().toISOString(),
        chunks: this.#chunks,
        totals: {
          chunks: this.#chunks.length,
          rows: this.#chunks.reduce((n, c) => n + c.rows, 0),
          bytes: this.#chunks.reduce((n, c) => n + c.bytes, 0),
        },
      };
      if (this.#signingKey) manifest = signManifest(manifest, this.#signingKey);
      const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
      await writeFileAtomic(this.#fs, this.dir, MANIFEST_FILE, bytes, MANIFEST_FILE);
      this.#finished = { manifest, digest: sha256Hex(bytes), file: path.join(this.dir, MANIFEST_FILE) };
      return this.#finished;
    });
  }
}

/**
 * Starts a new archive set in `options.dir` (created if missing). Checks the
 * recipients and that the directory is writable before anything is archived:
 * a read-only or full target fails here, before any row could be deleted.
 * @throws ArchiveError `ARCHIVE_TARGET` (not writable, or it already holds a set), CryptoError `CRYPTO_RECIPIENT_KEY`.
 */
export async function openArchiveSet(options: OpenArchiveSetOptions): Promise<ArchiveSetWriter> {
  const fs = options.fs ?? nodeArchiveFs;
  const dir = path.resolve(options.dir);
  const recipients = options.recipients.map((r) => parseRecipient(r));
  if (recipients.length === 0) throw new UsageError('An archive set needs at least one recipient public key', { hint: 'Whoever may read the archive creates a key pair with `steward keys recipient new` and gives you the public key' });
  const columns = options.columns.map((c) => ({ name: c.name, dataType: c.dataType, ...(c.typeClass ? { typeClass: c.typeClass } : {}), ...(c.nullable !== undefined ? { nullable: c.nullable } : {}) }));
  if (columns.length === 0) throw new UsageError('An archive set needs the list of columns it archives');
  if (new Set(columns.map((c) => c.name)).size !== columns.length) throw new UsageError('The archive set\'s column list names a column twice');
  if (options.primaryKey.length === 0) throw new UsageError(`The table ${tableRefOf(options.table).name} has no primary key; an archive set needs one (to restore and to archive each row once)`);
  const missing = options.primaryKey.filter((k) => !columns.some((c) => c.name === k));
  if (missing.length) throw new UsageError(`Primary key column(s) ${missing.join(', ')} are not in the archive set's column list`);
  const signingKey = signingKeyOf(options.signingKey);

  const info = await fs.stat(dir).catch((e: unknown) => {
    throw targetError(dir, 'the directory', e);
  });
  if (info && !info.isDirectory) throw new ArchiveError('ARCHIVE_TARGET', `The archive directory ${dir} is a file, not a directory`, { hint: 'Choose a directory for the archive set' });
  try {
    await fs.mkdir(dir);
  } catch (e) {
    throw targetError(dir, 'the directory', e);
  }
  const present = (await fs.readdir(dir).catch((e: unknown) => {
    throw targetError(dir, 'the directory', e);
  })).filter((n) => n === JOURNAL_FILE || n === MANIFEST_FILE || chunkIndexOf(n) !== null);
  if (present.length) {
    throw new ArchiveError('ARCHIVE_TARGET', `The archive directory ${dir} already holds an archive set (${present.slice(0, 3).join(', ')})`, {
      hint: 'Resume it with resumeArchiveSet (or openOrResumeArchiveSet), or choose an empty directory',
    });
  }
  const header: JournalHeader = {
    type: 'set',
    format: ARCHIVE_SET_FORMAT,
    source: options.source,
    table: tableRefOf(options.table),
    primaryKey: [...options.primaryKey],
    columns,
    runId: options.runId,
    policy: options.policy,
    recipients: recipients.map((r) => ({ id: r.id, publicKey: r.publicKey })),
    salt: randomBytes(32).toString('base64url'),
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
  };
  const line = Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');
  // The journal's header line, via a temp file: a journal either has its whole header or does not exist.
  await writeFileAtomic(fs, dir, JOURNAL_FILE, line, JOURNAL_FILE);
  return new ArchiveSetWriter({ dir, fs, now: options.now ?? (() => new Date()), header, signingKey, journalBytes: line.length, resumed: { tornLine: false, removed: [] } });
}

function journalError(dir: string, message: string): ArchiveError {
  return new ArchiveError('ARCHIVE_JOURNAL', `The journal ${path.join(dir, JOURNAL_FILE)} ${message}`, {
    hint: 'It was changed or damaged by something other than a crash; verify the chunks (steward archive verify) before relying on them, and archive the remaining rows into a new set',
  });
}

/**
 * Reopens the set in `dir` after a crash (or to add to it): reads the journal,
 * drops a torn last line (truncating it away), removes temp files and chunk files
 * the journal does not list (their rows were never reported archived), and
 * continues numbering after the last journaled chunk. A set whose manifest.json
 * exists comes back finished (`writeChunk` then only skips rows already in it).
 * @throws ArchiveError `ARCHIVE_JOURNAL` (no journal, or damaged before its last line), `ARCHIVE_TARGET`.
 */
export async function resumeArchiveSet(dir: string, options: ResumeArchiveSetOptions = {}): Promise<ArchiveSetWriter> {
  const fs = options.fs ?? nodeArchiveFs;
  dir = path.resolve(dir);
  const journalPath = path.join(dir, JOURNAL_FILE);
  let text: Buffer;
  try {
    text = await fs.readFile(journalPath);
  } catch (e) {
    throw new ArchiveError('ARCHIVE_JOURNAL', `Cannot read the journal ${journalPath}: ${describeFsError(e)}`, {
      hint: 'Resume only a directory openArchiveSet created; a set without its journal cannot be added to (verify it with steward archive verify)',
      cause: e,
    });
  }
  // Complete lines end with "\n"; whatever follows the last one, and a last line that does not parse, were cut by a crash.
  const lines: { text: string; end: number }[] = [];
  let at = 0;
  for (;;) {
    const nl = text.indexOf(0x0a, at);
    if (nl < 0) break;
    lines.push({ text: text.subarray(at, nl).toString('utf8'), end: nl + 1 });
    at = nl + 1;
  }
  let tornLine = at < text.length;
  const parsed: unknown[] = [];
  for (const [i, l] of lines.entries()) {
    try {
      parsed.push(JSON.parse(l.text));
    } catch {
      if (i !== lines.length - 1) throw journalError(dir, `has a line ${i + 1} that is not JSON, before its last line`);
      tornLine = true;
      lines.pop();
    }
  }
  const head = headerSchema.safeParse(parsed[0]);
  if (!head.success) throw journalError(dir, 'does not start with an archive set header');
  const header = head.data;
  const journaled: { chunk: ArchiveChunkRecord; keys: string[] }[] = [];
  for (let i = 1; i < parsed.length; i++) {
    const c = chunkLineSchema.safeParse(parsed[i]);
    if (!c.success) {
      if (i === parsed.length - 1) {
        tornLine = true;
        lines.pop();
        break;
      }
      throw journalError(dir, `line ${i + 1} is not a chunk record`);
    }
    const { type: _t, keys, ...chunk } = c.data;
    const names = header.format === LEGACY_SET_FORMAT ? [chunkFileName(i), chunkFileName(i, true)] : [chunkFileName(i)];
    if (!names.includes(chunk.file)) throw journalError(dir, `line ${i + 1} lists ${chunk.file} where ${chunkFileName(i)} was expected`);
    if (keys.length !== chunk.rows) throw journalError(dir, `line ${i + 1} lists ${keys.length} row fingerprints for ${chunk.rows} rows`);
    const info = await fs.stat(path.join(dir, chunk.file));
    if (!info?.isFile || info.size !== chunk.bytes) {
      throw new ArchiveError('ARCHIVE_CHUNK_MISSING', `The archive set ${dir} lists ${chunk.file} in its journal, but the file is ${info ? `${info.size} bytes, not ${chunk.bytes}` : 'gone'}`, {
        hint: 'Its rows may already be deleted from the database: restore the file from a copy; do not continue this set',
        chunk: chunk.file,
      });
    }
    journaled.push({ chunk, keys });
  }
  const journalBytes = lines[lines.length - 1]!.end;
  const removed: string[] = [];
  try {
    if (tornLine) {
      const h = await fs.open(journalPath, 'r+');
      try {
        await h.truncate(journalBytes);
        await h.sync();
      } finally {
        await h.close();
      }
    }
    for (const name of await fs.readdir(dir)) {
      const n = chunkIndexOf(name);
      if (TMP_RE.test(name) || (n !== null && n > journaled.length)) {
        await fs.unlink(path.join(dir, name));
        removed.push(name);
      }
    }
    if (removed.length) await fs.syncDir(dir);
  } catch (e) {
    throw targetError(dir, 'the cleanup after a crash', e);
  }
  const resumed = new ArchiveSetWriter({
    dir,
    fs,
    now: options.now ?? (() => new Date()),
    header,
    signingKey: signingKeyOf(options.signingKey),
    journalBytes,
    resumed: { tornLine, removed },
  });
  for (const j of journaled) resumed.addJournaled(j.chunk, j.keys);
  const manifestBytes = await fs.readFile(path.join(dir, MANIFEST_FILE)).catch(() => null);
  if (manifestBytes) {
    let manifest: ArchiveManifest;
    try {
      manifest = manifestSchema.parse(JSON.parse(manifestBytes.toString('utf8')));
    } catch (e) {
      throw new ArchiveError('ARCHIVE_MANIFEST', `The archive set ${dir} has a manifest.json that cannot be read`, { hint: 'Verify the set (steward archive verify)', cause: e });
    }
    if (manifest.chunks.length !== resumed.chunks.length) {
      throw new ArchiveError('ARCHIVE_MANIFEST', `The archive set ${dir} has a manifest listing ${manifest.chunks.length} chunks, its journal ${resumed.chunks.length}`, { hint: 'Verify the set (steward archive verify)' });
    }
    resumed.setFinished({ manifest, digest: sha256Hex(manifestBytes), file: path.join(dir, MANIFEST_FILE) });
  }
  return resumed;
}

/**
 * {@link resumeArchiveSet} when `options.dir` holds a set's journal (checking it is
 * the same source, table, run, policy, key and columns), else {@link openArchiveSet}.
 * What the retention engine calls at the start of every (re-)run.
 */
export async function openOrResumeArchiveSet(options: OpenArchiveSetOptions): Promise<ArchiveSetWriter> {
  const fs = options.fs ?? nodeArchiveFs;
  const dir = path.resolve(options.dir);
  const journal = await fs.stat(path.join(dir, JOURNAL_FILE)).catch(() => null);
  if (!journal) return openArchiveSet(options);
  const set = await resumeArchiveSet(dir, { fs, ...(options.signingKey ? { signingKey: options.signingKey } : {}), ...(options.now ? { now: options.now } : {}) });
  const t = tableRefOf(options.table);
  const same =
    set.source === options.source &&
    set.table.name === t.name &&
    set.table.schema === t.schema &&
    set.runId === options.runId &&
    set.policy === options.policy &&
    JSON.stringify(set.primaryKey) === JSON.stringify(options.primaryKey) &&
    JSON.stringify(set.columns.map((c) => c.name)) === JSON.stringify(options.columns.map((c) => c.name));
  if (!same) {
    throw new ArchiveError('ARCHIVE_TARGET', `The archive directory ${dir} holds the set of run ${set.runId} (policy ${set.policy}, ${set.source} ${set.table.name}), not this one`, {
      hint: 'Give every run and table its own directory',
    });
  }
  return set;
}
