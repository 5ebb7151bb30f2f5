import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'steward-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const VALID = `version: 1
purposes:
  - name: orders
    legalBasis: contract
    categories: [contact.email, identity.person_name]
sources:
  - name: shop
    kind: postgres
    url: \${SHOP_DATABASE_URL}
    owner: platform
    purposes: [orders]
  - name: local
    kind: sqlite
    url: data/shop.db
    owner: platform
    purposes: [orders]
`;

async function write(text: string, name = 'steward.yml'): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, 'utf8');
  return file;
}

async function load(text: string, env: NodeJS.ProcessEnv = { SHOP_DATABASE_URL: 'postgres://ro@db:5432/shop' }): Promise<LoadedConfig> {
  await write(text);
  return loadConfig({ cwd: dir, env });
}

async function failure(text: string, env?: NodeJS.ProcessEnv): Promise<ConfigError> {
  const e = await load(text, env).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return e as ConfigError;
}

describe('loadConfig', () => {
  it('loads a valid file with defaults applied', async () => {
    const loaded = await load(VALID);
    expect(loaded.path).toBe(path.join(dir, 'steward.yml'));
    expect(loaded.dir).toBe(dir);
    expect(loaded.config.sources[0]?.url).toBe('postgres://ro@db:5432/shop');
    expect(loaded.config.audit).toEqual({ sampleRows: 1000, failOn: 'never', concurrency: 4 });
    expect(loaded.warnings).toEqual([]);
  });

  it('finds steward.yaml too', async () => {
    await write(VALID, 'steward.yaml');
    const loaded = await loadConfig({ cwd: dir, env: { SHOP_DATABASE_URL: 'postgres://x@y/z' } });
    expect(loaded.path).toBe(path.join(dir, 'steward.yaml'));
  });

  it('reports a missing file with the fix', async () => {
    const e = (await loadConfig({ cwd: dir, env: {} }).catch((err: unknown) => err)) as ConfigError;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.code).toBe('CONFIG_NOT_FOUND');
    expect(e.exitCode).toBe(3);
    expect(e.toUserString()).toEqual(expect.stringContaining('Run `steward init` to write one, or pass --config <file>'));
    const e2 = (await loadConfig({ cwd: dir, path: 'other.yml', env: {} }).catch((err: unknown) => err)) as ConfigError;
    expect(e2.code).toBe('CONFIG_NOT_FOUND');
    expect(e2.message).toEqual(expect.stringContaining('other.yml does not exist'));
  });

  it('reports malformed YAML with file:line:col and the reason', async () => {
    const e = await failure('version: 1\nsources:\n  - name: shop\n    kind: [postgres\n    url: x\n');
    expect(e.code).toBe('CONFIG_PARSE');
    expect(e.message).toEqual(expect.stringMatching(/^steward\.yml:\d+:\d+ /));
    expect(e.message).toEqual(expect.stringContaining('steward.yml:'));
    const quote = await failure('sources:\n  - name: "shop\n');
    expect(quote.message).toEqual(expect.stringContaining('steward.yml:3:1 Missing closing "quote'));
    const indent = await failure('sources:\n  - name: shop\n   kind: postgres\n');
    expect(indent.message).toEqual(expect.stringContaining('steward.yml:3:1 Sequence item without - indicator'));
    expect(indent.toUserString()).toEqual(expect.stringContaining('Fix the YAML syntax'));
  });

  it('reports duplicate keys as a parse error', async () => {
    const e = await failure('version: 1\nversion: 1\n');
    expect(e.code).toBe('CONFIG_PARSE');
    expect(e.message).toEqual(expect.stringContaining('steward.yml:2:1'));
    expect(e.message).toEqual(expect.stringMatching(/unique/i));
  });

  it('reports an empty file', async () => {
    const e = await failure('# nothing yet\n');
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.toUserString()).toEqual(expect.stringContaining('steward.yml is empty'));
  });

  it('reports an unknown key with its position and a suggestion', async () => {
    const e = await failure(VALID.replace('    owner: platform\n    purposes: [orders]\n  - name: local', '    ownr: platform\n    purposes: [orders]\n  - name: local'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.issues).toContainEqual(expect.stringContaining('steward.yml:10:5 sources[0].ownr: unknown key "ownr"; did you mean "owner"?'));
    expect(e.issues).toContainEqual(expect.stringContaining('sources[0].owner: is required'));
    const top = await failure(`${VALID}soruces: []\n`);
    expect(top.message).toEqual(expect.stringContaining('steward.yml:17:1 soruces: unknown key "soruces"; did you mean "sources"?'));
  });

  it('reports a wrong type at sources[1].url with the path and what is expected', async () => {
    const e = await failure(VALID.replace('url: data/shop.db', 'url: 42'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toEqual(expect.stringContaining('steward.yml:14:10 sources[1].url: expected a connection string'));
    expect(e.issues).toHaveLength(1);
  });

  it('collects every issue, in file order, and says how many more', async () => {
    const e = await failure(
      VALID.replace('kind: postgres', 'kind: postgress').replace('url: data/shop.db', 'url: 42') + 'audit:\n  failOn: hgh\n',
    );
    expect(e.issues).toEqual([
      expect.stringContaining('steward.yml:8:11 sources[0].kind: expected one of "postgres", "mysql", "sqlite"; did you mean "postgres"?'),
      expect.stringContaining('steward.yml:14:10 sources[1].url: expected a connection string'),
      expect.stringContaining('steward.yml:18:11 audit.failOn: expected one of'),
    ]);
    expect(e.message).toEqual(expect.stringContaining('(and 2 more)'));
  });

  it('checks that the url fits the kind, without echoing it', async () => {
    const e = await failure(VALID, { SHOP_DATABASE_URL: 'mysql://admin:hunter22@db/shop' });
    expect(e.message).toEqual(expect.stringContaining('sources[0].url: expected a PostgreSQL connection string'));
    expect(JSON.stringify([e.message, e.issues, e.hint])).not.toContain('hunter22');
  });

  it('reports duplicate source names', async () => {
    const e = await failure(VALID.replace('name: local', 'name: shop'));
    expect(e.message).toEqual(expect.stringContaining('steward.yml:12:11 sources[1].name: duplicate source name "shop"'));
  });

  it('reports a reference to an undeclared purpose, even alongside other errors', async () => {
    const e = await failure(VALID.replace('purposes: [orders]\n  - name: local', 'purposes: [orders, marketing]\n  - name: local').replace('kind: sqlite', 'kind: 7'));
    expect(e.issues).toContainEqual(
      expect.stringContaining('steward.yml:11:24 sources[0].purposes[1]: unknown purpose "marketing": declare it under the top-level "purposes:"'),
    );
    expect(e.issues).toContainEqual(expect.stringContaining('sources[1].kind: expected one of'));
  });

  it('reports errors inside inline purposes against the object branch', async () => {
    const e = await failure(VALID.replace('purposes: [orders]\n  - name: local', 'purposes: [{ name: x, categoriez: [contact.email] }]\n  - name: local'));
    expect(e.issues).toContainEqual(expect.stringContaining('sources[0].purposes[0].categoriez: unknown key "categoriez"; did you mean "categories"?'));
    expect(e.issues).toContainEqual(expect.stringContaining('sources[0].purposes[0].categories: is required: expected a list'));
  });

  it('reports a source list that is not a list', async () => {
    const e = await failure('sources: shop\n');
    expect(e.message).toEqual(expect.stringContaining('steward.yml:1:10 sources: expected a list, got a string'));
  });
});

describe('${ENV} interpolation', () => {
  it('names the missing variable, where it is used, and the fix; never leaks other values', async () => {
    const e = await failure(VALID, { OTHER_SECRET: 's3cr3t-value', PATH: '/usr/bin' });
    expect(e.code).toBe('CONFIG_ENV_MISSING');
    expect(e.exitCode).toBe(3);
    expect(e.message).toEqual(expect.stringContaining('SHOP_DATABASE_URL is not set (used at steward.yml:9:10 sources[0].url)'));
    expect(e.toUserString()).toEqual(expect.stringContaining('export SHOP_DATABASE_URL=…'));
    expect(e.toUserString()).toEqual(expect.stringContaining('${SHOP_DATABASE_URL:-…}'));
    expect(JSON.stringify([e.message, e.issues, e.hint])).not.toContain('s3cr3t-value');
  });

  it('lists every missing variable', async () => {
    const e = await failure(VALID.replace('owner: platform', 'owner: ${OWNER}'), {});
    expect(e.issues).toEqual([
      expect.stringContaining('sources[0].url: environment variable SHOP_DATABASE_URL is not set'),
      expect.stringContaining('sources[0].owner: environment variable OWNER is not set'),
    ]);
    expect(e.message).toEqual(expect.stringContaining('(and 1 more)'));
  });

  it('treats a set-but-empty variable as missing', async () => {
    const e = await failure(VALID, { SHOP_DATABASE_URL: '' });
    expect(e.message).toEqual(expect.stringContaining('SHOP_DATABASE_URL is set but empty'));
  });

  it('uses ${VAR:-default} when the variable is unset', async () => {
    const loaded = await load(VALID.replace('${SHOP_DATABASE_URL}', '${SHOP_DATABASE_URL:-postgres://localhost/shop}'), {});
    expect(loaded.config.sources[0]?.url).toBe('postgres://localhost/shop');
    const set = await load(VALID.replace('${SHOP_DATABASE_URL}', '${SHOP_DATABASE_URL:-postgres://localhost/shop}'), {
      SHOP_DATABASE_URL: 'postgres://db/prod',
    });
    expect(set.config.sources[0]?.url).toBe('postgres://db/prod');
  });

  it('keeps $${ as a literal ${', async () => {
    // (a replacer function: in a replacement string "$$" would mean "$")
    const loaded = await load(VALID.replace('owner: platform', () => 'owner: "team $${TEAM} and ${WHO}"'), {
      SHOP_DATABASE_URL: 'postgres://db/x',
      WHO: 'ops',
    });
    expect(loaded.config.sources[0]?.owner).toBe('team ${TEAM} and ops');
  });

  it('never parses values from the environment as YAML', async () => {
    const loaded = await load(VALID.replace('owner: platform', 'owner: ${WHO}'), {
      SHOP_DATABASE_URL: 'postgres://db/x',
      WHO: '{ evil: [1, 2] }\nsources: []',
    });
    expect(loaded.config.sources[0]?.owner).toBe('{ evil: [1, 2] }\nsources: []');
    expect(loaded.config.sources).toHaveLength(2);
  });

  it('does not echo an interpolated value in validation errors', async () => {
    const e = await failure(VALID.replace('name: shop', 'name: ${SHOP_NAME}'), {
      SHOP_DATABASE_URL: 'postgres://db/x',
      SHOP_NAME: 'not a valid name!',
    });
    expect(e.message).toEqual(expect.stringContaining('sources[0].name'));
    expect(JSON.stringify([e.message, e.issues])).not.toContain('not a valid name!');
  });

  it('reports a malformed reference', async () => {
    const e = await failure(VALID.replace('owner: platform', 'owner: ${not closed'));
    expect(e.code).toBe('CONFIG_ENV_MISSING');
    expect(e.message).toEqual(expect.stringContaining('Malformed ${…} reference'));
    expect(e.message).toEqual(expect.stringContaining('sources[0].owner'));
  });
});

describe('paths and freezing', () => {
  it('resolves sqlite and state paths against the config directory, not the cwd', async () => {
    const sub = path.join(dir, 'conf');
    await write(VALID, 'conf/steward.yml');
    const loaded = await loadConfig({ cwd: dir, path: 'conf/steward.yml', env: { SHOP_DATABASE_URL: 'postgres://db/x' } });
    expect(loaded.dir).toBe(sub);
    expect(loaded.config.sources[1]?.url).toBe(path.join(sub, 'data/shop.db'));
    expect(loaded.config.state.url).toBe(path.join(sub, '.steward/state.db'));
    expect(loaded.config.sources[0]?.url).toBe('postgres://db/x');
  });

  it('leaves absolute paths, :memory: and a postgres state url alone', async () => {
    const loaded = await load(`${VALID.replace('url: data/shop.db', 'url: /srv/shop.db')}state:\n  url: postgres://db/steward\n`);
    expect(loaded.config.sources[1]?.url).toBe('/srv/shop.db');
    expect(loaded.config.state.url).toBe('postgres://db/steward');
    const mem = await load(VALID.replace('url: data/shop.db', 'url: ":memory:"'));
    expect(mem.config.sources[1]?.url).toBe(':memory:');
  });

  it('deep-freezes the result', async () => {
    'use strict';
    const loaded = await load(VALID);
    expect(Object.isFrozen(loaded)).toBe(true);
    expect(() => {
      (loaded.config.sources[0] as { url: string }).url = 'x';
    }).toThrow(TypeError);
    expect(() => {
      (loaded.config.sources as unknown as unknown[]).push({});
    }).toThrow(TypeError);
    expect(() => {
      (loaded.config.audit as { sampleRows: number }).sampleRows = 1;
    }).toThrow(TypeError);
    expect(() => {
      (loaded.warnings as string[]).push('x');
    }).toThrow(TypeError);
  });

  it('warns about a password written in the file and a source without purposes', async () => {
    const loaded = await load(
      VALID.replace('url: ${SHOP_DATABASE_URL}', 'url: postgres://app:pa55word@db/shop').replace(/    purposes: \[orders\]\n$/, '    purposes: []\n'),
    );
    expect(loaded.warnings).toEqual([
      expect.stringContaining('steward.yml:9:10 sources[0].url: a password is written in the file; use ${ENV_VAR}'),
      expect.stringContaining('sources[1].purposes: source "local" declares no purposes'),
    ]);
    expect(loaded.warnings.join('\n')).not.toContain('pa55word');
  });

  it('aud_ warns about a password in the connection string\'s query (password, sslpassword, pass), never echoing it', async () => {
    for (const q of ['?password=aud_s3cret', '?sslmode=require&sslpassword=aud_s3cret', '?pass=aud_s3cret', '?PassWord=aud%5Fs3cret']) {
      const loaded = await load(VALID.replace('url: ${SHOP_DATABASE_URL}', `url: postgres://app@db/shop${q}`));
      const w = loaded.warnings.filter((x) => x.includes('a password is written in the file'));
      expect(w, q).toHaveLength(1);
      expect(w[0]).toContain('sources[0].url');
      expect(w[0]).toMatch(/query parameter "(password|sslpassword|pass)"/);
      expect(loaded.warnings.join('\n')).not.toContain('s3cret');
    }
    const clean = await load(VALID.replace('url: ${SHOP_DATABASE_URL}', 'url: postgres://app@db/shop?sslmode=require&passwordless=1'));
    expect(clean.warnings.filter((x) => x.includes('password'))).toEqual([]);
  });
});
