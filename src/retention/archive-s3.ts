/**
 * A minimal S3-compatible client for archive sets: PUT, GET and a prefix listing,
 * signed with AWS Signature Version 4 (node:crypto) over `fetch`, path-style
 * URLs (`<endpoint>/<bucket>/<key>`, which AWS, MinIO, Ceph and most others
 * accept). No SDK: three calls do not justify one.
 *
 * Every PUT sends the body's SHA-256 as `x-amz-content-sha256`, part of the
 * signature: the server refuses a body that does not match it, so a chunk stored
 * is the chunk hashed. An archive set mirrored with {@link s3Remote} is uploaded
 * chunk by chunk before `writeChunk` resolves (see archive-set.ts `remote`), and
 * `manifest.json` last.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ArchiveError } from '../errors.js';

export interface S3Target {
  /** `https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:9000` (MinIO), … */
  readonly endpoint: string;
  readonly bucket: string;
  /** Key prefix of the set, e.g. `archives/invoices/2026-01-01/` (a trailing `/` is added). */
  readonly prefix: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly fetch?: typeof fetch;
  /** For tests: the signing time. */
  readonly now?: () => Date;
}

/** RFC 3986 encoding as SigV4 wants it (`/` kept in paths). */
export function uriEncode(s: string, keepSlash: boolean): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, keepSlash ? '/' : '%2F');
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

export interface SignInput {
  readonly method: string;
  /** Path, already URI-encoded (`/bucket/key`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly payloadSha256: string;
  readonly region: string;
  readonly service?: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly date: Date;
}

/**
 * The `Authorization` header of a SigV4 request (pure). `headers` must include
 * `host`, `x-amz-date` and `x-amz-content-sha256`; all of them are signed.
 */
export function signV4(input: SignInput): string {
  const service = input.service ?? 's3';
  const amzDate = input.date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers = Object.entries(input.headers)
    .map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = headers.map(([k]) => k).join(';');
  const query = Object.entries(input.query ?? {})
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [input.method, input.path, query, headers.map(([k, v]) => `${k}:${v}\n`).join(''), signedHeaders, input.payloadSha256].join('\n');
  const scope = `${day}/${input.region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${input.secretAccessKey}`, day), input.region), service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

function where(t: S3Target, key = ''): string {
  return `s3 ${t.endpoint.replace(/\/+$/, '')}/${t.bucket}/${key}`;
}

async function request(t: S3Target, method: 'GET' | 'PUT', key: string, body?: Buffer, query?: Record<string, string>): Promise<Buffer> {
  const base = new URL(t.endpoint);
  const bucketPath = `${base.pathname.replace(/\/+$/, '')}/${uriEncode(t.bucket, false)}`;
  const path = key === '' ? bucketPath : `${bucketPath}/${uriEncode(key, true)}`;
  const date = (t.now ?? (() => new Date()))();
  const payloadSha256 = sha256(body ?? '');
  const headers: Record<string, string> = {
    host: base.host,
    'x-amz-date': date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''),
    'x-amz-content-sha256': payloadSha256,
    ...(t.sessionToken ? { 'x-amz-security-token': t.sessionToken } : {}),
  };
  const authorization = signV4({ method, path, headers, payloadSha256, region: t.region, accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey, date, ...(query ? { query } : {}) });
  const qs = query ? `?${Object.entries(query).map(([k, v]) => `${uriEncode(k, false)}=${uriEncode(v, false)}`).join('&')}` : '';
  const { host: _host, ...sent } = headers;
  let res: Response;
  try {
    res = await (t.fetch ?? fetch)(`${base.protocol}//${base.host}${path}${qs}`, { method, headers: { ...sent, authorization }, ...(body ? { body } : {}) });
  } catch (e) {
    throw new ArchiveError('ARCHIVE_TARGET', `Cannot reach ${where(t)}: ${(e as Error).message}`, { hint: 'Check the endpoint and the network; nothing was archived there', cause: e });
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  if (!res.ok) {
    const code = /<Code>([^<]*)<\/Code>/.exec(bytes.toString('utf8'))?.[1] ?? '';
    const kind = res.status === 403 ? 'access denied (check the credentials and the bucket policy)' : res.status === 404 ? 'not found' : `HTTP ${res.status}`;
    throw new ArchiveError('ARCHIVE_TARGET', `${method} ${where(t, key)} failed: ${kind}${code ? ` (${code})` : ''}`, {
      hint: method === 'PUT' ? 'Nothing from this write counts as archived, so no row may be deleted for it; fix the target and run again' : 'Check the bucket and prefix',
    });
  }
  return bytes;
}

const keyOf = (t: S3Target, name: string) => `${t.prefix.replace(/\/*$/, '/').replace(/^\/+/, '')}${name}`;

/** Stores `data` as `<prefix><name>`; the server checks it against its SHA-256. */
export async function s3Put(t: S3Target, name: string, data: Buffer): Promise<void> {
  await request(t, 'PUT', keyOf(t, name), data);
}

/** The bytes of `<prefix><name>`. */
export function s3Get(t: S3Target, name: string): Promise<Buffer> {
  return request(t, 'GET', keyOf(t, name));
}

/** Names (relative to the prefix) of every object under the prefix (ListObjectsV2, following continuation). */
export async function s3List(t: S3Target): Promise<string[]> {
  const prefix = keyOf(t, '');
  const names: string[] = [];
  let token: string | undefined;
  do {
    const xml = (await request(t, 'GET', '', undefined, { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) })).toString('utf8');
    for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) names.push(unescapeXml(m[1]!).slice(prefix.length));
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? unescapeXml(/<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1] ?? '') : undefined;
  } while (token);
  return names;
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** Where an archive set's files are copied once durable locally: chunks as they are written, the manifest last. */
export interface ArchiveRemote {
  /** Human-readable location, for messages. */
  readonly location: string;
  put(name: string, file: string): Promise<void>;
}

/** An {@link ArchiveRemote} storing the set under `target.prefix` in an S3-compatible bucket. */
export function s3Remote(target: S3Target): ArchiveRemote {
  return {
    location: where(target, keyOf(target, '')),
    put: async (name, file) => s3Put(target, name, await readFile(file)),
  };
}

/** Copies the set stored under `target.prefix` into the local directory `dir` (for verify and restore). */
export async function downloadArchiveSet(target: S3Target, dir: string): Promise<string[]> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const path = await import('node:path');
  await mkdir(dir, { recursive: true });
  const names = (await s3List(target)).filter((n) => n !== '' && !n.includes('/'));
  for (const n of names) await writeFile(path.join(dir, n), await s3Get(target, n));
  return names;
}
