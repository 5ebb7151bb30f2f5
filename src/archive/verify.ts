/**
 * `verifyArchiveSet`: checks an archive set (set.ts).
 *
 * Without a private key (anyone holding the files): manifest.json parses and its
 * totals add up, its signature verifies (required with `signerPublicKey`), its
 * SHA-256 is the one the activity log recorded (`expectedDigest`), and every chunk
 * it lists exists with its size, SHA-256 and a header for the manifest's
 * recipients (an age file with one X25519 stanza per recipient; a `.stwa` chunk of
 * the earlier format naming exactly their fingerprints); no chunk file is unlisted.
 *
 * With a private key, also: every chunk decrypts (its ciphertext authenticates),
 * gunzips and parses, row by row; its row count, first and last keys and the
 * SHA-256 of its sorted keys are the manifest's; no primary key is in two rows.
 *
 * The first problem is thrown as an ArchiveError naming the chunk (`error.chunk`)
 * and why; messages never contain row values.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { decryptStream, inspectArchiveHeader } from './age.js';
import type { RecipientIdentity } from './keys.js';
import { ArchiveError, CryptoError, UsageError } from '../errors.js';
import {
  ArchiveCodecError,
  chunkIndexOf,
  isLegacyChunk,
  JOURNAL_FILE,
  keysDigest,
  keyText,
  keyValues,
  MANIFEST_FILE,
  manifestProblem,
  manifestSchema,
  manifestSigningBytes,
  parseRowLine,
  sha256Hex,
  type ArchiveChunkRecord,
  type ArchiveColumn,
  type ArchiveManifest,
  type EncodedRow,
} from './codec.js';
import { describeFsError, nodeArchiveFs, type ArchiveFs } from './fs.js';

export interface VerifyArchiveSetOptions {
  /** Private key(s): also decrypt and check every row. */
  readonly privateKey?: RecipientIdentity | readonly RecipientIdentity[];
  /** Ed25519 public key (KeyObject or PEM) the manifest must be signed with. */
  readonly signerPublicKey?: KeyObject | string;
  /** The manifest digest recorded when the set was written (activity log): must match. */
  readonly expectedDigest?: string;
  readonly fs?: ArchiveFs;
  /** Called after each chunk checked. */
  readonly onChunk?: (chunk: ArchiveChunkRecord, index: number, total: number) => void;
}

export interface ArchiveSetVerification {
  readonly dir: string;
  readonly manifest: ArchiveManifest;
  /** SHA-256 (hex) of manifest.json. */
  readonly digest: string;
  readonly chunks: number;
  readonly rows: number;
  readonly bytes: number;
  /** True when every chunk was decrypted and its rows checked. */
  readonly decrypted: boolean;
  /** `none`: unsigned; `valid`: signed, verified with the key it names (integrity only); `trusted`: verified with `signerPublicKey`. */
  readonly signature: 'none' | 'valid' | 'trusted';
  /** Harmless leftovers (temporary files of an interrupted write). */
  readonly warnings: readonly string[];
}

const HINT_RESTORE = 'Do not rely on this set: restore the directory from a copy (e.g. a backup) and verify again';

