/**
 * Archive value encoding, key texts, manifest checks and archive headers read without a key (pure).
 */
import { describe, expect, it } from 'vitest';
import { encryptBuffer, inspectArchiveHeader } from '../../../src/archive/age.js';
import { generateRecipient } from '../../../src/archive/keys.js';
import { headerLength } from '../../../src/archive/legacy.js';
import { legacyEncrypt } from '../../helpers/legacy-archive.js';
import {
  chunkFileName,
  chunkIndexOf,
  dateKind,
  decodeValue,
  encodeRow,
  encodeValue,
  isLegacyChunk,
  keysDigest,
  keyText,
  manifestProblem,
  parseRowLine,
  type ArchiveManifest,
} from '../../../src/archive/codec.js';
import { toDriverValue } from '../../../src/archive/values.js';
import { MYSQL_ARCHIVE } from '../../../src/sources/mysql/mysql-archive.js';
import { POSTGRES_ARCHIVE } from '../../../src/sources/postgres/postgres-archive.js';
import { SQLITE_ARCHIVE } from '../../../src/sources/sqlite/sqlite-archive.js';

/** What toDriverValue needs of a source: its archive dialect. */
const sqlite = { archive: SQLITE_ARCHIVE };
const postgres = { archive: POSTGRES_ARCHIVE };
const mysql = { archive: MYSQL_ARCHIVE };

const cols = [
  { name: 'id', dataType: 'integer', typeClass: 'integer' },
  { name: 'born', dataType: 'date', typeClass: 'date' },
  { name: 'seen', dataType: 'timestamp without time zone', typeClass: 'timestamp' },
  { name: 'paid', dataType: 'timestamp with time zone', typeClass: 'timestamp' },
  { name: 'blob', dataType: 'bytea', typeClass: 'binary' },
  { name: 'big', dataType: 'bigint', typeClass: 'integer' },
  { name: 'doc', dataType: 'jsonb', typeClass: 'json' },
];

describe('value encoding', () => {
  it('keeps JSON-safe values as they are and tags the rest; decoding gives them back', () => {
    const values: unknown[] = ['naïve 🎉 \u2028', true, false, 0, 1.5, -7, null];
    for (const v of values) expect(decodeValue(encodeValue(v))).toEqual(v);
    expect(encodeValue(undefined)).toBeNull();
    expect(encodeValue(-0)).toEqual({ $f: '-0' });
    expect(Object.is(decodeValue(encodeValue(-0)), -0)).toBe(true);
    expect(Number.isNaN(decodeValue(encodeValue(NaN)))).toBe(true);
    expect(decodeValue(encodeValue(-Infinity))).toBe(-Infinity);
    expect(encodeValue(-(2n ** 63n))).toEqual({ $n: '-9223372036854775808' });
    expect(decodeValue({ $n: '9223372036854775807' })).toBe(2n ** 63n - 1n);
    const bytes = Buffer.from([0, 255, 10, 13, 0x80]);
    expect(encodeValue(bytes)).toEqual({ $b: bytes.toString('base64') });
    expect(decodeValue(encodeValue(new Uint8Array(bytes)))).toEqual(bytes);
    expect(encodeValue([1, 'a', null, Buffer.from('x')])).toEqual({ $a: [1, 'a', null, { $b: 'eA==' }] });
    expect(encodeValue({ a: [1, { b: 2n }] })).toEqual({ $j: { a: [1, { b: '2' }] } });
    // A JSON value that looks like a tag stays a JSON value: only the outer object is the tag.
    expect(decodeValue(encodeValue({ $b: 'AAAA' }))).toEqual({ $b: 'AAAA' });
  });

  it('keeps dates without a zone as calendar text and instants as ISO', () => {
    const local = new Date(2024, 1, 29, 13, 45, 7, 123); // how node-pg builds date/timestamp values
    expect(encodeValue(local, cols[1])).toEqual({ $date: '2024-02-29' });
    expect(encodeValue(local, cols[2])).toEqual({ $local: '2024-02-29 13:45:07.123' });
    expect(encodeValue(local, cols[3])).toEqual({ $ts: local.toISOString() });
    expect(decodeValue({ $ts: local.toISOString() })).toEqual(local);
    expect(decodeValue({ $date: '2024-02-29' })).toBe('2024-02-29');
    expect(dateKind({ name: 'x', dataType: 'DATETIME' })).toBe('local');
    expect(dateKind({ name: 'x', dataType: 'timestamptz' })).toBe('instant');
    expect(() => encodeValue(new Date(NaN), cols[3])).toThrow(/invalid Date/);
  });

  it('refuses malformed tags', () => {
    for (const bad of [{}, { $b: 'x', $n: '1' }, { $x: '1' }, { $n: 'abc' }, { $n: 5 }, { $f: 'zero' }, { $ts: 'yesterday' }, { $a: 'x' }, [1]]) {
      expect(() => decodeValue(bad), JSON.stringify(bad)).toThrow();
    }
  });

  it('turns values into what each driver inserts', () => {
    expect(toDriverValue(true, sqlite)).toBe(1);
    expect(toDriverValue(true, postgres)).toBe(true);
    expect(toDriverValue({ $n: '9223372036854775807' }, sqlite)).toBe(9223372036854775807n);
    expect(toDriverValue({ $n: '9223372036854775807' }, mysql)).toBe('9223372036854775807');
    expect(toDriverValue({ $j: { a: 1 } }, postgres)).toBe('{"a":1}');
    expect(toDriverValue({ $a: [1, 2] }, postgres)).toEqual([1, 2]);
    expect(toDriverValue({ $a: [1, 2] }, mysql)).toBe('[1,2]');
    expect(toDriverValue({ $ts: '2024-01-01T00:00:00.000Z' }, sqlite)).toBe('2024-01-01T00:00:00.000Z');
    expect(toDriverValue({ $ts: '2024-01-01T00:00:00.000Z' }, postgres)).toEqual(new Date('2024-01-01T00:00:00.000Z'));
    expect(toDriverValue({ $b: 'AQI=' }, mysql)).toEqual(Buffer.from([1, 2]));
  });
});

