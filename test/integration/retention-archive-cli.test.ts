/**
 * `steward archive verify` and `steward archive restore` through the real
 * argument parser, on a SQLite source named in steward.yml: exit codes, one-line
 * errors naming the chunk, JSON output, dry run, and a re-run that inserts nothing.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIdentityFile } from '../../src/archive/keys.js';
import { ExitCode } from '../../src/errors.js';
import { main } from '../../src/interfaces/cli/cli.js';
import type { Io } from '../../src/interfaces/cli/output.js';
import { chunkFileName } from '../../src/archive/codec.js';
import { openArchiveSet } from '../../src/archive/set.js';

async function steward(cwd: string, ...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += String(b)));
  stderr.on('data', (b) => (err += String(b)));
  const io: Io = { stdout, stderr, env: { NO_COLOR: '1' }, cwd };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('steward archive verify / restore', () => {
  let dir: string;
  let publicKey: string;
  const count = (table: string) => {
    const db = new Database(path.join(dir, 'shop.db'));
    try {
      return (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'steward-rarch-cli-'));
    publicKey = (await writeIdentityFile(path.join(dir, 'dpo.key'))).publicKey;
    const db = new Database(path.join(dir, 'shop.db'));
    db.exec('create table tickets (id integer primary key, body text, opened date, blob blob); create table tickets_back (id integer primary key, body text, opened date, blob blob);');
    const insert = db.prepare('insert into tickets values (?, ?, ?, ?)');
    for (let i = 1; i <= 120; i++) insert.run(i, `Ticket ${i}: mon imprimante est cassée 🖨️`, `2023-0${1 + (i % 9)}-1${i % 10}`, i % 3 ? Buffer.from([i, 0, i]) : null);
    const rows = db.prepare('select * from tickets order by id').all() as Record<string, unknown>[];
    db.close();
    writeFileSync(path.join(dir, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\n');
    const set = await openArchiveSet({
      dir: path.join(dir, 'set'),
      recipients: [publicKey],
      source: 'shop',
      table: 'tickets',
      primaryKey: ['id'],
      columns: [
        { name: 'id', dataType: 'integer', typeClass: 'integer' },
        { name: 'body', dataType: 'text', typeClass: 'text' },
        { name: 'opened', dataType: 'date', typeClass: 'date' },
        { name: 'blob', dataType: 'blob', typeClass: 'binary' },
      ],
      runId: 'r1',
      policy: 'tickets-3m',
    });
    for (let i = 0; i < rows.length; i += 50) await set.writeChunk(rows.slice(i, i + 50));
    await set.finish();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies without and with the key (text and JSON)', async () => {
    const plain = await steward(dir, 'archive', 'verify', 'set');
    expect(plain.code).toBe(0);
    expect(plain.out).toMatch(/Archive set verifies: 3 chunk\(s\), 120 row\(s\) of shop tickets, run r1, policy tickets-3m/);
    expect(plain.out).toMatch(/give --key/);
    const keyed = await steward(dir, 'archive', 'verify', 'set', '--key', 'dpo.key', '--json');
    expect(keyed.code).toBe(0);
    const j = JSON.parse(keyed.out) as { ok: boolean; decrypted: boolean; rows: number; digest: string };
    expect(j).toMatchObject({ ok: true, decrypted: true, rows: 120 });
    expect((await steward(dir, 'archive', 'verify', 'set', '--digest', j.digest)).code).toBe(0);
    const wrong = await steward(dir, 'archive', 'verify', 'set', '--digest', 'ab'.repeat(32));
    expect(wrong.code).toBe(ExitCode.Archive);
    expect(wrong.err).toMatch(/was changed/);
  });

  it('restores: a dry run changes nothing, then every row, then nothing on a re-run', async () => {
    const dry = await steward(dir, 'archive', 'restore', 'set', '--key', 'dpo.key', '--source', 'shop', '--table', 'tickets_back', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/Dry run: .* would insert 120 of 120 row\(s\)/);
    expect(count('tickets_back')).toBe(0);
    const done = await steward(dir, 'archive', 'restore', 'set', '--key', 'dpo.key', '--source', 'shop', '--table', 'tickets_back', '--batch-size', '40');
    expect(done.code).toBe(0);
    expect(done.out).toMatch(/Restored 120 row\(s\) into tickets_back from 3 chunk\(s\), in 5 batch\(es\)/);
    const db = new Database(path.join(dir, 'shop.db'));
    const a = JSON.stringify(db.prepare('select * from tickets order by id').all());
    const b = JSON.stringify(db.prepare('select * from tickets_back order by id').all());
    db.close();
    expect(b).toBe(a);
    const again = await steward(dir, 'archive', 'restore', 'set', '--key', 'dpo.key', '--source', 'shop', '--table', 'tickets_back', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ inserted: 0, present: 120 });
  });

  it('exit 8 with one line naming the chunk for a tampered set; exit 2 without --key or --source; exit 7 for a key readable by others', async () => {
    const file = path.join(dir, 'set', chunkFileName(2));
    const original = readFileSync(file);
    const bytes = Buffer.from(original);
    bytes[100]! ^= 1;
    writeFileSync(file, bytes);
    try {
      for (const extra of [[], ['--key', 'dpo.key']]) {
        const r = await steward(dir, 'archive', 'verify', 'set', ...extra);
        expect(r.code).toBe(ExitCode.Archive);
        expect(r.err.trim().split('\n')).toHaveLength(1);
        expect(r.err).toMatch(/^steward: error: chunk-000002\.jsonl\.gz\.age of the archive set .* SHA-256/);
      }
      const json = await steward(dir, 'archive', 'verify', 'set', '--json');
      expect(JSON.parse(json.out)).toMatchObject({ error: { code: 'ARCHIVE_CHUNK_CHANGED' } });
      const restore = await steward(dir, 'archive', 'restore', 'set', '--key', 'dpo.key', '--source', 'shop', '--table', 'tickets_back');
      expect(restore.code).toBe(ExitCode.Archive);
    } finally {
      writeFileSync(file, original);
    }
    expect((await steward(dir, 'archive', 'restore', 'set', '--source', 'shop')).code).toBe(ExitCode.Usage);
    expect((await steward(dir, 'archive', 'restore', 'set', '--key', 'dpo.key')).code).toBe(ExitCode.Usage);
    expect((await steward(dir, 'archive', 'verify', 'nowhere')).code).toBe(ExitCode.Usage);
    chmodSync(path.join(dir, 'dpo.key'), 0o644);
    try {
      expect((await steward(dir, 'archive', 'verify', 'set', '--key', 'dpo.key')).code).toBe(ExitCode.Crypto);
    } finally {
      chmodSync(path.join(dir, 'dpo.key'), 0o600);
    }
  });
});
