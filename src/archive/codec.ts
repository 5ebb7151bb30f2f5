/**
 * Archive sets, pure part: how a row becomes one line of a chunk (the
 * `steward-json/1` value encoding), how a primary key becomes the canonical text
 * that chunks, journals and key digests are built from, and the manifest's shape.
 * No I/O here; the writer is set.ts, verification verify.ts, restore restore.ts.
 * The formats are specified in docs/archives.md.
 *
 * A chunk is JSON Lines (one row per line, `{"column": value, …}`), gzip, then an
 * age file: `age -d -i key.txt chunk-000001.jsonl.gz.age | gunzip | jq .` reads it
 * with no Steward installed. JSON Lines rather than Parquet: a format read perhaps
 * once, for a lawful restore, years later, with standard tools; written and read
 * one row at a time (flat memory); types stay self-describing through the value
 * encoding, and the manifest lists every column's database type.
 */
import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';

/** Format name of the manifest and journal of sets written now (chunks are age files). */
export const ARCHIVE_SET_FORMAT = 'steward-retention-archive/2';
/** The earlier format, still read: chunks in `steward-archive/1` (`.stwa`). */
export const LEGACY_SET_FORMAT = 'steward-retention-archive/1';
/** The encryption a manifest of each format names. */
export const SET_ENCRYPTION = { [ARCHIVE_SET_FORMAT]: 'age-encryption.org/v1', [LEGACY_SET_FORMAT]: 'steward-archive/1' } as const;
export type ArchiveSetFormat = keyof typeof SET_ENCRYPTION;
/** The row value encoding. */
export const VALUE_ENCODING = 'steward-json/1';
export const MANIFEST_FILE = 'manifest.json';
export const JOURNAL_FILE = 'manifest.partial.jsonl';
const CHUNK_RE = /^chunk-(\d{6,})\.jsonl\.gz\.(age|stwa)$/;

/**
 * `chunk-000001.jsonl.gz.age` for chunk 1 (an age file); `legacy` gives the name
 * of the earlier format (`.stwa`), which sets begun before age files still hold.
 */
export function chunkFileName(index: number, legacy = false): string {
  return `chunk-${String(index).padStart(6, '0')}.jsonl.gz.${legacy ? 'stwa' : 'age'}`;
}

/** The number of a chunk file name (either format), or null for any other name. */
export function chunkIndexOf(name: string): number | null {
  const m = CHUNK_RE.exec(name);
  return m ? Number(m[1]) : null;
}

/** True for the name of a chunk in the earlier format (`.stwa`). */
export const isLegacyChunk = (name: string): boolean => name.endsWith('.stwa');

/** A column as the manifest records it (a source's `ColumnInfo` fits). */
export interface ArchiveColumn {
  readonly name: string;
  /** The database's own type name (`timestamp with time zone`, `varchar(40)`, `BLOB`). */
  readonly dataType: string;
  /** Steward's coarse type class, when known (`date`, `timestamp`, `binary`, …). */
  readonly typeClass?: string;
  readonly nullable?: boolean;
}

/** A JSON value as it appears in a chunk line. */
export type EncodedValue = null | string | number | boolean | { readonly [tag: string]: unknown };