describe('rows and keys', () => {
  it('writes every column in the set\'s order and refuses missing or extra columns', () => {
    const row = { doc: { k: 'v' }, id: 1, born: '2000-01-01', seen: null, paid: null, blob: null, big: '5' };
    const line = encodeRow(row, cols);
    expect(Object.keys(JSON.parse(line))).toEqual(cols.map((c) => c.name));
    expect(parseRowLine(line, cols).doc).toEqual({ $j: { k: 'v' } });
    const { big: _b, ...missing } = row;
    expect(() => encodeRow(missing, cols)).toThrow(/no value for column big/);
    expect(() => encodeRow({ ...row, extra: 1 }, cols)).toThrow(/extra/);
    expect(() => parseRowLine('{"id":1}', cols)).toThrow(/exactly/);
    expect(() => parseRowLine('not json', cols)).toThrow(/not JSON/);
    expect(() => parseRowLine(line.replace('"v"}', '"v"},"x":{"$q":"1"}'), cols)).toThrow();
  });

  it('gives one key text for one key however the driver returned it', () => {
    const pk = ['id'];
    const texts = [5, '5', { $n: '5' }].map((v) => keyText({ id: v as never }, pk));
    expect(new Set(texts).size).toBe(1);
    expect(keyText({ a: 1, b: 'x' }, ['a', 'b'])).toBe('["1","x"]');
    expect(keyText({ id: 1e21 }, pk)).toBe('["1000000000000000000000"]');
    expect(() => keyText({ id: null }, pk)).toThrow(/null/);
    expect(keysDigest(['b', 'a'])).toBe(keysDigest(['a', 'b']));
    expect(keysDigest(['a'])).not.toBe(keysDigest(['a', 'a']));
  });

  it('names chunk files and recognises only them', () => {
    expect(chunkFileName(1)).toBe('chunk-000001.jsonl.gz.age');
    expect(chunkFileName(1, true)).toBe('chunk-000001.jsonl.gz.stwa');
    expect(chunkIndexOf('chunk-001234.jsonl.gz.age')).toBe(1234);
    expect(chunkIndexOf('chunk-001234.jsonl.gz.stwa')).toBe(1234);
    expect(isLegacyChunk('chunk-001234.jsonl.gz.stwa')).toBe(true);
    expect(isLegacyChunk('chunk-001234.jsonl.gz.age')).toBe(false);
    expect(chunkIndexOf('chunk-1.jsonl.gz.age')).toBeNull();
    expect(chunkIndexOf('chunk-000001.jsonl.gz')).toBeNull();
    expect(chunkIndexOf('.chunk-000001.jsonl.gz.age.abc.tmp')).toBeNull();
  });
});

