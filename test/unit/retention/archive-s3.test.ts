/**
 * The S3 target of archive sets: SigV4 against AWS's published examples, and a
 * set mirrored to a small local S3 stand-in that checks every signature and
 * payload hash like S3 does — uploaded chunk by chunk before writeChunk resolves,
 * manifest last, downloaded again and verified; a refused PUT leaves nothing
 * archived.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecipient } from '../../../src/crypto/recipients.js';
import { ArchiveError } from '../../../src/errors.js';
import { chunkFileName, JOURNAL_FILE, MANIFEST_FILE } from '../../../src/retention/archive-codec.js';
import { downloadArchiveSet, s3List, s3Remote, signV4, type S3Target } from '../../../src/retention/archive-s3.js';
import { openArchiveSet } from '../../../src/retention/archive-set.js';
import { verifyArchiveSet } from '../../../src/retention/archive-verify.js';

const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const signatureOf = (auth: string) => /Signature=([0-9a-f]{64})/.exec(auth)?.[1];

describe('SigV4 (AWS documentation examples, s3 service, 2013-05-24)', () => {
  const date = new Date('2013-05-24T00:00:00Z');
  const base = { region: 'us-east-1', accessKeyId: AKID, secretAccessKey: SECRET, date };

  it('GET object with a Range header', () => {
    const auth = signV4({
      ...base,
      method: 'GET',
      path: '/test.txt',
      headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z' },
      payloadSha256: EMPTY,
    });
    expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20130524\/us-east-1\/s3\/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, /);
    expect(signatureOf(auth)).toBe('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });

  it('PUT object with a payload hash and a date header', () => {
    const payload = createHash('sha256').update('Welcome to Amazon S3.').digest('hex');
    const auth = signV4({
      ...base,
      method: 'PUT',
      path: '/test%24file.text',
      headers: {
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        host: 'examplebucket.s3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': payload,
      },
      payloadSha256: payload,
    });
    expect(signatureOf(auth)).toBe('98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
  });

  it('GET bucket listing with query parameters', () => {
    const auth = signV4({
      ...base,
      method: 'GET',
      path: '/',
      query: { 'max-keys': '2', prefix: 'J' },
      headers: { host: 'examplebucket.s3.amazonaws.com', 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z' },
      payloadSha256: EMPTY,
    });
    expect(signatureOf(auth)).toBe('34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });
});

/** An S3 stand-in: path-style PUT/GET/ListObjectsV2, checking each request's signature and payload hash. */
function s3StandIn(): { server: Server; objects: Map<string, Buffer>; failPuts: { on: boolean } } {
  const objects = new Map<string, Buffer>();
  const failPuts = { on: false };
  const body = async (req: IncomingMessage) => {
    const parts: Buffer[] = [];
    for await (const p of req) parts.push(p as Buffer);
    return Buffer.concat(parts);
  };
  const server = createServer(async (req, res) => {
    const data = await body(req);
    const url = new URL(req.url!, 'http://x');
    const h = req.headers as Record<string, string>;
    const signed = /SignedHeaders=([^,]*)/.exec(h.authorization ?? '')?.[1]?.split(';') ?? [];
    const amz = h['x-amz-date'] ?? '';
    const date = new Date(`${amz.slice(0, 4)}-${amz.slice(4, 6)}-${amz.slice(6, 8)}T${amz.slice(9, 11)}:${amz.slice(11, 13)}:${amz.slice(13, 15)}Z`);
    const expected = signV4({
      method: req.method!,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(signed.map((k) => [k, h[k] ?? ''])),
      payloadSha256: h['x-amz-content-sha256'] ?? '',
      region: 'eu-test-1',
      accessKeyId: AKID,
      secretAccessKey: SECRET,
      date,
    });
    const reply = (status: number, text = '') => {
      res.statusCode = status;
      res.end(text);
    };
    if (h.authorization !== expected) return reply(403, '<Error><Code>SignatureDoesNotMatch</Code></Error>');
    if (createHash('sha256').update(data).digest('hex') !== h['x-amz-content-sha256']) return reply(400, '<Error><Code>XAmzContentSHA256Mismatch</Code></Error>');
    const [, bucket, ...rest] = decodeURIComponent(url.pathname).split('/');
    if (bucket !== 'archives') return reply(404, '<Error><Code>NoSuchBucket</Code></Error>');
    const key = rest.join('/');
    if (req.method === 'PUT') {
      if (failPuts.on) return reply(507, '<Error><Code>InsufficientStorage</Code></Error>');
      objects.set(key, data);
      return reply(200);
    }
    if (key === '' && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      return reply(200, `<ListBucketResult>${keys.map((k) => `<Contents><Key>${k.replace(/&/g, '&amp;')}</Key></Contents>`).join('')}<IsTruncated>false</IsTruncated></ListBucketResult>`);
    }
    const found = objects.get(key);
    if (!found) return reply(404, '<Error><Code>NoSuchKey</Code></Error>');
    res.end(found);
  });
  return { server, objects, failPuts };
}