/** Thrown by the codec for a value or line it cannot encode or decode; callers wrap it in their typed error. */
export class ArchiveCodecError extends Error {}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function localDate(d: Date): string {
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function localDateTime(d: Date): string {
  return `${localDate(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** How Dates of this column are kept: a calendar date, a wall-clock time, or an instant. */
export function dateKind(column: ArchiveColumn | undefined): 'date' | 'local' | 'instant' {
  if (!column) return 'instant';
  const t = column.dataType.toLowerCase();
  if (column.typeClass === 'date' || /^date\b/.test(t)) return 'date';
  if (/with time zone|timestamptz/.test(t)) return 'instant';
  if (column.typeClass === 'timestamp' || /^(timestamp|datetime)\b/.test(t)) return 'local';
  return 'instant';
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A JSON-safe copy of a JSON column's value (nested Dates as ISO text, bigints as text). */
function jsonSafe(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
}

/** Encodes one value of `column` (the table in docs/archives.md, "Value encoding"). */
export function encodeValue(value: unknown, column?: ArchiveColumn): EncodedValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { $f: Object.is(value, -0) ? '-0' : String(value) };
    case 'bigint':
      return { $n: value.toString() };
    case 'object': {
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new ArchiveCodecError(`column ${column?.name ?? '?'}: an invalid Date cannot be archived`);
        const kind = dateKind(column);
        if (kind === 'date') return { $date: localDate(value) };
        if (kind === 'local') return { $local: localDateTime(value) };
        return { $ts: value.toISOString() };
      }
      if (value instanceof Uint8Array) return { $b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
      if (Array.isArray(value)) return { $a: value.map((v) => encodeValue(v)) };
      if (isPlainObject(value)) return { $j: jsonSafe(value) };
      // A driver's own object (e.g. node-pg's interval): its JSON form, as a JSON value.
      return { $j: jsonSafe(value) };
    }
    default:
      throw new ArchiveCodecError(`column ${column?.name ?? '?'}: a ${typeof value} value cannot be archived`);
  }
}

const TAGS = new Set(['$b', '$n', '$f', '$date', '$local', '$ts', '$a', '$j']);

/** The tag of an encoded object value, checking it has exactly one known member of the right type. */
function tagOf(v: object): [string, unknown] {
  const keys = Object.keys(v);
  const tag = keys[0];
  if (keys.length !== 1 || tag === undefined || !TAGS.has(tag)) throw new ArchiveCodecError(`an object value must have exactly one of ${[...TAGS].join(', ')}`);
  const inner = (v as Record<string, unknown>)[tag];
  if (tag !== '$a' && tag !== '$j' && typeof inner !== 'string') throw new ArchiveCodecError(`${tag} must hold a string`);
  if (tag === '$a' && !Array.isArray(inner)) throw new ArchiveCodecError('$a must hold an array');
  return [tag, inner];
}

/** The value an encoded value stands for (the table in docs/archives.md, "Value encoding"). */
export function decodeValue(v: unknown): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ArchiveCodecError('a value must be null, a string, number, boolean or a tagged object');
  const [tag, inner] = tagOf(v);
  switch (tag) {
    case '$b':
      return Buffer.from(inner as string, 'base64');
    case '$n':
      if (!/^-?\d+$/.test(inner as string)) throw new ArchiveCodecError('$n must hold an integer');
      return BigInt(inner as string);
    case '$f':
      if (inner === '-0') return -0;
      if (inner === 'NaN' || inner === 'Infinity' || inner === '-Infinity') return Number(inner);
      throw new ArchiveCodecError('$f must be NaN, Infinity, -Infinity or -0');
    case '$date':
    case '$local':
      return inner;
    case '$ts': {
      const d = new Date(inner as string);
      if (Number.isNaN(d.getTime())) throw new ArchiveCodecError('$ts must hold an ISO instant');
      return d;
    }
    case '$a':
      return (inner as unknown[]).map(decodeValue);
    default:
      return inner; // $j
  }
}

export type Row = Readonly<Record<string, unknown>>;
export type EncodedRow = Readonly<Record<string, EncodedValue>>;

/** One row as its chunk line (without the newline): columns in `columns` order, every column present. */
export function encodeRow(row: Row, columns: readonly ArchiveColumn[]): string {
  const out: Record<string, EncodedValue> = {};
  for (const c of columns) {
    if (!Object.hasOwn(row, c.name)) throw new ArchiveCodecError(`a row has no value for column ${c.name} (give every archived column, null for none)`);
    out[c.name] = encodeValue(row[c.name], c);
  }
  const extra = Object.keys(row).filter((k) => !columns.some((c) => c.name === k));
  if (extra.length) throw new ArchiveCodecError(`a row has column(s) ${extra.join(', ')} that the archive set does not list`);
  return JSON.stringify(out);
}

/** Parses one chunk line into its encoded row, checking it has exactly `columns`. */
export function parseRowLine(line: string, columns: readonly ArchiveColumn[]): EncodedRow {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ArchiveCodecError('a line is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ArchiveCodecError('a line is not a JSON object');
  const keys = Object.keys(v);
  if (keys.length !== columns.length || columns.some((c) => !Object.hasOwn(v, c.name))) {
    throw new ArchiveCodecError(`a row does not have exactly the manifest's ${columns.length} columns`);
  }
  for (const k of keys) decodeValue((v as Record<string, unknown>)[k]); // validates every tag
  return v as EncodedRow;
}

/** A row of decoded values (see {@link decodeValue}). */
export function decodeRow(row: EncodedRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = decodeValue(v);
  return out;
}

/** One key part as canonical text: the same key read as 5, "5", 5n or {"$n":"5"} is one key. */
function keyPart(v: EncodedValue, column: string): string {
  if (v === null) throw new ArchiveCodecError(`primary key column ${column} is null`);
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v).toString() : String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const [tag, inner] = tagOf(v);
  if (tag === '$a' || tag === '$j') return JSON.stringify(inner);
  return tag === '$b' ? `b64:${inner as string}` : (inner as string);
}

/** The canonical text of a row's primary key: a JSON array of strings. */
export function keyText(row: EncodedRow, primaryKey: readonly string[]): string {
  return JSON.stringify(primaryKey.map((c) => keyPart(row[c] ?? null, c)));
}

/** The primary key's encoded values, as the manifest lists first and last keys. */
export function keyValues(row: EncodedRow, primaryKey: readonly string[]): EncodedValue[] {
  return primaryKey.map((c) => row[c] ?? null);
}

/** SHA-256 (hex) of the sorted key texts, one per line: a chunk's `keysSha256`. */
export function keysDigest(keyTexts: readonly string[]): string {
  const h = createHash('sha256');
  for (const k of [...keyTexts].sort()) h.update(k).update('\n');
  return h.digest('hex');
}

