/** The built package's public entry points load and work (what a library user imports). */
import { describe, expect, it } from 'vitest';

describe('built package exports', () => {
  it('steward, steward/detection, steward/config and steward/sources resolve to working modules', async () => {
    const root = await import('../../dist/index.js');
    const detection = await import('../../dist/detection/index.js');
    const config = await import('../../dist/config/index.js');
    const sources = await import('../../dist/sources/index.js');
    expect(typeof root.runAudit).toBe('function');
    expect(root.VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(detection.createClassifier().classifyValue('4111 1111 1111 1111')).toEqual({ detector: 'card', category: 'financial.card' });
    expect(typeof config.loadConfig).toBe('function');
    expect(sources.redactUrl('postgres://u:secret@h/db')).not.toContain('secret');
    const e = new root.ConfigError('CONFIG_INVALID', 'x');
    expect(e.exitCode).toBe(root.ExitCode.Config);
  });

  it('steward/crypto resolves to the field encryption library', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { import: string }> };
    expect(pkg.exports['./crypto']?.import).toBe('./dist/crypto/index.js');
    // Typed from the sources: dist/crypto exists only after a build.
    const crypto = (await import(new URL('../../dist/crypto/index.js', import.meta.url).href)) as typeof import('../../src/crypto/index.js');
    const root = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof import('../../src/index.js');
    const store = await root.openStateStore({ url: ':memory:', baseDir: '.' });
    try {
      const keyring = await crypto.openKeyring({ store, master: new crypto.LocalMasterKey(Buffer.alloc(32, 7)) });
      const fields = crypto.createFieldEncryption(keyring);
      const ctx = { source: 's', table: 't', column: 'c', rowKey: 1 };
      const c = await fields.encrypt('v', ctx);
      expect(c.startsWith(crypto.CIPHERTEXT_PREFIX)).toBe(true);
      expect(await fields.decrypt(c, ctx)).toBe('v');
      await expect(fields.decrypt(c, { ...ctx, rowKey: 2 })).rejects.toBeInstanceOf(crypto.CryptoError);
    } finally {
      await store.close();
    }
  });

  it('steward/archive resolves to the archive library: an age file round trip', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { import: string }> };
    expect(pkg.exports['./archive']?.import).toBe('./dist/archive/index.js');
    const archive = (await import(new URL('../../dist/archive/index.js', import.meta.url).href)) as typeof import('../../src/archive/index.js');
    const key = archive.generateRecipient();
    const file = await archive.encryptBuffer(Buffer.from('row'), [key.publicKey]);
    expect(file.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
    expect((await archive.decryptBuffer(file, key.identity)).toString()).toBe('row');
  });
});
