/**
 * `steward encrypt`, `steward decrypt` (online column migrations) and
 * `steward keys …` (list, generate, master key rotation, crypto-shredding).
 * Thin: the work is in src/crypto/column-migration.ts and src/crypto/keyring.ts.
 */
import path from 'node:path';
import pc from 'picocolors';
import { loadConfig, type StewardConfig } from '../../../config/index.js';
import { mayNameSameTable, migrateColumn, sameTableSpellings, type ColumnMigrationResult } from '../../../crypto/column-migration.js';
import { createFieldEncryption } from '../../../crypto/field.js';
import { openKeyring, resolveMasterKey, type Keyring, type MasterKeySource } from '../../../crypto/keyring.js';
import { generateMasterKeyText } from '../../../crypto/master-key.js';
import type { Normalizer } from '../../../crypto/blind-index.js';
import { ExitCode, isStewardError, UsageError } from '../../../errors.js';
import { openSource } from '../../../sources/index.js';
import { lastUnquotedDot, unquoteName } from '../../../sources/table-names.js';
import { currentActor } from '../../../state/audit-history.js';
import { openStateStore, type StateStore } from '../../../state/index.js';
import { displayWidth, padEnd } from '../../reports/text.js';
import { progressBar, shown, stringifyJson, useColor, type Io } from '../output.js';

export interface EncryptCommandOptions {
  readonly config?: string;
  readonly source?: string;
  readonly column?: string;
  readonly dryRun?: boolean;
  readonly rotate?: boolean;
  readonly blindIndex?: string;
  readonly normalize?: string;
  readonly batchSize?: number;
  readonly allowForeign?: boolean;
  readonly json?: boolean;
  readonly color?: boolean;
}

/** The master key source steward.yml names, resolved against the environment and the config's directory. */
export async function masterKeySource(config: StewardConfig, dir: string, env: NodeJS.ProcessEnv): Promise<MasterKeySource> {
  const m = config.encryption.masterKey;
  if ('env' in m) return { env: m.env, environment: env };
  if ('vaultTransit' in m) {
    const { createVaultTransitKms } = await import('../../../crypto/kms/vault-transit.js');
    return createVaultTransitKms({ env, name: m.vaultTransit.key, ...(m.vaultTransit.mount ? { mount: m.vaultTransit.mount } : {}), ...(m.vaultTransit.address ? { address: m.vaultTransit.address } : {}) });
  }
  if ('file' in m) return { file: path.resolve(dir, m.file) };
  const passphrase = env[m.passphraseEnv];
  if (!passphrase) {
    throw new UsageError(`the passphrase variable ${m.passphraseEnv} named by encryption.masterKey.passphraseEnv is not set`, { hint: `Export ${m.passphraseEnv} with the passphrase the keys were created with` });
  }
  return { passphrase };
}

async function withKeyring<T>(options: { config?: string | undefined }, io: Io, fn: (ctx: { config: StewardConfig; dir: string; store: StateStore; keyring: Keyring }) => Promise<T>): Promise<T> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env, deferSourceUrls: true });
  const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
  try {
    const keyring = await openKeyring({ store, master: await masterKeySource(loaded.config, loaded.dir, io.env) });
    return await fn({ config: loaded.config, dir: loaded.dir, store, keyring });
  } finally {
    await store.close();
  }
}

/** `TABLE.COLUMN` or `SCHEMA.TABLE.COLUMN` → table part and column. */
export function splitColumn(arg: string | undefined): { table: string; column: string } {
  // The column is after the last dot outside quotes; the table part may hold dots of its own (resolved later).
  const i = arg ? lastUnquotedDot(arg) : -1;
  if (!arg || i <= 0 || i === arg.length - 1) throw new UsageError(`--column "${arg ?? ''}" is not TABLE.COLUMN`, { hint: 'For example --column customers.email, or --column public.customers.email' });
  return { table: arg.slice(0, i), column: unquoteName(arg.slice(i + 1)) };
}

const NORMALIZERS = new Set(['none', 'trim', 'lowercase', 'email', 'digits']);