/** The journal's per-row fingerprint: a keyed hash of the key and a hash of the whole row, `<key>.<row>`. */
export function rowFingerprint(salt: Buffer, key: string, line: string): { key: string; row: string } {
  return {
    key: createHmac('sha256', salt).update(key).digest().subarray(0, 16).toString('base64url'),
    row: createHash('sha256').update(line).digest().subarray(0, 8).toString('base64url'),
  };
}

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

// ---------------------------------------------------------------- manifest

const encodedValue: z.ZodType<EncodedValue> = z.union([z.null(), z.string(), z.number(), z.boolean(), z.record(z.string(), z.unknown())]);

export const columnSchema = z.object({
  name: z.string().min(1),
  dataType: z.string(),
  typeClass: z.string().optional(),
  nullable: z.boolean().optional(),
});

export const chunkRecordSchema = z.object({
  file: z.string().regex(CHUNK_RE),
  rows: z.number().int().min(1),
  firstKey: z.array(encodedValue),
  lastKey: z.array(encodedValue),
  bytes: z.number().int().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  keysSha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** One chunk as the journal and the manifest list it. */
export type ArchiveChunkRecord = z.infer<typeof chunkRecordSchema>;

export const tableSchema = z.object({ schema: z.string().nullable(), name: z.string().min(1) });

const recipientSchema = z.object({ id: z.string(), publicKey: z.string() });

export const manifestSchema = z.object({
  format: z.enum([ARCHIVE_SET_FORMAT, LEGACY_SET_FORMAT]),
  encoding: z.object({
    rows: z.literal('jsonl'),
    values: z.literal(VALUE_ENCODING),
    compression: z.literal('gzip'),
    encryption: z.enum([SET_ENCRYPTION[ARCHIVE_SET_FORMAT], SET_ENCRYPTION[LEGACY_SET_FORMAT]]),
  }),
  source: z.string(),
  table: tableSchema,
  primaryKey: z.array(z.string().min(1)).min(1),
  columns: z.array(columnSchema).min(1),
  runId: z.string(),
  policy: z.string(),
  recipients: z.array(recipientSchema).min(1),
  createdAt: z.string(),
  finishedAt: z.string(),
  chunks: z.array(chunkRecordSchema),
  totals: z.object({ chunks: z.number().int().min(0), rows: z.number().int().min(0), bytes: z.number().int().min(0) }),
  signature: z
    .object({ algorithm: z.literal('ed25519'), publicKey: z.string(), keyId: z.string(), value: z.string() })
    .optional(),
});

/** `manifest.json`. */
export type ArchiveManifest = z.infer<typeof manifestSchema>;

/** The bytes a manifest signature covers: the manifest without `signature`, as compact JSON in its own key order. */
export function manifestSigningBytes(manifest: ArchiveManifest): Buffer {
  const { signature: _omit, ...rest } = manifest;
  return Buffer.from(JSON.stringify(rest), 'utf8');
}

/**
 * Internal consistency of a manifest, without reading any chunk: chunk files numbered
 * 1…n in order, totals equal to the sums. The first problem, with the chunk it is about.
 */
export function manifestProblem(m: ArchiveManifest): { message: string; chunk?: string } | null {
  if (m.encoding.encryption !== SET_ENCRYPTION[m.format]) return { message: `says format ${m.format} with encryption ${m.encoding.encryption} (expected ${SET_ENCRYPTION[m.format]})` };
  for (const [i, c] of m.chunks.entries()) {
    // A set of the earlier format holds .stwa chunks only; one begun in it and finished since may hold both.
    const names = m.format === LEGACY_SET_FORMAT ? [chunkFileName(i + 1, true)] : [chunkFileName(i + 1), chunkFileName(i + 1, true)];
    if (!names.includes(c.file)) return { message: `lists ${c.file} as chunk ${i + 1} (expected ${names[0]})`, chunk: c.file };
    if (c.firstKey.length !== m.primaryKey.length || c.lastKey.length !== m.primaryKey.length) {
      return { message: `lists first/last keys of ${c.file} with the wrong number of key columns`, chunk: c.file };
    }
  }
  const rows = m.chunks.reduce((n, c) => n + c.rows, 0);
  const bytes = m.chunks.reduce((n, c) => n + c.bytes, 0);
  if (m.totals.chunks !== m.chunks.length) return { message: `says ${m.totals.chunks} chunks in its totals but lists ${m.chunks.length}` };
  if (m.totals.rows !== rows) return { message: `says ${m.totals.rows} rows in its totals but its chunks add up to ${rows}` };
  if (m.totals.bytes !== bytes) return { message: `says ${m.totals.bytes} bytes in its totals but its chunks add up to ${bytes}` };
  const missing = m.primaryKey.filter((k) => !m.columns.some((c) => c.name === k));
  if (missing.length) return { message: `names primary key column(s) ${missing.join(', ')} that are not in its column list` };
  return null;
}
