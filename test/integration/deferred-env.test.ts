/**
 * Commands that read only the state store (`log`, `keys list`, `hold list`, `retention
 * certificates`) do not demand the connection variables of sources they never open;
 * a command that opens such a source still fails with exit 3 naming the variable.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { ExitCode } from '../../src/errors.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { captureIo } from '../helpers/io.js';

describe('connection variables are needed only where a source is opened', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-defenv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('log, keys list, hold list and retention certificates run; hold add on that source exits 3 naming the variable', async () => {
    writeFileSync(
      path.join(dir, 'steward.yml'),
      ['sources:', '  - { name: shop, kind: sqlite, url: shop.db, owner: t }', '  - { name: crm, kind: postgres, url: "${STEWARD_TEST_UNSET_CRM_URL}", owner: t }'].join('\n'),
    );
    const env = { STEWARD_MASTER_KEY: generateMasterKeyText(), NO_COLOR: '1' };
    const run = async (...args: string[]) => {
      const io = { ...captureIo(dir), env };
      const code = await main(args, io);
      return { code, out: io.out(), err: io.err() };
    };
    for (const args of [['log'], ['keys', 'list'], ['hold', 'list'], ['retention', 'certificates']]) {
      const r = await run(...args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).not.toBe(ExitCode.Config);
      expect(r.err).not.toContain('STEWARD_TEST_UNSET_CRM_URL');
    }
    const add = await run('hold', 'add', '--source', 'crm', '--table', 'contacts', '--all', '--reason', 'matter 1');
    expect(add.code).toBe(ExitCode.Config);
    expect(add.err).toMatch(/Environment variable STEWARD_TEST_UNSET_CRM_URL is not set/);
    // The audit needs every source: it still refuses at load, as before.
    const audit = await run('audit');
    expect(audit.code).toBe(ExitCode.Config);
    expect(audit.err).toContain('STEWARD_TEST_UNSET_CRM_URL');
  });
});
