/**
 * `steward encrypt`, `steward decrypt` (online column migrations) and
 * `steward keys …` (list, generate, master key rotation, crypto-shredding).
 * Thin: the work is in src/crypto/column-migration.ts and src/crypto/keyring.ts.
 */
import path from 'node:path';
import pc from 'picocolors';
import { loadConfig, type StewardConfig } from '../../../config/index.js';
import { migrateColumn, type ColumnMigrationResult } from '../../../crypto/column-migration.js';
import { createFieldEncryption } from '../../../crypto/field.js';
import { openKeyring, resolveMasterKey, type Keyring, type MasterKeySource } from '../../../crypto/keyring.js';
import { generateMasterKeyText } from '../../../crypto/master-key.js';
import type { Normalizer } from '../../../crypto/blind-index.js';
import { UsageError } from '../../../errors.js';
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
  return 0;
}

function render(r: ColumnMigrationResult, color: boolean, batchSize: number): string {
  const c = pc.createColors(color);
  const p = r.plan;
  const name = shown(`${p.scope.table}.${p.scope.column}`);
  const lines: string[] = [];
  if (r.dryRun) {
    lines.push(c.bold(`Dry run: ${r.operation} ${name} of source "${shown(p.scope.source)}" (nothing was changed)`));
    lines.push(`  rows ${p.rows}, empty ${p.nulls}, already under this column's key ${p.encrypted}, to ${r.operation} ${p.todo}${p.foreign ? `, foreign ciphertexts ${p.foreign} (left alone)` : ''}`);
    lines.push(`  largest value ${p.maxValueBytes} bytes; batches of up to ${batchSize} rows in order of ${shown(p.table.primaryKey.join(', '))}, one transaction each`);
    for (const d of p.ddl) lines.push(`  first: ${shown(d)}`);
    if (p.resumes) lines.push(`  resumes job ${shown(p.resumes.id.slice(0, 8))} (started ${shown(p.resumes.startedAt)}, pass ${p.resumes.pass})`);
    lines.push(`Run it without --dry-run to ${r.operation}; it can be stopped at any moment and resumed by running it again.`);
    return `${lines.join('\n')}\n`;
  }
  if (r.jobId === null) return `Nothing to ${r.operation}: ${r.operation === 'encrypt' ? `every value of ${name} is already encrypted (or empty)` : `no value of ${name} is under this column's key`}.\n`;
  const verb = r.operation === 'encrypt' ? 'Encrypted' : r.operation === 'decrypt' ? 'Decrypted' : 'Re-encrypted';
  lines.push(c.bold(`${verb} ${r.counts.changed} value(s) of ${name} in ${r.counts.batches} batch(es), ${r.counts.passes} pass(es), ${(r.durationMs / 1000).toFixed(1)} s.`));
  if (r.counts.raced) lines.push(`  ${r.counts.raced} row(s) changed by the application while in flight were taken by a later pass.`);
  if (r.counts.foreign) lines.push(`  ${r.counts.foreign} value(s) under another key were left alone.`);
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
 */
export async function keysDestroy(options: KeysDestroyOptions, io: Io): Promise<number> {
  if (!options.source) throw new UsageError('--source is required');
  const { table, column } = splitColumn(options.column);
  const scope = { source: options.source, table, column };
  const result = await withKeyring(options, io, async ({ store, keyring }) => {
    const keys = (await keyring.list(scope)).filter((k) => k.kind === 'dek' && k.state !== 'destroyed' && (options.version === undefined || k.version === options.version));
    if (keys.length === 0) throw new UsageError(`${table}.${column} of source "${options.source}" has no ${options.version ? `version ${options.version} of a ` : ''}key to destroy`, { hint: 'See `steward keys list`' });
    if (!options.yes) return { destroyed: [] as number[], wouldDestroy: keys.map((k) => k.version) };
    const destroyed = (await keyring.destroy(scope, options.version)).map((k) => k.version);
    await store.appendActivity({ actor: currentActor(), action: 'key.destroyed', subject: scope, details: { versions: destroyed, keyId: keys[0]!.keyId } });
    return { destroyed, wouldDestroy: [] as number[] };
  });
  if (options.json) io.stdout.write(`${stringifyJson(result)}\n`);
  else if (result.destroyed.length) io.stdout.write(`Destroyed key version(s) ${result.destroyed.join(', ')} of ${shown(`${table}.${column}`)}: values encrypted under them can no longer be read by anyone. Recorded in the activity log.\n`);
  else io.stdout.write(`Would destroy key version(s) ${result.wouldDestroy.join(', ')} of ${shown(`${table}.${column}`)}, making every value under them unrecoverable. Run again with --yes to do it.\n`);
  return 0;
}
