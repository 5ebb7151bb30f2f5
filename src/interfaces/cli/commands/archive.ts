/**
 * `steward keys recipient new|public|convert` (age X25519 key pairs for encrypted
 * archives) and `steward archive encrypt|decrypt` (age files, src/archive/age.ts).
 * Encrypting needs public keys only; decrypting needs the private key, which never
 * belongs on the machine that writes archives. Nothing here prints a private key
 * except `keys recipient new` without `--out`, whose output *is* the new key file.
 * The keys and files are age's own: `age-keygen`, `age -r` and `age -d -i` work
 * with them too.
 */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { decryptStream } from '../../../archive/age.js';
import { decryptFile, encryptFile } from '../../../archive/files.js';
import {
  generateRecipient,
  identityFileText,
  parseRecipient,
  readIdentityFile,
  readRecipientsFile,
  writeIdentityFile,
  type Recipient,
} from '../../../archive/keys.js';
import { UsageError } from '../../../errors.js';
import { shellCommand } from '../../../shell.js';
import { shown, stringifyJson, type Io } from '../output.js';

export interface RecipientNewOptions {
  readonly out?: string;
  readonly json?: boolean;
}

const KEEP_SECRET = 'Give the public key to whoever writes archives (e.g. retention or subject-request exports); keep the private key off that machine, secret and backed up: without it the archives cannot be read.';

/** `steward keys recipient new [--out file]`: a new age X25519 key pair for archives (the key file as `age-keygen` writes it). */
export async function recipientNew(options: RecipientNewOptions, io: Io): Promise<number> {
  if (options.out) {
    const file = path.resolve(io.cwd, options.out);
    const made = await writeIdentityFile(file);
    if (options.json) {
      io.stdout.write(`${stringifyJson({ publicKey: made.publicKey, id: made.identity.id, file }, 2)}\n`);
    } else {
      io.stdout.write(`${made.publicKey}\n`);
      io.stderr.write(`steward: wrote the private key to ${shown(options.out)} (mode 0600); the public key (fingerprint ${shown(made.identity.id)}) is above. ${KEEP_SECRET}\n`);
    }
    return 0;
  }
  // Like age-keygen: the key file on stdout (to redirect into a file), the public key on stderr.
  const made = generateRecipient();
  io.stdout.write(identityFileText(made.identity));
  io.stderr.write(`Public key: ${made.publicKey}\nsteward: ${KEEP_SECRET} Prefer --out FILE, which creates the file with mode 0600.\n`);
  return 0;
}

export interface RecipientPublicOptions {
  readonly json?: boolean;
}

/** `steward keys recipient public <private key file>`: the public key (and fingerprint) of a private key. */
export async function recipientPublic(keyFile: string, options: RecipientPublicOptions, io: Io): Promise<number> {
  const identity = await readIdentityFile(path.resolve(io.cwd, keyFile));
  if (options.json) io.stdout.write(`${stringifyJson({ publicKey: identity.recipient.publicKey, id: identity.id }, 2)}\n`);
  else io.stdout.write(`${identity.recipient.publicKey}\n`);
  return 0;
}

export interface RecipientConvertOptions {
  readonly out?: string;
  readonly json?: boolean;
}

/**
 * `steward keys recipient convert <key file> --out <file>`: the same private key in
 * age's standard form (AGE-SECRET-KEY-1…), e.g. a `stwsec1…` key of the earlier
 * format, so that `age -d -i` reads archives encrypted to it.
 */
export async function recipientConvert(keyFile: string, options: RecipientConvertOptions, io: Io): Promise<number> {
  if (!options.out) throw new UsageError('--out <file> is required', { hint: 'Name the new key file; Steward writes it with mode 0600 and never overwrites one' });
  const identity = await readIdentityFile(path.resolve(io.cwd, keyFile));
  const file = path.resolve(io.cwd, options.out);
  await writeIdentityFile(file, identity);
  if (options.json) io.stdout.write(`${stringifyJson({ publicKey: identity.recipient.publicKey, id: identity.id, file }, 2)}\n`);
  else io.stdout.write(`Wrote the key ${identity.id} in age's form to ${shown(options.out)} (mode 0600): \`${shellCommand('age', '-d', '-i', options.out)} FILE\` reads archives encrypted to ${identity.recipient.publicKey}\n`);
  return 0;
}