/** `steward encrypt` / `steward encrypt --rotate` / `steward decrypt`. */
export async function encryptCommand(operation: 'encrypt' | 'decrypt', options: EncryptCommandOptions, io: Io): Promise<number> {
  if (!options.source) throw new UsageError('--source is required', { hint: 'Name the source in steward.yml: --source shop' });
  const { table, column } = splitColumn(options.column);
  if (options.normalize && !NORMALIZERS.has(options.normalize)) throw new UsageError(`--normalize "${options.normalize}" is not one of ${[...NORMALIZERS].join(', ')}`);
  if (options.normalize && !options.blindIndex) throw new UsageError('--normalize applies to a blind index', { hint: 'Add --blind-index <column>' });
  if (operation === 'decrypt' && (options.rotate || options.blindIndex)) throw new UsageError('decrypt takes neither --rotate nor --blind-index');
  const op = operation === 'encrypt' && options.rotate ? 'rotate' : operation;
  const bar = progressBar(io, !options.json);
  // Ctrl-C / SIGTERM: stop after the batch in flight; the migration logs it and throws InterruptedError (exit 130).
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const outcome = await withKeyring(options, io, async ({ config, store, keyring }) => {
    const cfg = config.sources.find((s) => s.name === options.source);
    if (!cfg) throw new UsageError(`unknown source "${options.source}"`, { hint: `Sources in steward.yml: ${config.sources.map((s) => s.name).join(', ')}` });
    const source = await openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url, connectTimeoutMs: cfg.connectTimeoutMs }, { command: 'encrypt' });
    const batchSize = options.batchSize ?? config.encryption.batchSize;
    try {
      return { batchSize, ...(await migrateColumn({
        source,
        table,
        column,
        operation: op,
        fields: createFieldEncryption(keyring),
        store,
        actor: currentActor(),
        dryRun: options.dryRun ?? false,
        batchSize,
        ...(options.blindIndex ? { blindIndex: { column: options.blindIndex, normalize: (options.normalize ?? 'none') as Normalizer } } : {}),
        allowForeign: options.allowForeign ?? false,
        signal: abort.signal,
        onProgress: (p) => bar.update(p.done, p.total, `${op} ${table}.${column} (pass ${p.pass}, ${Math.round(p.rowsPerSecond)} rows/s)`),
      })) };
    } finally {
      bar.done();
      await source.close();
    }
  }).finally(() => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  });
  const { batchSize, ...result } = outcome;
  if (options.json) io.stdout.write(`${stringifyJson(result, 2)}\n`);
  else io.stdout.write(render(result, useColor(io, options.color), batchSize));
  // Values Steward could not classify were left as they were: not encrypted, not readable. Not a
  // success (exit 7, like any value that does not verify); the summary above says what to do.
  return !result.dryRun && result.counts.leftAsIs > 0 ? ExitCode.Crypto : ExitCode.Ok;
}

/** What to tell the operator about values that start like the column's ciphertexts but do not verify. */
function unverifiedLines(count: number, name: string, rows: readonly string[], left: boolean): string[] {
  const more = count > rows.length ? `, … (${count - rows.length} more)` : '';
  return [
    `  ${count} value(s) of ${name} start like this column's ciphertexts but do not decrypt for their row: tampered, copied from another row, or written to look encrypted.`,
    `  ${left ? 'They were left as they were' : 'Encrypt leaves them as they are'}: not encrypted, and no key of this column reads them${left ? '' : ' (the run exits 7)'}. Rows: ${shown(rows.join('; '))}${more}.`,
    '  Restore those values from a backup or overwrite them with the real values, then run this again.',
  ];
}

