/** `steward audit diff` and `steward audit runs` over a real store, through `main` (routing, options, exit codes). */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDemoDatabase } from '../../src/demo/build-demo.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { captureIo as io } from '../helpers/io.js';
import { ExitCode } from '../../src/errors.js';

describe('steward audit diff / runs', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-diff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('shows what appeared and was fixed between two access runs, and refuses runs that do not compare', async () => {
    const db = path.join(dir, 'shop.db');
    await buildDemoDatabase(db, { customers: 30 });
    writeFileSync(path.join(dir, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\n');
    const run = async (...args: string[]) => {
      const o = io(dir);
      const code = await main(args, o);
      return { code, out: o.out() };
    };
    chmodSync(db, 0o600);
    expect((await run('audit', '--stage', 'access', '--json')).code).toBe(0);
    chmodSync(db, 0o644);
    const second = JSON.parse((await run('audit', '--stage', 'access', '--json')).out) as { findings: { id: string; rule: string; status: string }[]; schedule: { stage: string; lastSuccess: string }[] };
    expect(second.findings.map((f) => `${f.rule} ${f.status}`).sort()).toEqual(['access.file-readable new', 'access.file-readable new']);
    // The report carries the schedule after this run.
    expect(second.schedule.find((s) => s.stage === 'access')?.lastSuccess).toEqual(expect.any(String));
    chmodSync(db, 0o600);
    await run('audit', '--stage', 'access');
    expect((await run('audit', '--json')).code).toBe(0); // a collection run in between

    const runs = JSON.parse((await run('audit', 'runs', '--stage', 'access', '--json')).out) as { id: string }[];
    expect(runs).toHaveLength(3);
    const [third, mid, first] = runs.map((r) => r.id);

    // Default: the latest access run against the one before: the two findings were fixed.
    const latest = JSON.parse((await run('audit', 'diff', '--stage', 'access', '--json')).out) as { from: { id: string }; to: { id: string }; appeared: unknown[]; fixed: { rule: string }[] };
    expect([latest.from.id, latest.to.id]).toEqual([mid, third]);
    expect(latest.fixed.map((f) => f.rule)).toEqual(['access.file-readable', 'access.file-readable']);
    expect(latest.appeared).toEqual([]);
    // Two named runs by prefix: first → mid, the findings appeared.
    const named = JSON.parse((await run('audit', 'diff', first!.slice(0, 8), mid!.slice(0, 8), '--json')).out) as { appeared: unknown[]; fixed: unknown[] };
    expect([named.appeared.length, named.fixed.length]).toEqual([2, 0]);
    // One run named: compared with the one before it.
    const one = await run('audit', 'diff', mid!.slice(0, 6));
    expect(one.out).toContain('2 appeared, 0 fixed');
    // Runs of different stages, the first run, an unknown id: usage errors (exit 2).
    const collection = (JSON.parse((await run('audit', 'runs', '--json')).out) as { id: string; stage: string }[]).find((r) => r.stage === 'collection')!;
    expect((await run('audit', 'diff', collection.id, third!)).code).toBe(ExitCode.Usage);
    expect((await run('audit', 'diff', first!)).code).toBe(ExitCode.Usage);
    expect((await run('audit', 'diff', 'ffffffff')).code).toBe(ExitCode.Usage);
    expect((await run('audit', 'diff', '--help')).code).toBe(0);
  });
});
