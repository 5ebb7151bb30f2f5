import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initConfigText, loadConfig, loadConfigText, writeInitConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'steward-init-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('initConfigText', () => {
  it.each(['postgres', 'mysql', 'sqlite'] as const)('writes a %s template that validates once the env vars are set', (kind) => {
    const text = initConfigText({ kind });
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./node_modules/steward/schema/steward.schema.json');
    const env = { SHOP_DATABASE_URL: `${kind === 'mysql' ? 'mysql' : 'postgres'}://ro@db/shop` };
    const loaded = loadConfigText(text, { env, cwd: dir });
    expect(loaded.config.sources[0]?.kind).toBe(kind);
    expect(loaded.config.purposes.map((p) => p.legalBasis)).toEqual(['contract', 'contract', 'legitimate-interests']);
    expect(loaded.warnings).toEqual([]);
    if (kind === 'sqlite') expect(loaded.config.sources[0]?.url).toBe(path.join(dir, 'shop.db'));
  });

  it('keeps the connection string in the environment', () => {
    const text = initConfigText();
    expect(text).toContain('url: ${SHOP_DATABASE_URL}');
    expect(() => loadConfigText(text, { env: {} })).toThrow(expect.objectContaining({ code: 'CONFIG_ENV_MISSING' }));
  });

  it('explains a custom detector and column rules in comments, and they validate when uncommented', () => {
    const text = initConfigText();
    expect(text).toContain('#   - id: customer-number');
    expect(text).toContain('legalBasis: contract');
    const uncommented = text
      .replace('  columnRules: []\n', '  columnRules:\n')
      .replace('  detectors: []\n', '  detectors:\n')
      .replace(/^  #( {3}- pattern| {5}category| {3}- id| {5}pattern| {5}columnNames| {5}scanFreeText)/gm, '  $1');
    const loaded = loadConfigText(uncommented, { env: { SHOP_DATABASE_URL: 'postgres://db/x' } });
    expect(loaded.config.detection.columnRules).toHaveLength(2);
    expect(loaded.config.detection.detectors[0]?.id).toBe('customer-number');
    expect(loaded.patterns.detectors[0]?.pattern.test('cust-12345678')).toBe(true);
  });
});

describe('writeInitConfig', () => {
  it('writes the file, then refuses to overwrite it without force', async () => {
    const file = path.join(dir, 'steward.yml');
    await writeInitConfig(file, { kind: 'sqlite' });
    await expect(loadConfig({ cwd: dir, env: {} })).resolves.toMatchObject({ path: file });
    await writeFile(file, '# mine\n');
    const e = await writeInitConfig(file).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('CONFIG_EXISTS');
    expect((e as ConfigError).toUserString()).toEqual(expect.stringContaining('pass --force'));
    expect(await readFile(file, 'utf8')).toBe('# mine\n');
    await writeInitConfig(file, { force: true });
    expect(await readFile(file, 'utf8')).toContain('sources:');
  });
});