function render(r: ColumnMigrationResult, color: boolean, batchSize: number): string {
  const c = pc.createColors(color);
  const p = r.plan;
  const name = shown(`${p.scope.table}.${p.scope.column}`);
  const lines: string[] = [];
  if (r.dryRun) {
    lines.push(c.bold(`Dry run: ${r.operation} ${name} of source "${shown(p.scope.source)}" (nothing was changed)`));
    lines.push(`  rows ${p.rows}, empty ${p.nulls}, already under this column's key ${p.encrypted}, to ${r.operation} ${p.todo}${p.foreign ? `, foreign ciphertexts ${p.foreign} (left alone)` : ''}`);
    if (r.operation === 'encrypt' && p.otherPrefixed) lines.push(`  ${p.otherPrefixed} of the values to encrypt start with stw1: but not with this column's key id: they are not its ciphertexts, and are encrypted like any other value`);
    if (p.unverified) lines.push(...unverifiedLines(p.unverified, name, p.unverifiedRows, false));
    if (p.shredded) lines.push(`  ${p.shredded} value(s) are under a destroyed key version: unrecoverable by design, left as they are`);
    for (const o of p.otherScopes) if (o.values) lines.push(c.yellow(`  ${o.values} value(s) are under the key of another scope of this column, ${shown(`${o.scope.table}.${o.scope.column}`)} (another spelling of its table): ${r.operation === 'decrypt' ? 'decrypt fails until they are decrypted too' : 'left alone'}`));
    lines.push(`  largest value ${p.maxValueBytes} bytes; batches of up to ${batchSize} rows in order of ${shown(p.table.primaryKey.join(', '))}, one transaction each`);
    for (const d of p.ddl) lines.push(`  first: ${shown(d)}`);
    if (p.resumes) lines.push(`  resumes job ${shown(p.resumes.id.slice(0, 8))} (started ${shown(p.resumes.startedAt)}, pass ${p.resumes.pass})`);
    lines.push(`Run it without --dry-run to ${r.operation}; it can be stopped at any moment and resumed by running it again.`);
    return `${lines.join('\n')}\n`;
  }
  if (r.jobId === null) return `Nothing to ${r.operation}: ${r.operation === 'encrypt' ? `every value of ${name} is already encrypted (or empty)${p.shredded ? `; ${p.shredded} of them under a destroyed key version` : ''}` : `no value of ${name} is under this column's key`}.\n`;
  const verb = r.operation === 'encrypt' ? 'Encrypted' : r.operation === 'decrypt' ? 'Decrypted' : 'Re-encrypted';
  lines.push(c.bold(`${verb} ${r.counts.changed} value(s) of ${name} in ${r.counts.batches} batch(es), ${r.counts.passes} pass(es), ${(r.durationMs / 1000).toFixed(1)} s.`));
  if (r.counts.raced) lines.push(`  ${r.counts.raced} row(s) changed by the application while in flight were taken by a later pass.`);
  if (r.counts.foreign) lines.push(`  ${r.counts.foreign} value(s) under another key were left alone.`);
  if (r.counts.shredded) lines.push(`  ${r.counts.shredded} value(s) under a destroyed key version were left as they were: unrecoverable by design.`);
  if (r.counts.leftAsIs) lines.push(...unverifiedLines(r.counts.leftAsIs, name, p.unverifiedRows, true).map((l) => c.red(l)));
  if (r.retiredVersions.length) lines.push(`  Key version(s) ${r.retiredVersions.join(', ')} retired: they still decrypt, and no value uses them any more.`);
  if (r.counts.remaining > 0) {
    lines.push(c.yellow(`  ${r.counts.remaining} row(s) are still to do: the application keeps writing plaintext. Switch it to the steward/crypto library, then run this again.`));
  }
  lines.push(`  Job ${shown(r.jobId?.slice(0, 8) ?? '—')} is recorded in the activity log (steward log --action column.${r.operation}.finished).`);
  return `${lines.join('\n')}\n`;
}

export interface KeysOptions {
  readonly config?: string;
  readonly json?: boolean;
}

/** `steward keys list`: every key version, its state and use; never key material. */
export async function keysList(options: KeysOptions, io: Io): Promise<number> {
  const keys = await withKeyring(options, io, ({ keyring }) => keyring.list());
  if (options.json) {
    io.stdout.write(`${stringifyJson(keys, 2)}\n`);
    return 0;
  }
  if (keys.length === 0) {
    io.stdout.write('No keys yet: `steward encrypt` creates the first key of a column.\n');
    return 0;
  }
  const width = Math.max(40, ...keys.map((k) => displayWidth(shown(`${k.scope.source}.${k.scope.table}.${k.scope.column}`))));
  for (const k of keys) {
    io.stdout.write(`${padEnd(shown(`${k.scope.source}.${k.scope.table}.${k.scope.column}`), width)} ${shown(k.kind).padEnd(4)} ${shown(k.keyId)} v${String(k.version).padEnd(3)} ${shown(k.state).padEnd(9)} ${String(k.messagesReserved).padStart(8)}/${k.messageLimit} msgs  wrapped by ${shown(k.kekId)}\n`);
  }
  return 0;
}

