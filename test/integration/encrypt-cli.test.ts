/**
 * `steward encrypt`, `decrypt` and `keys` through `main`: routing, options,
 * exit codes, JSON output, the master key from steward.yml (environment
 * variable, or a Vault transit key served by the local stand-in), and clear
 * one-line errors for what must be refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/interfaces/cli/cli.js';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { ExitCode } from '../../src/errors.js';
import { startVaultTransitServer } from '../helpers/vault-transit-server.js';

function io(cwd: string, env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += String(b)));
  stderr.on('data', (b) => (err += String(b)));
  return { stdout, stderr, env, cwd, out: () => out, err: () => err };
}

function shop(dir: string): string {
  const file = path.join(dir, 'shop.db');
  const db = new Database(file);
  db.exec('create table customers (id integer primary key, email text, ssn text); create table logs (line text)');
  const ins = db.prepare('insert into customers values (?, ?, ?)');
  for (let i = 1; i <= 300; i++) ins.run(i, `c${i}@example.com`, `078-05-${String(1000 + i)}`);
  db.close();
  return file;
}

describe('steward encrypt / decrypt / keys (CLI)', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'steward-enc-cli-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('dry run, encrypt, list keys, decrypt, and the log; refusals exit non-zero with one line', async () => {
    const dir = mkdtempSync(path.join(root, 'env-'));
    const file = shop(dir);
    writeFileSync(path.join(dir, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\n');
    const env = { STEWARD_MASTER_KEY: generateMasterKeyText(), NO_COLOR: '1' };
    const run = async (...args: string[]) => {
      const o = io(dir, env);
      const code = await main(args, o);
      return { code, out: o.out(), err: o.err() };
    };
    const dry = await run('encrypt', '--source', 'shop', '--column', 'customers.ssn', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('Dry run: encrypt customers.ssn');
    expect(dry.out).toContain('to encrypt 300');
    const done = await run('encrypt', '--source', 'shop', '--column', 'customers.ssn', '--json');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.out)).toMatchObject({ operation: 'encrypt', counts: { changed: 300, remaining: 0 } });
    const again = await run('encrypt', '--source', 'shop', '--column', 'customers.ssn');
    expect(again.out).toContain('Nothing to encrypt');
    const keys = await run('keys', 'list', '--json');
    expect((JSON.parse(keys.out) as { kind: string; state: string }[]).map((k) => `${k.kind}:${k.state}`)).toEqual(['dek:active']);
    expect(keys.out).not.toContain(env.STEWARD_MASTER_KEY);
    const db = new Database(file, { readonly: true });
    expect((db.prepare('select ssn from customers where id = 1').get() as { ssn: string }).ssn).toMatch(/^stw1:/);
    db.close();
    const back = await run('decrypt', '--source', 'shop', '--column', 'customers.ssn');
    expect(back.code).toBe(0);
    expect(back.out).toContain('Decrypted 300 value(s)');
    const db2 = new Database(file, { readonly: true });
    expect((db2.prepare('select ssn from customers where id = 1').get() as { ssn: string }).ssn).toBe('078-05-1001');
    db2.close();
    const log = await run('log', '--json');
    expect((JSON.parse(log.out) as { action: string }[]).map((e) => e.action)).toEqual(expect.arrayContaining(['column.encrypt.started', 'column.encrypt.finished', 'column.decrypt.finished']));
    expect(log.out).not.toContain('078-05-');

    // Refusals: one line, no stack, the right exit code, nothing changed.
    const nokey = await run('encrypt', '--source', 'shop', '--column', 'logs.line');
    expect(nokey.code).toBe(ExitCode.Usage);
    expect(nokey.err).toMatch(/^steward: error: table logs has no primary key/);
    expect(nokey.err.trim().split('\n')).toHaveLength(1);
    expect((await run('encrypt', '--source', 'shop', '--column', 'ssn')).code).toBe(ExitCode.Usage);
    expect((await run('encrypt', '--source', 'nope', '--column', 'customers.ssn')).code).toBe(ExitCode.Usage);
    const o = io(dir, { NO_COLOR: '1' }); // no master key in the environment
    expect(await main(['encrypt', '--source', 'shop', '--column', 'customers.email'], o)).toBe(ExitCode.Crypto);
    expect(o.err()).toContain('STEWARD_MASTER_KEY is not set');
    const wrong = io(dir, { STEWARD_MASTER_KEY: generateMasterKeyText() });
    expect(await main(['keys', 'list'], wrong)).toBe(0); // listing needs no unwrap
    expect(await main(['decrypt', '--source', 'shop', '--column', 'customers.ssn'], wrong)).toBe(0); // nothing left under the key
    expect((await run('encrypt', '--help')).code).toBe(0);
  });

  it('takes the master key from a Vault transit key named in steward.yml', async () => {
    const token = 'hvs.test-token';
    const vault = await startVaultTransitServer({
      keys: { steward: {} },
      tokens: { [token]: [{ path: 'transit/encrypt/steward', capabilities: ['update'] }, { path: 'transit/decrypt/steward', capabilities: ['update'] }] },
    });
    try {
      const dir = mkdtempSync(path.join(root, 'vault-'));
      shop(dir);
      writeFileSync(path.join(dir, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\nencryption:\n  masterKey: { vaultTransit: { key: steward } }\n');
      const env = { VAULT_ADDR: vault.address, VAULT_TOKEN: token };
      const o = io(dir, env);
      expect(await main(['encrypt', '--source', 'shop', '--column', 'customers.email', '--json'], o)).toBe(0);
      expect(JSON.parse(o.out())).toMatchObject({ counts: { changed: 300 } });
      expect(vault.requests.some((r) => r.path.endsWith('/encrypt/steward'))).toBe(true);
      const l = io(dir, env);
      await main(['keys', 'list', '--json'], l);
      expect((JSON.parse(l.out()) as { kekId: string }[])[0]!.kekId).toBe('vault:transit/steward');
      const bad = io(dir, { VAULT_ADDR: vault.address, VAULT_TOKEN: 'hvs.wrong' });
      expect(await main(['decrypt', '--source', 'shop', '--column', 'customers.email'], bad)).toBe(ExitCode.Crypto);
      expect(bad.err()).not.toContain('hvs.wrong');
    } finally {
      await vault.stop();
    }
  });
});
