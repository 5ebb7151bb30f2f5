/** The schedule from a real state store: runs recorded by audits drive what is due. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoDatabase } from '../../src/demo/build-demo.js';
import { audit } from '../../src/interfaces/cli/commands/audit.js';
import { loadSchedule, schedule } from '../../src/interfaces/cli/commands/schedule.js';
import { captureIo } from '../helpers/io.js';

const io = captureIo;

describe('schedule over the state store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'steward-schedule-'));
    await buildDemoDatabase(path.join(dir, 'shop.db'), { customers: 50 });
    writeFileSync(
      path.join(dir, 'steward.yml'),
      ['sources:', '  - name: shop', '    kind: sqlite', '    url: shop.db', '    owner: t', '    purposes: [{ name: all, categories: ["*"] }]', '    schedule: { collection: P1M }', '  - name: gone', '    kind: sqlite', '    url: missing.db', '    owner: t'].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never-run stages are due; after an audit the collection stage is not, until its period ends', async () => {
    const before = await loadSchedule({}, io(dir), new Date());
    expect(before.statuses.filter((s) => s.stage === 'collection').map((s) => [s.source, s.reason])).toEqual([
      ['shop', 'never-run'],
      ['gone', 'never-run'],
    ]);
    await audit({ due: true }, io(dir));
    const now = new Date();
    const after = (await loadSchedule({}, io(dir), now)).statuses.filter((s) => s.stage === 'collection');
    expect(after.map((s) => [s.source, s.due, s.reason])).toEqual([
      ['shop', false, 'not-due'],
      ['gone', false, 'waiting-to-retry'], // the missing database failed: retried after retryAfter
    ]);
    const later = new Date(now.getTime() + 40 * 86_400_000);
    const due = (await loadSchedule({}, io(dir), later)).statuses.filter((s) => s.stage === 'collection');
    expect(due.map((s) => [s.source, s.due, s.overdue])).toEqual([
      ['shop', true, true],
      ['gone', true, false],
    ]);
  });

  it('an audit that starts after its stage fell overdue records that as a finding', async () => {
    const o = io(dir);
    const late = new Date(Date.now() + 40 * 86_400_000);
    await audit({ json: true, source: ['shop'], now: () => late }, o);
    const report = JSON.parse(o.out()) as { findings: { rule: string; location: { source: string }; message: string }[] };
    const overdue = report.findings.filter((f) => f.rule === 'schedule.stage-overdue');
    // Both stages due monthly fell overdue (access never ran); integrity (P6M) did not.
    expect(overdue.map((f) => f.location.source)).toEqual(['shop', 'shop']);
    expect(overdue.map((f) => /the (\w+) stage \(every (\w+)\)/.exec(f.message)?.slice(1).join(' ')).sort()).toEqual(['access P1M', 'collection P1M']);
    // Recorded with that clock: the stage is no longer overdue afterwards.
    const after = (await loadSchedule({}, io(dir), late)).statuses.find((s) => s.source === 'shop' && s.stage === 'collection')!;
    expect(after.overdue).toBe(false);
  });

  it('steward schedule --json lists every stage of every source', async () => {
    const o = io(dir);
    expect(await schedule({ json: true }, o)).toBe(0);
    const parsed = JSON.parse(o.out()) as { stages: { source: string; stage: string; runnable: boolean }[] };
    expect(parsed.stages.map((s) => `${s.source}/${s.stage}/${s.runnable}`)).toEqual([
      'shop/collection/true',
      'shop/access/true',
      'shop/integrity/true',
      'gone/collection/true',
      'gone/access/true',
      'gone/integrity/true',
    ]);
  });
});

describe('steward run (injected clock and sleep)', () => {
  it('runs what is due, sleeps until the next due time, runs again when it comes, stops on abort', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-run-'));
    try {
      await buildDemoDatabase(path.join(dir, 'shop.db'), { customers: 30 });
      writeFileSync(path.join(dir, 'steward.yml'), ['sources:', '  - name: shop', '    kind: sqlite', '    url: shop.db', '    owner: t', 'schedule: { collection: P7D }'].join('\n'));
      const { runDaemon } = await import('../../src/interfaces/cli/commands/run.js');
      const { openStateStore } = await import('../../src/state/index.js');
      let clock = new Date();
      const sleeps: number[] = [];
      const controller = new AbortController();
      const code = await runDaemon({ interval: 86_400 }, io(dir), {
        now: () => clock,
        signal: controller.signal,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock = new Date(clock.getTime() + ms);
          if (sleeps.length === 8) controller.abort();
        },
      });
      expect(code).toBe(0);
      // Seven one-day sleeps reach the 7-day due time; the eighth sleep follows the second run.
      expect(sleeps.slice(0, 7).every((ms) => ms === 86_400_000)).toBe(true);
      const store = await openStateStore({ url: '.steward/state.db', baseDir: dir });
      const runs = await store.stageRuns('collection');
      await store.close();
      expect(runs.map((r) => r.status)).toEqual(['ok', 'ok']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