describe('manifest checks', () => {
  const chunk = (i: number, rows: number) => ({ file: chunkFileName(i), rows, firstKey: [1], lastKey: [2], bytes: 100, sha256: 'a'.repeat(64), keysSha256: 'b'.repeat(64) });
  const manifest = (over: Partial<ArchiveManifest> = {}): ArchiveManifest => ({
    format: 'steward-retention-archive/2',
    encoding: { rows: 'jsonl', values: 'steward-json/1', compression: 'gzip', encryption: 'age-encryption.org/v1' },
    source: 's',
    table: { schema: null, name: 't' },
    primaryKey: ['id'],
    columns: [{ name: 'id', dataType: 'int' }],
    runId: 'r',
    policy: 'p',
    recipients: [{ id: 'x', publicKey: 'y' }],
    createdAt: '',
    finishedAt: '',
    chunks: [chunk(1, 3), chunk(2, 4)],
    totals: { chunks: 2, rows: 7, bytes: 200 },
    ...over,
  });

  it('accepts totals that add up and names what does not', () => {
    expect(manifestProblem(manifest())).toBeNull();
    expect(manifestProblem(manifest({ totals: { chunks: 2, rows: 8, bytes: 200 } }))?.message).toMatch(/8 rows in its totals but its chunks add up to 7/);
    expect(manifestProblem(manifest({ chunks: [chunk(1, 3), chunk(3, 4)] }))).toMatchObject({ chunk: 'chunk-000003.jsonl.gz.age' });
    expect(manifestProblem(manifest({ primaryKey: ['nope'] }))?.message).toMatch(/nope/);
  });

  it('checks the format against the encryption and the chunk names: /1 holds .stwa chunks only, /2 age chunks and those of a set begun in /1', () => {
    const legacy = { format: 'steward-retention-archive/1', encoding: { rows: 'jsonl', values: 'steward-json/1', compression: 'gzip', encryption: 'steward-archive/1' } } as const;
    expect(manifestProblem(manifest(legacy))?.message).toMatch(/lists chunk-000001\.jsonl\.gz\.age as chunk 1 \(expected chunk-000001\.jsonl\.gz\.stwa\)/);
    expect(manifestProblem(manifest({ ...legacy, chunks: [{ ...chunk(1, 3), file: chunkFileName(1, true) }, { ...chunk(2, 4), file: chunkFileName(2, true) }] }))).toBeNull();
    expect(manifestProblem(manifest({ chunks: [{ ...chunk(1, 3), file: chunkFileName(1, true) }, chunk(2, 4)] }))).toBeNull();
    expect(manifestProblem(manifest({ format: 'steward-retention-archive/1' }))?.message).toMatch(/says format steward-retention-archive\/1 with encryption age-encryption\.org\/v1/);
  });

  it('reads an age header without a private key: one X25519 stanza per recipient', async () => {
    const a = generateRecipient();
    const b = generateRecipient();
    const file = await encryptBuffer(Buffer.from('x'), [a.publicKey, b.publicKey]);
    const header = inspectArchiveHeader(file, file.length);
    expect(header).toMatchObject({ format: 'age', recipients: 2, headerBytes: file.indexOf('\n---') + 1 + 48 });
    expect(typeof header !== 'string' && header.format === 'age' && header.stanzas.map((s) => s.type)).toEqual(['X25519', 'X25519']);
    expect(inspectArchiveHeader(Buffer.from('PK\x03\x04 not an archive at all'), 40)).toMatch(/not an age file/);
    expect(inspectArchiveHeader(file.subarray(0, 30), 30)).toMatch(/ends inside its header/);
    expect(inspectArchiveHeader(file, (typeof header !== 'string' && header.headerBytes) || 0)).toMatch(/ends (inside|right after) its header/);
    const mac = file.indexOf('\n---') + 1;
    const noMac = Buffer.from(file);
    noMac[mac] = 0x2b; // "+--": neither a stanza nor the MAC line
    expect(inspectArchiveHeader(noMac, noMac.length)).toMatch(/neither a stanza nor the MAC/);
    const longBody = Buffer.concat([file.subarray(0, file.indexOf('\n', 23) + 1), Buffer.from('A'.repeat(65)), file.subarray(file.indexOf('\n', file.indexOf('\n', 23) + 1))]);
    expect(inspectArchiveHeader(longBody, longBody.length)).toMatch(/malformed stanza body/);
  });

  it('reads a header of the earlier format without a private key: the recipients\' fingerprints', () => {
    const a = generateRecipient();
    const b = generateRecipient();
    const file = legacyEncrypt(Buffer.from('x'), [a.publicKey, b.publicKey]);
    expect(inspectArchiveHeader(file, file.length)).toEqual({ format: 'steward-archive/1', recipients: 2, recipientIds: [a.identity.id, b.identity.id], headerBytes: headerLength(2) });
    expect(inspectArchiveHeader(file.subarray(0, 30), 30)).toMatch(/ends inside its header/);
    const bad = Buffer.from(file);
    bad[18] = 0;
    expect(inspectArchiveHeader(bad, bad.length)).toMatch(/0 recipients/);
  });
});