export interface ArchiveEncryptOptions {
  readonly recipient?: readonly string[];
  readonly recipientsFile?: readonly string[];
  readonly out?: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

/** `steward archive encrypt <file> --recipient age1… [--recipients-file f] [--out file]`: an age file. */
export async function archiveEncrypt(file: string, options: ArchiveEncryptOptions, io: Io): Promise<number> {
  const recipients: Recipient[] = [];
  for (const text of options.recipient ?? []) recipients.push(parseRecipient(text));
  for (const f of options.recipientsFile ?? []) recipients.push(...(await readRecipientsFile(path.resolve(io.cwd, f))));
  if (recipients.length === 0) {
    throw new UsageError('name at least one recipient with --recipient age1… or --recipients-file FILE', { hint: 'Whoever may read the archive creates a key pair with `steward keys recipient new --out their.key` (or `age-keygen -o their.key`) and sends you the public key' });
  }
  const out = options.out ?? `${file}.age`;
  const result = await encryptFile(path.resolve(io.cwd, file), path.resolve(io.cwd, out), recipients, { overwrite: Boolean(options.force) });
  const ids = result.recipients.map((r) => r.id);
  if (options.json) {
    io.stdout.write(`${stringifyJson({ file: out, plaintextBytes: result.plaintextBytes, archiveBytes: result.archiveBytes, recipients: ids }, 2)}\n`);
  } else {
    io.stdout.write(`Encrypted ${shown(file)} (${result.plaintextBytes} bytes) to ${ids.length === 1 ? 'recipient' : `${ids.length} recipients`} ${shown(ids.join(', '))}: ${shown(out)} (${result.archiveBytes} bytes)\n`);
  }
  return 0;
}

export interface ArchiveDecryptOptions {
  readonly key?: string;
  readonly out?: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

/**
 * `steward archive decrypt <file> --key <private key file> [--out file]`. With
 * `--out`, the plaintext appears only once the whole archive verified; to stdout,
 * it streams, and a failure (exit 7) means what was printed must be discarded.
 */
export async function archiveDecrypt(file: string, options: ArchiveDecryptOptions, io: Io): Promise<number> {
  if (!options.key) throw new UsageError('--key <private key file> is required', { hint: 'The private key file `steward keys recipient new --out` wrote' });
  const identity = await readIdentityFile(path.resolve(io.cwd, options.key));
  const input = path.resolve(io.cwd, file);
  if (options.out) {
    const result = await decryptFile(input, path.resolve(io.cwd, options.out), identity, { overwrite: Boolean(options.force), name: `The archive ${file}` });
    if (options.json) io.stdout.write(`${stringifyJson({ file: options.out, plaintextBytes: result.plaintextBytes, archiveBytes: result.archiveBytes, recipient: result.recipient.id }, 2)}\n`);
    else io.stdout.write(`Decrypted ${shown(file)} with key ${shown(result.recipient.id)}: ${shown(options.out)} (${result.plaintextBytes} bytes, mode 0600)\n`);
    return 0;
  }
  if (options.json) throw new UsageError('--json needs --out (without it the plaintext itself goes to stdout)', { hint: 'Add --out FILE' });
  const info = await stat(input).catch(() => null);
  if (!info?.isFile()) throw new UsageError(`Cannot read ${file}: ${info ? 'it is not a regular file' : 'it does not exist'}`, { hint: 'Check the path' });
  const stdout = io.stdout;
  // A reader that goes away (`… | head`) is not an error: stop decrypting, exit 0.
  const output: { error: (Error & { code?: string }) | null } = { error: null };
  const onError = (e: Error) => {
    output.error ??= e;
  };
  stdout.on('error', onError);
  try {
    await pipeline(createReadStream(input), decryptStream(identity, { name: `The archive ${file}` }), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        if (output.error) return;
        if (!stdout.write(chunk)) await once(stdout, 'drain').catch(() => undefined); // rejects on 'error', recorded above
      }
    });
  } catch (e) {
    if (output.error === null) throw e;
  } finally {
    stdout.off('error', onError);
  }
  if (output.error && output.error.code !== 'EPIPE') throw output.error;
  return 0;
}