/** `steward keys generate`: a new random master key, printed once, for an environment variable or a key file. */
export async function keysGenerate(_options: KeysOptions, io: Io): Promise<number> {
  io.stdout.write(`${generateMasterKeyText()}\n`);
  io.stderr.write('steward: a new 256-bit master key. Keep it in a secret manager, export it as STEWARD_MASTER_KEY (or write it to a 0600 file named by encryption.masterKey.file); without it nothing Steward encrypted can be read.\n');
  return 0;
}

export interface KeysRotateOptions extends KeysOptions {
  readonly newEnv?: string;
  readonly newFile?: string;
}

/** `steward keys rotate`: re-wrap every data key under a new master key (no data is rewritten). */
export async function keysRotate(options: KeysRotateOptions, io: Io): Promise<number> {
  if (Boolean(options.newEnv) === Boolean(options.newFile)) throw new UsageError('name the new master key with exactly one of --new-env VAR or --new-file FILE', { hint: 'Create one with `steward keys generate`' });
  const result = await withKeyring(options, io, async ({ store, keyring, dir }) => {
    const target: MasterKeySource = options.newEnv ? { env: options.newEnv, environment: io.env } : { file: path.resolve(dir, options.newFile!) };
    const next = await resolveMasterKey(target, store.keys);
    const from = keyring.masterKeyId;
    if (next.keyId === from) throw new UsageError('the new master key is the one already in use', { hint: 'Generate another with `steward keys generate`' });
    const count = await keyring.rewrap(next);
    await store.appendActivity({ actor: currentActor(), action: 'keys.rewrapped', subject: { from, to: next.keyId }, details: { keys: count } });
    return { from, to: next.keyId, keys: count };
  });
  if (options.json) io.stdout.write(`${stringifyJson(result)}\n`);
  else io.stdout.write(`Re-wrapped ${result.keys} key(s) from master key ${shown(result.from)} to ${shown(result.to)}. Point encryption.masterKey at the new key now; the old one is no longer needed by this store (keep it until backups made before today have expired).\n`);
  return 0;
}

export interface KeysDestroyOptions extends KeysOptions {
  readonly source?: string;
  readonly column?: string;
  readonly version?: number;
  readonly yes?: boolean;
}

/**
 * `steward keys destroy`: crypto-shredding. Deletes the wrapped key (one version
 * or all of a column's): every value under it becomes unrecoverable. Without
 * `--yes` it only says what would be destroyed.
 *
 * `--column` names a physical column, however its table is spelled: `t.email` and
 * `public.t.email` are one column, and every key scope recorded for it (older runs keyed
 * some columns under two spellings of their table) is destroyed together, each named in
 * the preview and the log; a shred that spared one would leave those values readable.
 * The spellings are resolved on the source when steward.yml names it and it answers;
 * otherwise by name (same table name but for case, same schema where both give one), and
 * the preview says so. `--version` needs a single scope (versions are per key).
 */
