/**
 * `steward archive verify <dir>` and `steward archive restore <dir>`: archive
 * sets (src/archive/set.ts). Thin: the work is in src/archive/verify.ts and
 * restore.ts.
 */
import path from 'node:path';
import pc from 'picocolors';
import { loadConfig } from '../../../config/index.js';
import { readIdentityFile } from '../../../archive/keys.js';
import { restoreArchiveSet, type RestoreResult } from '../../../archive/restore.js';
import { verifyArchiveSet, type ArchiveSetVerification } from '../../../archive/verify.js';
import { UsageError } from '../../../errors.js';
import { openSource } from '../../../sources/index.js';
import { progressBar, shown, stringifyJson, useColor, type Io } from '../output.js';

export interface ArchiveVerifyOptions {
  readonly key?: string;
  readonly signer?: string;
  readonly digest?: string;
  readonly json?: boolean;
  readonly color?: boolean;
}

/** `steward archive verify <dir> [--key file] [--signer pem] [--digest sha256]`: exit 0 when the set verifies, 8 naming the chunk when not. */
export async function archiveVerify(dir: string, options: ArchiveVerifyOptions, io: Io): Promise<number> {
  const identity = options.key ? await readIdentityFile(path.resolve(io.cwd, options.key)) : undefined;
  const signer = options.signer ? (await import('node:fs/promises')).readFile(path.resolve(io.cwd, options.signer), 'utf8') : undefined;
  const bar = progressBar(io, !options.json);
  let result: ArchiveSetVerification;
  try {
    result = await verifyArchiveSet(path.resolve(io.cwd, dir), {
      ...(identity ? { privateKey: identity } : {}),
      ...(signer ? { signerPublicKey: await signer } : {}),
      ...(options.digest ? { expectedDigest: options.digest } : {}),
      onChunk: (c, i, total) => bar.update(i + 1, total, c.file),
    });
  } finally {
    bar.done();
  }
  if (options.json) {
    const { manifest, ...rest } = result;
    io.stdout.write(`${stringifyJson({ ok: true, ...rest, source: manifest.source, table: manifest.table, runId: manifest.runId, policy: manifest.policy }, 2)}\n`);
    return 0;
  }
  const c = pc.createColors(useColor(io, options.color));
  const m = result.manifest;
  const how = result.decrypted ? 'decrypted, every row parsed, counts and keys checked, no key twice' : 'sizes and SHA-256 digests checked (give --key to decrypt and check every row)';
  io.stdout.write(`${c.green(c.bold('Archive set verifies:'))} ${result.chunks} chunk(s), ${result.rows} row(s) of ${shown(m.source)} ${shown(`${m.table.schema ? `${m.table.schema}.` : ''}${m.table.name}`)}, run ${shown(m.runId)}, policy ${shown(m.policy)}\n`);
  io.stdout.write(`  ${how}\n`);
  io.stdout.write(`  manifest SHA-256 ${shown(result.digest)}${result.signature === 'none' ? ' (unsigned: compare it with the one in the activity log)' : result.signature === 'trusted' ? ' (signature verified with --signer)' : ' (signed; give --signer to check whose key)'}\n`);
  for (const w of result.warnings) io.stdout.write(`  note: ${shown(w)}\n`);
  return 0;
}

export interface ArchiveRestoreOptions {
  readonly key?: string;
  readonly source?: string;
  readonly table?: string;
  readonly config?: string;
  readonly batchSize?: number;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly color?: boolean;
}

/** `steward archive restore <dir> --key file --source S [--table T] [--dry-run]`. */
export async function archiveRestore(dir: string, options: ArchiveRestoreOptions, io: Io): Promise<number> {
  if (!options.key) throw new UsageError('--key <private key file> is required', { hint: 'Restoring decrypts the archive: give the private key file of one of its recipients' });
  if (!options.source) throw new UsageError('--source is required', { hint: 'Name the source in steward.yml to restore into: --source shop' });
  const identity = await readIdentityFile(path.resolve(io.cwd, options.key));
  const { config } = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env });
  const cfg = config.sources.find((s) => s.name === options.source);
  if (!cfg) throw new UsageError(`unknown source "${options.source}"`, { hint: `Sources in steward.yml: ${config.sources.map((s) => s.name).join(', ')}` });
  const source = await openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url, connectTimeoutMs: cfg.connectTimeoutMs }, { ...(options.dryRun ? { readonly: true } : {}), command: 'restore' });
  const bar = progressBar(io, !options.json);
  let result: RestoreResult;
  try {
    result = await restoreArchiveSet(path.resolve(io.cwd, dir), {
      privateKey: identity,
      source,
      ...(options.table ? { table: options.table } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      dryRun: Boolean(options.dryRun),
      onProgress: (p) => bar.update(p.rows, p.totalRows, `rows (${p.inserted} inserted, chunk ${p.chunks}/${p.totalChunks})`),
    });
  } finally {
    bar.done();
    await source.close();
  }
  if (options.json) {
    io.stdout.write(`${stringifyJson(result, 2)}\n`);
    return 0;
  }
  const c = pc.createColors(useColor(io, options.color));
  const into = shown(source.archive.restoresIntoSchema ? `${result.table.schema}.${result.table.name}` : result.table.name);
  if (result.dryRun) {
    io.stdout.write(`${c.bold(`Dry run: restoring ${shown(dir)} into ${into} of source "${shown(source.name)}" would insert ${result.inserted} of ${result.rows} row(s)`)}; ${result.present} are already there. Nothing was changed.\n`);
  } else {
    io.stdout.write(`${c.bold(`Restored ${result.inserted} row(s) into ${into}`)} from ${result.chunks} chunk(s), in ${result.batches} batch(es); ${result.present} row(s) were already there and were left as they are.\n`);
  }
  return 0;
}
