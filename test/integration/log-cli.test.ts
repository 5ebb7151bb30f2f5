/** `steward log` commands over a real store: intact → 0, tampered → exit 6 naming the entry. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDemoDatabase } from '../../src/demo/build-demo.js';
import { audit } from '../../src/interfaces/cli/commands/audit.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { logCheckpoint, logList, logVerify } from '../../src/interfaces/cli/commands/log.js';
import { captureIo } from '../helpers/io.js';
import { ExitCode, StateError, TamperError, UsageError } from '../../src/errors.js';
import { openStateStore } from '../../src/state/index.js';

const io = captureIo;

describe('steward log', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-logcli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists audit runs, verifies, checkpoints, and catches tampering with exit 6', async () => {
    await buildDemoDatabase(path.join(dir, 'shop.db'), { customers: 30 });
    writeFileSync(path.join(dir, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\n');
    await audit({ format: 'json' }, io(dir));
    await audit({ format: 'json' }, io(dir));

    const list = io(dir);
    expect(await logList({ json: true }, list)).toBe(0);
    const all = JSON.parse(list.out()) as { seq: number; action: string; subject: Record<string, unknown>; details: Record<string, unknown> & { new: number } }[];
    // The first run: its audit.run entry, then one finding.appeared entry per finding; the second run changed nothing.
    const entries = all.filter((e) => e.action === 'audit.run');
    const appeared = all.filter((e) => e.action === 'finding.appeared');
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all[0]!.action).toBe('audit.run');
    expect(appeared).toHaveLength(entries[0]!.details.new);
    expect(all[all.length - 1]!.action).toBe('audit.run');
    expect(entries).toHaveLength(2);
    expect(entries[1]!.details.new).toBe(0);
    // A finding's entry: its id, the run, rule, severity and location; never the message.
    expect(appeared[0]).toMatchObject({ subject: { findingId: expect.stringMatching(/^[A-Z]{3}-[0-9a-f]{10}$/), runId: all[0]!.subject.runId }, details: { rule: expect.any(String), severity: expect.any(String), stage: 'collection', location: { source: 'shop' } } });
    expect(JSON.stringify(appeared)).not.toContain('"message"');
    const total = all.length;
    // What an audit run records: the run, its stage and sources, counts only.
    expect(entries[0]).toMatchObject({
      subject: { runId: expect.any(String), stage: 'collection', sources: ['shop'] },
      details: { sources: [{ name: 'shop', status: 'ok' }], findingsBySeverity: { critical: expect.any(Number), high: expect.any(Number) }, fixed: 0 },
    });
    expect((entries[0]!.details as unknown as { new: number }).new).toBeGreaterThan(0);
    // No personal value from the demo database in the log.
    const db = new Database(path.join(dir, 'shop.db'), { readonly: true });
    const emails = db.prepare('select email from customers limit 20').all() as { email: string }[];
    db.close();
    for (const { email } of emails) expect(list.out()).not.toContain(email);

    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(path.join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(path.join(dir, 'k.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    expect(await logCheckpoint({ key: 'k.pem', out: 'cp.json' }, io(dir))).toBe(0);
    const ok = io(dir);
    expect(await logVerify({ checkpoint: 'cp.json', publicKey: 'k.pub' }, ok)).toBe(0);
    expect(ok.out()).toContain(`intact: ${total} entries; checkpoint at entry ${total} holds`);

    const state = new Database(path.join(dir, '.steward', 'state.db'));
    state.prepare(`update activity_log set details_json = replace(details_json, '"fixed":0', '"fixed":5') where seq = ?`).run(total);
    state.close();
    const err = (await logVerify({}, io(dir)).catch((e: unknown) => e)) as TamperError;
    expect(err).toBeInstanceOf(TamperError);
    expect(err.exitCode).toBe(ExitCode.Tampered);
    expect(err.message).toContain(`broken at entry ${total} (changed)`);
    const j = io(dir);
    expect(await logVerify({ json: true }, j)).toBe(ExitCode.Tampered);
    // A log whose last entry was cut mid-write: the next audit is not stored (run and log entries are one transaction), and says why.
    const cut = new Database(path.join(dir, '.steward', 'state.db'));
    cut.prepare('update activity_log set hash = substr(hash, 1, 10) where seq = ?').run(total);
    cut.close();
    const e3 = (await audit({ format: 'json' }, io(dir)).catch((e: unknown) => e)) as StateError;
    expect(e3).toBeInstanceOf(StateError);
    expect(e3.message).toMatch(new RegExp(`^Audit run .+ was not recorded: .*last entry \\(${total}\\) is incomplete`));
    const runs = new Database(path.join(dir, '.steward', 'state.db'), { readonly: true });
    expect((runs.prepare('select count(*) as n from audit_runs').get() as { n: number }).n).toBe(2);
    runs.close();
    expect(JSON.parse(j.out())).toMatchObject({ ok: false, firstBroken: { seq: total, reason: 'changed' } });
  });

  it('filters, limits, checkpoints a rewritten log as broken, and rejects bad keys and checkpoint files', async () => {
    const d = mkdtempSync(path.join(dir, 'f-'));
    writeFileSync(path.join(d, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\n');
    const store = await openStateStore({ url: path.join(d, '.steward', 'state.db'), baseDir: d });
    for (let i = 1; i <= 6; i++) {
      await store.appendActivity({ at: `2026-0${i}-01T00:00:00.000Z`, actor: 'ops', action: i % 2 ? 'audit.run' : 'finding.state', subject: { runId: `r${i}` }, details: { i } });
    }
    const seqs = async (o: Parameters<typeof logList>[0]) => {
      const x = io(d);
      expect(await logList({ ...o, json: true }, x)).toBe(0);
      return (JSON.parse(x.out()) as { seq: number }[]).map((e) => e.seq);
    };
    expect(await seqs({})).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await seqs({ action: 'audit.run' })).toEqual([1, 3, 5]);
    expect(await seqs({ since: '2026-03-15' })).toEqual([4, 5, 6]);
    expect(await seqs({ action: 'finding.state', limit: 2 })).toEqual([4, 6]);
    expect(await seqs({ action: 'nothing' })).toEqual([]);
    const table = io(d);
    await logList({ limit: 1 }, table);
    expect(table.out()).toMatch(/seq +at +actor +action/);
    expect(table.out()).toMatch(/ +6 +2026-06-01T00:00:00.000Z +ops +finding.state +\{"runId":"r6"\} · \{"i":6\}/);
    await expect(logList({ since: 'yesterday-ish' }, io(d))).rejects.toThrow(UsageError);

    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(path.join(d, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(path.join(d, 'k.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const printed = io(d);
    expect(await logCheckpoint({ key: 'k.pem' }, printed)).toBe(0);
    writeFileSync(path.join(d, 'cp.json'), printed.out());
    expect(JSON.parse(printed.out())).toMatchObject({ seq: 6 });
    // Rewrite the tail consistently through the store: the chain holds, the checkpoint does not.
    const raw = new Database(path.join(d, '.steward', 'state.db'));
    raw.prepare('delete from activity_log where seq >= 5').run();
    raw.close();
    await store.appendActivity({ actor: 'mallory', action: 'audit.run', subject: {}, details: {} });
    await store.appendActivity({ actor: 'mallory', action: 'audit.run', subject: {}, details: {} });
    await store.close();
    expect(await logVerify({}, io(d))).toBe(0);
    const err = (await logVerify({ checkpoint: 'cp.json', publicKey: 'k.pub' }, io(d)).catch((e: unknown) => e)) as TamperError;
    expect(err).toBeInstanceOf(TamperError);
    expect(err.message).toMatch(/entry 6 no longer has the hash checkpointed/);
    const j = io(d);
    expect(await logVerify({ checkpoint: 'cp.json', publicKey: 'k.pub', json: true }, j)).toBe(ExitCode.Tampered);
    expect(JSON.parse(j.out())).toMatchObject({ ok: false, entries: 6, checkpoint: { seq: 6, ok: false, reason: 'rewritten' } });

    writeFileSync(path.join(d, 'junk.json'), '{"seq":');
    await expect(logVerify({ checkpoint: 'junk.json', publicKey: 'k.pub' }, io(d))).rejects.toThrow(/not a Steward log checkpoint/);
    await expect(logVerify({ checkpoint: 'cp.json' }, io(d))).rejects.toThrow(/go together/);
    writeFileSync(path.join(d, 'rsa.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(logCheckpoint({ key: 'rsa.pem' }, io(d))).rejects.toThrow(/rsa key, not an Ed25519 private key/);
    writeFileSync(path.join(d, 'bad.pem'), 'not a key');
    await expect(logCheckpoint({ key: 'bad.pem' }, io(d))).rejects.toThrow(UsageError);
    await expect(logCheckpoint({ key: 'missing.pem' }, io(d))).rejects.toThrow(/cannot read the key missing.pem/);
  });

  it('through the CLI: --json after the subcommand, exit 6 on tampering, help with examples', async () => {
    const d = mkdtempSync(path.join(dir, 'm-'));
    writeFileSync(path.join(d, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\n');
    const store = await openStateStore({ url: path.join(d, '.steward', 'state.db'), baseDir: d });
    for (let i = 1; i <= 3; i++) await store.appendActivity({ actor: 'ops', action: 'audit.run', subject: { runId: `r${i}` }, details: { i } });
    await store.close();
    const ok = io(d);
    expect(await main(['log', 'verify', '--json'], ok)).toBe(0);
    expect(JSON.parse(ok.out())).toMatchObject({ ok: true, entries: 3, lastSeq: 3 });
    const listed = io(d);
    expect(await main(['log', '--action', 'audit.run', '--limit', '2', '--json'], listed)).toBe(0);
    expect((JSON.parse(listed.out()) as { seq: number }[]).map((e) => e.seq)).toEqual([2, 3]);
    const raw = new Database(path.join(d, '.steward', 'state.db'));
    raw.prepare('delete from activity_log where seq = 2').run();
    raw.close();
    const bad = io(d);
    expect(await main(['log', 'verify', '--json'], bad)).toBe(ExitCode.Tampered);
    expect(JSON.parse(bad.out())).toMatchObject({ ok: false, firstBroken: { seq: 2, reason: 'removed' } });
    expect(await main(['log', 'verify'], io(d))).toBe(6);
    const help = io(d);
    expect(await main(['log', 'checkpoint', '--help'], help)).toBe(0);
  });

  it('log repair: completes a cut last entry through the CLI (dry run first), then verify passes and audits log again', async () => {
    const d = mkdtempSync(path.join(dir, 'r-'));
    writeFileSync(path.join(d, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\n');
    const store = await openStateStore({ url: path.join(d, '.steward', 'state.db'), baseDir: d });
    for (let i = 1; i <= 3; i++) await store.appendActivity({ actor: 'ops', action: 'audit.run', subject: { runId: `r${i}` }, details: { i } });
    await store.close();
    const raw = new Database(path.join(d, '.steward', 'state.db'));
    raw.prepare('update activity_log set hash = null where seq = 3').run();
    raw.close();
    const broken = io(d);
    expect(await main(['log', 'verify', '--json'], broken)).toBe(ExitCode.Tampered);
    expect(JSON.parse(broken.out())).toMatchObject({ firstBroken: { seq: 3, reason: 'truncated' }, hint: expect.stringContaining('steward log repair') });
    // The human-readable error names the repair, not a backup restore, for a cut last entry.
    const human = io(d);
    expect(await main(['log', 'verify'], human)).toBe(ExitCode.Tampered);
    expect(human.err()).toMatch(/log repair --dry-run.*then `steward log repair`/);
    expect(human.err()).not.toMatch(/^[^\n]*intact\. Restore the state store/m);
    const dry = io(d);
    expect(await main(['log', 'repair', '--dry-run', '--json'], dry)).toBe(0);
    expect(JSON.parse(dry.out())).toMatchObject({ repaired: false, dryRun: true, message: expect.stringContaining('Entry 3 (audit.run') });
    expect(await main(['log', 'verify', '--json'], io(d))).toBe(ExitCode.Tampered);
    const fixed = io(d);
    expect(await main(['log', 'repair'], fixed)).toBe(0);
    expect(fixed.out()).toContain('Entry 3 (audit.run');
    const ok = io(d);
    expect(await main(['log', 'verify', '--json'], ok)).toBe(0);
    expect(JSON.parse(ok.out())).toMatchObject({ ok: true, entries: 4 });
    const list = io(d);
    await main(['log', '--action', 'log.repaired', '--json'], list);
    expect((JSON.parse(list.out()) as { subject: { seq: number } }[]).map((e) => e.subject.seq)).toEqual([3]);
  });
});