describe('an archive set mirrored to S3-compatible storage', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-as3-'));
  const stand = s3StandIn();
  let target: S3Target;
  const dpo = generateRecipient();
  const columns = [
    { name: 'id', dataType: 'integer' },
    { name: 'v', dataType: 'text' },
  ];
  const rows = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => ({ id: a + i, v: `value ${a + i}` }));

  beforeAll(async () => {
    await new Promise<void>((r) => stand.server.listen(0, '127.0.0.1', r));
    const port = (stand.server.address() as AddressInfo).port;
    target = { endpoint: `http://127.0.0.1:${port}`, bucket: 'archives', prefix: 'invoices/run 1/', region: 'eu-test-1', accessKeyId: AKID, secretAccessKey: SECRET };
  });
  afterAll(async () => {
    await new Promise((r) => stand.server.close(r));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('stores each chunk before writeChunk resolves and the manifest last; the downloaded copy verifies', async () => {
    const dir = path.join(tmp, 'staging');
    const set = await openArchiveSet({ dir, recipients: [dpo.publicKey], source: 's', table: 'invoices', primaryKey: ['id'], columns, runId: 'run 1', policy: 'p', remote: s3Remote(target) });
    await set.writeChunk(rows(1, 50));
    expect([...stand.objects.keys()]).toEqual([`invoices/run 1/${chunkFileName(1)}`]);
    // A PUT the store refuses: the chunk is not archived, locally or remotely.
    stand.failPuts.on = true;
    const e = await set.writeChunk(rows(51, 90)).catch((x: unknown) => x as ArchiveError);
    expect(e).toBeInstanceOf(ArchiveError);
    expect((e as ArchiveError).message).toMatch(/PUT s3 .*chunk-000002.* HTTP 507 \(InsufficientStorage\)/);
    expect(readdirSync(dir).sort()).toEqual([chunkFileName(1), JOURNAL_FILE]);
    stand.failPuts.on = false;
    await set.writeChunk(rows(51, 90));
    await set.finish();
    expect(await s3List(target)).toEqual([chunkFileName(1), chunkFileName(2), MANIFEST_FILE]);

    const copy = path.join(tmp, 'downloaded');
    await downloadArchiveSet(target, copy);
    expect(await verifyArchiveSet(copy, { privateKey: dpo.identity })).toMatchObject({ chunks: 2, rows: 90 });
  });

  it('wrong credentials are refused with a clear message and nothing is archived', async () => {
    const dir = path.join(tmp, 'denied');
    const set = await openArchiveSet({ dir, recipients: [dpo.publicKey], source: 's', table: 't', primaryKey: ['id'], columns, runId: 'r', policy: 'p', remote: s3Remote({ ...target, prefix: 'other/', secretAccessKey: 'wrong' }) });
    await expect(set.writeChunk(rows(1, 5))).rejects.toThrow(/access denied .*SignatureDoesNotMatch/);
    expect(readdirSync(dir)).toEqual([JOURNAL_FILE]);
    expect([...stand.objects.keys()].some((k) => k.startsWith('other/'))).toBe(false);
  });
});