/** Reads and checks manifest.json of `dir` (shape, totals, signature, digest). */
export async function readArchiveManifest(
  dir: string,
  options: Pick<VerifyArchiveSetOptions, 'fs' | 'signerPublicKey' | 'expectedDigest'> = {},
): Promise<{ manifest: ArchiveManifest; digest: string; signature: ArchiveSetVerification['signature'] }> {
  const fs = options.fs ?? nodeArchiveFs;
  const file = path.join(dir, MANIFEST_FILE);
  const info = await fs.stat(dir).catch(() => null);
  if (!info?.isDirectory) throw new UsageError(`${dir} is not a directory`, { hint: 'Give the directory of an archive set (it holds manifest.json and chunk-*.jsonl.gz.age)' });
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const journal = await fs.stat(path.join(dir, JOURNAL_FILE)).catch(() => null);
    throw new ArchiveError(
      'ARCHIVE_MANIFEST',
      journal
        ? `The archive set ${dir} has no manifest.json: the run that writes it did not finish (its journal ${JOURNAL_FILE} is there)`
        : `The archive set ${dir} has no manifest.json (${describeFsError(e)})`,
      { hint: journal ? 'Re-run the retention run to finish it; until then its chunks are not a complete archive' : 'Give the directory of an archive set', cause: e },
    );
  }
  const digest = sha256Hex(bytes);
  if (options.expectedDigest && options.expectedDigest.toLowerCase() !== digest) {
    throw new ArchiveError('ARCHIVE_MANIFEST', `The manifest of ${dir} has SHA-256 ${digest.slice(0, 16)}…, not the ${options.expectedDigest.slice(0, 16)}… recorded when it was written: it was changed`, { hint: HINT_RESTORE });
  }
  let manifest: ArchiveManifest;
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${issue?.path.join('.') || 'manifest'}: ${issue?.message ?? 'invalid'}`);
    }
    manifest = parsed.data;
  } catch (e) {
    throw new ArchiveError('ARCHIVE_MANIFEST', `The manifest of ${dir} is not a valid steward-retention-archive manifest (${(e as Error).message})`, { hint: HINT_RESTORE, cause: e });
  }
  let signature: ArchiveSetVerification['signature'] = 'none';
  if (manifest.signature) {
    const s = manifest.signature;
    let embedded: KeyObject;
    try {
      embedded = createPublicKey({ key: Buffer.from(s.publicKey, 'base64'), format: 'der', type: 'spki' });
    } catch (e) {
      throw new ArchiveError('ARCHIVE_MANIFEST', `The manifest of ${dir} has a signature whose public key cannot be read`, { hint: HINT_RESTORE, cause: e });
    }
    const trusted = options.signerPublicKey ? (typeof options.signerPublicKey === 'string' ? createPublicKey(options.signerPublicKey) : options.signerPublicKey) : null;
    if (trusted && !trusted.export({ format: 'der', type: 'spki' }).equals(embedded.export({ format: 'der', type: 'spki' }))) {
      throw new ArchiveError('ARCHIVE_MANIFEST', `The manifest of ${dir} is signed by key ${s.keyId}, not by the key given`, { hint: HINT_RESTORE });
    }
    if (!verifySignature(null, manifestSigningBytes(manifest), embedded, Buffer.from(s.value, 'base64'))) {
      throw new ArchiveError('ARCHIVE_MANIFEST', `The manifest of ${dir} does not match its signature (key ${s.keyId}): it was changed after it was signed`, { hint: HINT_RESTORE });
    }
    signature = trusted ? 'trusted' : 'valid';
  } else if (options.signerPublicKey) {
    throw new ArchiveError('ARCHIVE_MANIFEST', `The manifest of ${dir} is not signed, but a signature was required`, { hint: HINT_RESTORE });
  }
  const problem = manifestProblem(manifest);
  if (problem) {
    throw new ArchiveError('ARCHIVE_MANIFEST', `The manifest of ${dir} ${problem.message}: it was changed or is corrupt`, { hint: HINT_RESTORE, ...(problem.chunk ? { chunk: problem.chunk } : {}) });
  }
  return { manifest, digest, signature };
}

const chunkError = (code: 'ARCHIVE_CHUNK_MISSING' | 'ARCHIVE_CHUNK_CHANGED' | 'ARCHIVE_CHUNK_CONTENT' | 'ARCHIVE_DUPLICATE_KEY', dir: string, chunk: string, why: string, cause?: unknown) =>
  new ArchiveError(code, `${chunk} of the archive set ${dir} ${why}`, { hint: HINT_RESTORE, chunk, ...(cause === undefined ? {} : { cause }) });

/** Checks one listed chunk without a key: present, its size and SHA-256, a header for `recipients`. */
async function checkChunkFile(fs: ArchiveFs, dir: string, c: ArchiveChunkRecord, recipients: readonly string[]): Promise<void> {
  const file = path.join(dir, c.file);
  const info = await fs.stat(file);
  if (!info?.isFile) throw chunkError('ARCHIVE_CHUNK_MISSING', dir, c.file, 'is missing: the manifest lists it');
  if (info.size !== c.bytes) throw chunkError('ARCHIVE_CHUNK_CHANGED', dir, c.file, `is ${info.size} bytes, the manifest says ${c.bytes}: it was changed or cut`);
  const h = createHash('sha256');
  let head = Buffer.alloc(0);
  for await (const part of fs.createReadStream(file)) {
    const b = part as Buffer;
    h.update(b);
    if (head.length < 65_536) head = Buffer.concat([head, b.subarray(0, 65_536 - head.length)]);
  }
  const sha = h.digest('hex');
  if (sha !== c.sha256) throw chunkError('ARCHIVE_CHUNK_CHANGED', dir, c.file, `has SHA-256 ${sha.slice(0, 16)}…, the manifest says ${c.sha256.slice(0, 16)}…: it was changed`);
  const header = inspectArchiveHeader(head, info.size);
  if (typeof header === 'string') throw chunkError('ARCHIVE_CHUNK_CHANGED', dir, c.file, `is not a readable archive: ${header}`);
  const legacy = isLegacyChunk(c.file);
  if (legacy !== (header.format === 'steward-archive/1')) {
    throw chunkError('ARCHIVE_CHUNK_CHANGED', dir, c.file, `is ${header.format === 'age' ? 'an age file' : 'a steward-archive/1 file'}, which its name says it is not`);
  }
  if (header.format === 'steward-archive/1' && header.recipientIds.join(',') !== recipients.join(',')) {
    throw chunkError('ARCHIVE_CHUNK_CHANGED', dir, c.file, `is encrypted to ${header.recipientIds.join(', ')}, the manifest says ${recipients.join(', ')}`);
  }
  if (header.format === 'age' && (header.recipients !== recipients.length || header.stanzas.length !== recipients.length)) {
    throw chunkError('ARCHIVE_CHUNK_CHANGED', dir, c.file, `has ${header.stanzas.length} recipient stanza(s) in its header, the manifest lists ${recipients.length} recipient(s) (${recipients.join(', ')})`);
  }
}

/**
 * Decrypts, gunzips and parses one chunk file, calling `onRow` for each row in
 * order (encoded values; see codec.ts). Throws ArchiveError naming the
 * chunk when it does not decrypt (tampered), gunzip or parse; CryptoError
 * `CRYPTO_WRONG_KEY` when the key is not one of its recipients'.
 */
export async function readChunkRows(
  dir: string,
  chunk: string,
  identities: RecipientIdentity | readonly RecipientIdentity[],
  columns: readonly ArchiveColumn[],
  onRow: (row: EncodedRow, line: number) => void,
  fs: ArchiveFs = nodeArchiveFs,
): Promise<number> {
  let lineNo = 0;
  const gunzip = createGunzip();
  try {
    await pipeline(fs.createReadStream(path.join(dir, chunk)), decryptStream(identities, { name: chunk }), gunzip, async (source: AsyncIterable<Buffer>) => {
      let rest = Buffer.alloc(0);
      for await (const part of source) {
        let buf = rest.length ? Buffer.concat([rest, part]) : part;
        let nl: number;
        while ((nl = buf.indexOf(0x0a)) >= 0) {
          lineNo++;
          onRow(parseRowLine(buf.subarray(0, nl).toString('utf8'), columns), lineNo);
          buf = buf.subarray(nl + 1);
        }
        rest = Buffer.from(buf);
      }
      if (rest.length) throw new ArchiveCodecError('its last line does not end with a newline');
    });
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'CRYPTO_WRONG_KEY') throw e;
    if (e instanceof CryptoError) throw chunkError('ARCHIVE_CHUNK_CHANGED', dir, chunk, `does not decrypt: ${e.message.replace(`${chunk} `, '')}`, e);
    if (e instanceof ArchiveCodecError) throw chunkError('ARCHIVE_CHUNK_CONTENT', dir, chunk, `line ${lineNo || 'end'}: ${e.message}`, e);
    if (e instanceof ArchiveError) throw e;
    if ((e as { code?: string }).code?.startsWith('Z_')) throw chunkError('ARCHIVE_CHUNK_CONTENT', dir, chunk, 'decrypts but does not gunzip', e);
    throw e;
  }
  return lineNo;
}

/**
 * Decrypts one chunk and checks it against its manifest record: row count, first
 * and last keys, key digest. Returns its rows when `keepRows` (restore), else [].
 */
export async function readCheckedChunk(
  dir: string,
  manifest: ArchiveManifest,
  c: ArchiveChunkRecord,
  identities: RecipientIdentity | readonly RecipientIdentity[],
  options: { fs?: ArchiveFs; onKey?: (key: string, chunk: string) => void; keepRows?: boolean } = {},
): Promise<EncodedRow[]> {
  const rows: EncodedRow[] = [];
  const keys: string[] = [];
  let first: EncodedRow | null = null;
  let last: EncodedRow | null = null;
  await readChunkRows(
    dir,
    c.file,
    identities,
    manifest.columns,
    (row) => {
      const k = keyText(row, manifest.primaryKey);
      keys.push(k);
      options.onKey?.(k, c.file);
      first ??= row;
      last = row;
      if (options.keepRows) rows.push(row);
    },
    options.fs ?? nodeArchiveFs,
  );
  if (keys.length !== c.rows) throw chunkError('ARCHIVE_CHUNK_CONTENT', dir, c.file, `holds ${keys.length} rows, the manifest says ${c.rows}`);
  if (keysDigest(keys) !== c.keysSha256) throw chunkError('ARCHIVE_CHUNK_CONTENT', dir, c.file, 'holds other primary keys than the manifest\'s key digest says');
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(keyValues(first!, manifest.primaryKey), c.firstKey) || !same(keyValues(last!, manifest.primaryKey), c.lastKey)) {
    throw chunkError('ARCHIVE_CHUNK_CONTENT', dir, c.file, 'does not start and end with the first and last keys the manifest lists');
  }
  return rows;
}

/** A tracker of keys seen across chunks (16-byte hashes: ~50 bytes of memory per row). */
export function duplicateKeyTracker(dir: string): (key: string, chunk: string) => void {
  const seen = new Map<string, string>();
  return (key, chunk) => {
    const h = createHash('sha256').update(key).digest().subarray(0, 16).toString('base64');
    const where = seen.get(h);
    if (where !== undefined) throw chunkError('ARCHIVE_DUPLICATE_KEY', dir, chunk, `holds a primary key that ${where === chunk ? 'it already holds' : `${where} already holds`}: a row is in the set twice`);
    seen.set(h, chunk);
  };
}

/**
 * Verifies the archive set in `dir` (see the top of this file).
 * @throws ArchiveError naming the first bad chunk; CryptoError `CRYPTO_WRONG_KEY`
 *   when the private key is not one of the recipients'.
 */
export async function verifyArchiveSet(dir: string, options: VerifyArchiveSetOptions = {}): Promise<ArchiveSetVerification> {
  const fs = options.fs ?? nodeArchiveFs;
  dir = path.resolve(dir);
  const { manifest, digest, signature } = await readArchiveManifest(dir, options);
  const recipients = manifest.recipients.map((r) => r.id);
  for (const [i, c] of manifest.chunks.entries()) {
    await checkChunkFile(fs, dir, c, recipients);
    if (!options.privateKey) options.onChunk?.(c, i, manifest.chunks.length);
  }
  const warnings: string[] = [];
  const listed = new Set(manifest.chunks.map((c) => c.file));
  for (const name of (await fs.readdir(dir)).sort()) {
    if (chunkIndexOf(name) !== null && !listed.has(name)) {
      throw new ArchiveError('ARCHIVE_CHUNK_EXTRA', `${name} of the archive set ${dir} is not listed in its manifest: a chunk was added, or the manifest lost one`, { hint: HINT_RESTORE, chunk: name });
    }
    if (/^\..*\.tmp$/.test(name)) warnings.push(`${name}: a temporary file of an interrupted write (not part of the set; safe to remove)`);
  }
  if (options.privateKey) {
    const track = duplicateKeyTracker(dir);
    for (const [i, c] of manifest.chunks.entries()) {
      await readCheckedChunk(dir, manifest, c, options.privateKey, { fs, onKey: track });
      options.onChunk?.(c, i, manifest.chunks.length);
    }
  }
  return {
    dir,
    manifest,
    digest,
    chunks: manifest.chunks.length,
    rows: manifest.totals.rows,
    bytes: manifest.totals.bytes,
    decrypted: Boolean(options.privateKey),
    signature,
    warnings,
  };
}