export async function keysDestroy(options: KeysDestroyOptions, io: Io): Promise<number> {
  if (!options.source) throw new UsageError('--source is required');
  const sourceName = options.source;
  const { table, column } = splitColumn(options.column);
  const result = await withKeyring(options, io, async ({ config, store, keyring }) => {
    const live = (await keyring.list()).filter((k) => k.scope.source === sourceName && k.scope.column === column && k.state !== 'destroyed');
    const candidates = [...new Set(live.map((k) => k.scope.table))].sort();
    const { spellings, resolvedBy, physical } = await spellingsOf(config, sourceName, table, candidates);
    const scopes = spellings.map((t) => ({ source: sourceName, table: t, column }));
    const plan = scopes
      .map((scope) => ({
        scope,
        keys: live.filter((k) => k.scope.table === scope.table && k.kind === 'dek' && (options.version === undefined || k.version === options.version)),
      }))
      .filter((p) => p.keys.length > 0);
    if (plan.length === 0) throw new UsageError(`${table}.${column} of source "${sourceName}" has no ${options.version ? `version ${options.version} of a ` : ''}key to destroy`, { hint: 'See `steward keys list`' });
    if (options.version !== undefined && scopes.length > 1) {
      throw new UsageError(`--version ${options.version} names a version of one key, but ${physical ?? `${table}.${column}`} has keys under ${scopes.length} spellings of its table (${spellings.join(', ')}), each with its own versions`, {
        hint: 'Destroy the column\'s keys under every spelling at once: the same command without --version',
      });
    }
    const entries = [] as { table: string; keyId: string; versions: number[] }[];
    for (const { scope, keys } of plan) {
      if (!options.yes) {
        entries.push({ table: scope.table, keyId: keys[0]!.keyId, versions: keys.map((k) => k.version) });
        continue;
      }
      const destroyed = (await keyring.destroy(scope, options.version)).filter((k) => k.kind === 'dek').map((k) => k.version);
      await store.appendActivity({ actor: currentActor(), action: 'key.destroyed', subject: scope, details: { versions: destroyed, keyId: keys[0]!.keyId, ...(plan.length > 1 ? { tables: plan.map((p) => p.scope.table) } : {}) } });
      entries.push({ table: scope.table, keyId: keys[0]!.keyId, versions: destroyed });
    }
    return options.yes ? { destroyed: entries, wouldDestroy: [], resolvedBy } : { destroyed: [], wouldDestroy: entries, resolvedBy };
  });
  if (options.json) {
    io.stdout.write(`${stringifyJson(result)}\n`);
    return 0;
  }
  const list = (entries: readonly { table: string; versions: number[] }[]) => entries.map((e) => `${e.versions.join(', ')} of ${shown(`${e.table}.${column}`)}`).join(' and ');
  const note =
    (result.destroyed.length || result.wouldDestroy.length) > 1 ? ' (one column, keyed under several spellings of its table)' : '';
  const byName = result.resolvedBy === 'name' ? `\n  Source "${shown(sourceName)}" could not be asked which tables these spellings name: they were matched by name (same table name, same schema where both give one).` : '';
  if (result.destroyed.length) io.stdout.write(`Destroyed key version(s) ${list(result.destroyed)}${note}: values encrypted under them can no longer be read by anyone. Recorded in the activity log.${byName}\n`);
  else io.stdout.write(`Would destroy key version(s) ${list(result.wouldDestroy)}${note}, making every value under them unrecoverable. Run again with --yes to do it.${byName}\n`);
  return 0;
}

/**
 * Which of `candidates` (the table spellings a column has keys under) name the same physical
 * table as `table`: asked of the source when steward.yml names it and it can be opened,
 * otherwise by name. The spelling given is always one of them.
 */
async function spellingsOf(config: StewardConfig, sourceName: string, table: string, candidates: readonly string[]): Promise<{ spellings: string[]; resolvedBy: 'source' | 'name'; physical: string | null }> {
  const cfg = config.sources.find((s) => s.name === sourceName);
  if (cfg) {
    let source: Awaited<ReturnType<typeof openSource>> | null = null;
    try {
      source = await openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url, connectTimeoutMs: cfg.connectTimeoutMs }, { readonly: true, command: 'encrypt' });
      const found = await sameTableSpellings(source, table, candidates);
      // A table that no longer exists (dropped after it was encrypted) is matched by name below.
      if (found) return { spellings: [...new Set([...found.spellings, ...(candidates.includes(table) ? [table] : [])])].sort(), resolvedBy: 'source', physical: `${sourceName}.${found.physical}` };
    } catch (e) {
      if (!isStewardError(e) || e.code === 'USAGE') throw e;
      // Unreachable, or its URL's variable is unset: shredding must not depend on the database
      // still being there (its backups are what the shred is for).
    } finally {
      await source?.close();
    }
  }
  return { spellings: candidates.filter((x) => x === table || mayNameSameTable(x, table)), resolvedBy: 'name', physical: null };
}
