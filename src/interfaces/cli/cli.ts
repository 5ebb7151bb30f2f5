/**
 * `steward` command line: parses arguments and lazy-imports one command module.
 * Commands are plain async functions returning an exit code; they never call
 * process.exit, so they are tested directly. Exit codes: see src/errors.ts.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ExitCode } from '../../errors.js';
import { VERSION } from '../../version.js';
import { processIo, reportError, useColor, type Io } from './output.js';

const FORMATS = ['terminal', 'json', 'markdown', 'html', 'sarif'] as const;
const SEVERITY_CHOICES = ['critical', 'high', 'medium', 'low', 'info', 'never'] as const;

function int(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').filter(Boolean)];

const EXIT_CODES_HELP = `
Exit codes:
  0  success (no finding reached --fail-on)
  1  findings reached the --fail-on severity
  2  bad usage (unknown flag or argument)
  3  steward.yml missing, malformed or invalid, or an env var it needs is unset
  4  a source database could not be reached, authenticated or read
  5  Steward's state store could not be opened or migrated
  6  the activity log (or a checkpoint of it) does not verify: evidence was changed
  7  encryption: master key missing or wrong, a ciphertext tampered with or not Steward's
  8  a retention archive set does not verify, or its target cannot be written
  9  a file Steward was told to read or write cannot be (--out, --config, a key file)
  130 interrupted (Ctrl-C, SIGTERM) after the batch in flight; the same command resumes
  70 internal error (a bug: please report it)
  (all of them: docs/exit-codes.md)

Environment: NO_COLOR disables colour; STEWARD_CONFIG sets the default config path.`;

export function buildProgram(io: Io, run: (code: Promise<number>) => void): Command {
  const program = new Command('steward')
    .description("Finds, protects and retires your customers' personal data.")
    // `--version` is the program's only before any command (main answers it): commander would take
    // it anywhere, and `keys destroy --version 1 --yes` printed the version and destroyed nothing.
    .version(VERSION, '-V')
    .option('--no-color', 'disable colour (NO_COLOR is honoured too)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .addHelpText('after', `
Examples:
  $ npx steward demo                      build a demo shop database and audit it
  $ npx steward init                      write a commented steward.yml
  $ npx steward audit                     audit every source in steward.yml
  $ npx steward audit --json | jq .summary
${EXIT_CODES_HELP}`);

  program
    .command('demo')
    .description('Build a realistic demo shop database (SQLite, fixed seed), write its steward.yml, and audit it.')
    .option('--dir <dir>', 'where to put shop.db, steward.yml and .steward/', 'steward-demo')
    .option('--customers <n>', 'number of customers', int('--customers', 10, 1_000_000))
    .option('--seed <n>', 'random seed (same seed, same database)', int('--seed', 0, 2 ** 31 - 1))
    .addOption(new Option('--format <format>', 'report format').choices(FORMATS).default('terminal'))
    .option('--out <file>', 'write the report to a file instead of stdout')
    .option('--json', 'shorthand for --format json')
    .addHelpText('after', `
Examples:
  $ npx steward demo
  $ npx steward demo --format html --out report.html
  $ npx steward demo --dir /tmp/demo --customers 20000 --json`)
    .action((opts: Record<string, unknown>) => {
      run(import('./commands/demo.js').then((m) => m.demo({ ...opts, color: program.opts().color } as never, io)));
    });

  program
    .command('init')
    .description('Write a commented steward.yml for your own databases.')
    .option('-c, --config <file>', 'file to write', 'steward.yml')
    .addOption(new Option('--kind <kind>', 'kind of the first source').choices(['postgres', 'mysql', 'sqlite']).default('postgres'))
    .option('--force', 'overwrite an existing file')
    .addHelpText('after', `
Examples:
  $ npx steward init
  $ npx steward init --kind mysql --config config/steward.yml`)
    .action((opts: Record<string, unknown>) => {
      run(import('./commands/init.js').then((m) => m.init(opts as never, io)));
    });

  const auditCmd = program
    .command('audit')
    .description('Audit the sources in steward.yml: inventory of personal data and the data collection review.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .option('-s, --source <name>', 'audit only this source (repeatable, or comma-separated)', collect)
    .addOption(new Option('-f, --format <format>', 'report format').choices(FORMATS).default('terminal'))
    .option('-o, --out <file>', 'write the report to a file instead of stdout')
    .option('--json', 'shorthand for --format json (machine-readable; documented in docs/report-schema.md)')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding reaches this severity (default: audit.failOn)').choices(SEVERITY_CHOICES))
    .option('--sample-rows <n>', 'rows sampled per table', int('--sample-rows', 10, 100_000))
    .option('--no-history', 'neither compare with nor record into the state store')
    .addOption(new Option('--stage <stage>', 'audit stage: collection (inventory, purposes, plaintext), access (who can read personal data) or integrity (validity, duplicates, staleness, orphans)').choices(['collection', 'access', 'integrity']).default('collection'))
    .option('--due', 'run every stage that is due by the schedule, for the sources it is due for (see `steward schedule`)')
    .addHelpText('after', `
Examples:
  $ npx steward audit
  $ npx steward audit --source shop --format html --out report.html
  $ npx steward audit --json | jq '.findings[] | select(.status == "new")'
  $ npx steward audit --fail-on high          # in CI: fail the build on high or critical findings
  $ npx steward audit --format sarif --out steward.sarif
  $ npx steward audit --stage access         # who can read personal data, by which path; REVOKE statements printed
  $ npx steward audit --stage integrity      # validity, duplicates, staleness, orphans, computed in SQL
  $ npx steward audit --due                  # from cron: only what the schedule says is due
${EXIT_CODES_HELP}`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
      run(import('./commands/audit.js').then((m) => m.audit({ ...opts, config, color: program.opts().color } as never, io)));
    });
  /** `--stage` given on the command line after `audit diff`/`audit runs` lands on `audit`; its default must not. */
  const parentStage = () => (auditCmd.getOptionValueSource('stage') === 'cli' ? (auditCmd.opts().stage as string) : undefined);
  auditCmd
    .command('diff')
    .description('What changed between two recorded audit runs of one stage: findings that appeared, were fixed or changed severity; personal-data columns added or removed.')
    .argument('[from]', 'run id (or a unique prefix); alone: compare it with the run before it')
    .argument('[to]', 'run id (or a unique prefix); default: the latest run of the stage')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .addOption(new Option('--stage <stage>', 'stage to compare when no run is named (default: collection)').choices(['collection', 'access', 'integrity']))
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward audit diff                       # latest collection run vs the one before
  $ npx steward audit diff --stage access        # latest access run vs the one before
  $ npx steward audit diff 3f2a9c1e 8b7d0e44     # two named runs (ids from \`steward audit runs\`)
  $ npx steward audit diff --json | jq '.fixed[].id'`)
    .action((from: string | undefined, to: string | undefined, opts: Record<string, unknown>) => {
      // `audit` has --stage and --config too, and commander gives them to it wherever they appear.
      const parent = auditCmd.opts();
      const config = (opts.config as string | undefined) ?? (parent.config as string | undefined) ?? io.env.STEWARD_CONFIG;
      const stage = (opts.stage as string | undefined) ?? parentStage();
      run(import('./commands/audit-diff.js').then((m) => m.auditDiff(from, to, { ...opts, stage, config, json: opts.json ?? parent.json, color: program.opts().color } as never, io)));
    });
  auditCmd
    .command('runs')
    .description('List recorded audit runs, newest first, with their ids for `steward audit diff`.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .addOption(new Option('--stage <stage>', 'only runs of this stage').choices(['collection', 'access', 'integrity']))
    .option('--limit <n>', 'at most n runs', int('--limit', 1, 100_000), 20)
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward audit runs
  $ npx steward audit runs --stage integrity --limit 5 --json`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
      const parent = auditCmd.opts();
      const stage = (opts.stage as string | undefined) ?? parentStage();
      run(import('./commands/audit-diff.js').then((m) => m.auditRuns({ ...opts, stage, config: config ?? parent.config, json: opts.json ?? parent.json } as never, io)));
    });

  program
    .command('schedule')
    .description('Show the last and next run of every audit stage per source, and what is due or overdue.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Frequencies are ISO-8601 durations or cron expressions (UTC), per stage, in steward.yml:
  schedule: { collection: P3M, access: P1M, integrity: P6M, retryAfter: PT1H }

Examples:
  $ npx steward schedule
  $ npx steward schedule --json | jq '.stages[] | select(.overdue)'`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
      run(import('./commands/schedule.js').then((m) => m.schedule({ ...opts, config, color: program.opts().color } as never, io)));
    });

  const encryptOptions = (cmd: Command, verb: string) =>
    cmd
      .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
      .requiredOption('-s, --source <name>', 'the source in steward.yml')
      .requiredOption('--column <table.column>', 'TABLE.COLUMN or SCHEMA.TABLE.COLUMN')
      .option('--dry-run', `count what would be ${verb}, the DDL it needs and any job it resumes; change nothing`)
      .option('--batch-size <n>', 'rows per batch, one short transaction each (default: encryption.batchSize)', int('--batch-size', 1, 10_000))
      .option('--json', 'machine-readable');
  encryptOptions(
    program.command('encrypt').description('Encrypt a plaintext column in place while the application keeps running (batches in key order, compare-and-set, read-back verified, resumable). --rotate re-encrypts it under a new key version.'),
    'encrypted',
  )
    .option('--rotate', 're-encrypt values under a new data key version; old versions retire when none is left')
    .option('--blind-index <column>', 'also keep a blind index (keyed HMAC) in this column, created if missing, for WHERE col = ? lookups')
    .option('--normalize <how>', 'blind index normalisation: none, trim, lowercase, email, digits')
    .option('--allow-foreign', 'encrypt even when values look like another tool\'s ciphertext')
    .addHelpText('after', `
The master key comes from encryption.masterKey in steward.yml (default: the STEWARD_MASTER_KEY
environment variable; create one with \`steward keys generate\`).

Examples:
  $ npx steward encrypt --source shop --column customers.national_id --dry-run
  $ npx steward encrypt --source shop --column customers.email --blind-index email_bidx --normalize email
  $ npx steward encrypt --source shop --column customers.email --rotate
  (Ctrl-C or a crash at any moment: run the same command again and it resumes.)`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
      run(import('./commands/encrypt.js').then((m) => m.encryptCommand('encrypt', { ...opts, config, color: program.opts().color } as never, io)));
    });
  encryptOptions(program.command('decrypt').description('Decrypt a column Steward encrypted back to plaintext, online, in the same safe batches.'), 'decrypted')
    .addHelpText('after', `
Examples:
  $ npx steward decrypt --source shop --column customers.email --dry-run
  $ npx steward decrypt --source shop --column customers.email`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
      run(import('./commands/encrypt.js').then((m) => m.encryptCommand('decrypt', { ...opts, config, color: program.opts().color } as never, io)));
    });

  const retention = program.command('retention').description('Retention policies, enforced: plan what is due, apply (erase, archive, cleanup), and the deletion certificates.');
  const retentionConfig = (opts: Record<string, unknown>) => (opts.config as string | undefined) ?? (retention.opts().config as string | undefined) ?? io.env.STEWARD_CONFIG;
  retention
    .command('plan')
    .description('Per policy: rows due, held, without a reference date, the oldest, child rows that go with them, estimated time. No writes.')
    .option('-c, --config <file>', 'config file')
    .option('-p, --policy <name>', 'only this policy (repeatable)', collect)
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward retention plan
  $ npx steward retention plan --policy support-tickets --json
  $ npx steward retention plan --policy emails                # a category policy: one plan per table
  $ npx steward retention plan --policy 'emails[public.leads]'  # one of its tables`)
    .action((opts: Record<string, unknown>) => run(import('./commands/retention.js').then((m) => m.retentionPlan({ ...opts, config: retentionConfig(opts), color: program.opts().color } as never, io))));
  retention
    .command('apply')
    .description('Apply the policies (or --policy): batches of one short transaction each, resumable after a crash; a deletion certificate per run (per table, for a category policy) in the activity log.')
    .option('-c, --config <file>', 'config file')
    .option('-p, --policy <name>', 'only this policy (repeatable)', collect)
    .option('--dry-run', 'print the plan, change nothing')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward retention apply --dry-run
  $ npx steward retention apply --policy support-tickets
  (Killed at any moment, the same command resumes and finishes the run.)`)
    .action((opts: Record<string, unknown>) => run(import('./commands/retention.js').then((m) => m.retentionApply({ ...opts, config: retentionConfig(opts), color: program.opts().color } as never, io))));
  retention
    .command('reclaim')
    .description('After deletions: make the database drop the deleted rows\' bytes from the table\'s files (SQLite VACUUM, Postgres VACUUM, MySQL OPTIMIZE TABLE) and say what still holds them.')
    .option('-c, --config <file>', 'config file')
    .requiredOption('-s, --source <name>', 'the source in steward.yml')
    .requiredOption('--table <table>', 'the table')
    .option('--full', 'Postgres: VACUUM FULL (rewrites the table under an exclusive lock)')
    .option('--dry-run', 'print the statements, run nothing')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward retention reclaim --source shop --table customers --dry-run
  $ npx steward retention reclaim --source shop --table customers`)
    .action((opts: Record<string, unknown>) => run(import('./commands/retention.js').then((m) => m.retentionReclaim({ ...opts, config: retentionConfig(opts) } as never, io))));
  retention
    .command('certificates')
    .description('The deletion certificates: policy, counts, cut-off, hash of the deleted keys, archive digest, who and when.')
    .option('-c, --config <file>', 'config file')
    .option('-p, --policy <name>', 'only this policy (repeatable)', collect)
    .option('--limit <n>', 'the last n', int('--limit', 1, 1_000_000))
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward retention certificates --limit 10
  $ npx steward retention certificates --json | jq '.certificates[] | {policy, rows, keysSha256}'`)
    .action((opts: Record<string, unknown>) => run(import('./commands/retention.js').then((m) => m.retentionCertificates({ ...opts, config: retentionConfig(opts) } as never, io))));

  const keys = program.command('keys').description('The keyring: data keys per column (wrapped by the master key), master key rotation, crypto-shredding.');
  const keysConfig = (opts: Record<string, unknown>) => (opts.config as string | undefined) ?? (keys.opts().config as string | undefined) ?? io.env.STEWARD_CONFIG;
  keys
    .command('list')
    .description('Every data key version: column, state (active, retired, destroyed), messages used, master key. Never key material.')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward keys list
  $ npx steward keys list --json | jq '.[] | select(.state == "active")'`)
    .action((opts: Record<string, unknown>) => run(import('./commands/encrypt.js').then((m) => m.keysList({ ...opts, config: keysConfig(opts) } as never, io))));
  keys
    .command('generate')
    .description('Print a new random 256-bit master key (for STEWARD_MASTER_KEY or a 0600 key file).')
    .addHelpText('after', `
Examples:
  $ export STEWARD_MASTER_KEY="$(npx steward keys generate)"
  $ npx steward keys generate > /etc/steward/master.key && chmod 600 /etc/steward/master.key`)
    .action(() => run(import('./commands/encrypt.js').then((m) => m.keysGenerate({}, io))));
  keys
    .command('rotate')
    .description('Re-wrap every data key under a new master key; no data is rewritten.')
    .option('-c, --config <file>', 'config file')
    .option('--new-env <var>', 'environment variable holding the new master key')
    .option('--new-file <file>', 'file holding the new master key (mode 0600)')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ export STEWARD_MASTER_KEY_NEXT="$(npx steward keys generate)"
  $ npx steward keys rotate --new-env STEWARD_MASTER_KEY_NEXT   # then point encryption.masterKey at it`)
    .action((opts: Record<string, unknown>) => run(import('./commands/encrypt.js').then((m) => m.keysRotate({ ...opts, config: keysConfig(opts) } as never, io))));
  keys
    .command('destroy')
    .description('Crypto-shredding: delete a column\'s data key (one version, or all), making every value under it unrecoverable. Without --yes, says what it would destroy.')
    .option('-c, --config <file>', 'config file')
    .requiredOption('-s, --source <name>', 'the source in steward.yml')
    .requiredOption('--column <table.column>', 'TABLE.COLUMN')
    .option('--version <n>', 'only this key version', int('--version', 1, 2 ** 31 - 1))
    .option('--yes', 'really destroy it')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward keys destroy --source shop --column customers.email            # what would be destroyed
  $ npx steward keys destroy --source shop --column customers.email --version 1 --yes`)
    .action((opts: Record<string, unknown>) => run(import('./commands/encrypt.js').then((m) => m.keysDestroy({ ...opts, config: keysConfig(opts) } as never, io))));

  const recipientKeys = keys
    .command('recipient')
    .description('age X25519 key pairs for encrypted archives: the public key (age1…) goes to whoever writes archives, the private key (AGE-SECRET-KEY-1…) stays with whoever reads them. age-keygen makes the same keys.');
  recipientKeys
    .command('new')
    .description('Create a key pair: writes the private key to --out (mode 0600, never overwritten) and prints the public key.')
    .option('-o, --out <file>', 'private key file to create (without it: the key file is printed to stdout, the public key to stderr)')
    .option('--json', 'machine-readable: {publicKey, id, file} (with --out)')
    .addHelpText('after', `
Examples:
  $ npx steward keys recipient new --out ~/.steward/dpo.key          # prints age1…
  $ npx steward keys recipient new > dpo.key && chmod 600 dpo.key     # like age-keygen > dpo.key`)
    .action((opts: Record<string, unknown>) => run(import('./commands/archive.js').then((m) => m.recipientNew(opts as never, io))));
  recipientKeys
    .command('public')
    .description('Print the public key of a private key file.')
    .argument('<key-file>', 'private key file (AGE-SECRET-KEY-1…, stwsec1… of the earlier format, or an X25519 PKCS#8 PEM)')
    .option('--json', 'machine-readable: {publicKey, id}')
    .addHelpText('after', `
Examples:
  $ npx steward keys recipient public ~/.steward/dpo.key              # like age-keygen -y`)
    .action((keyFile: string, opts: Record<string, unknown>) => run(import('./commands/archive.js').then((m) => m.recipientPublic(keyFile, opts as never, io))));
  recipientKeys
    .command('convert')
    .description('Write a private key (e.g. stwsec1… of the earlier format, or a PEM) as a standard age key file, so that `age -d -i` reads archives encrypted to it.')
    .argument('<key-file>', 'private key file to read')
    .requiredOption('-o, --out <file>', 'key file to create (mode 0600, never overwritten)')
    .option('--json', 'machine-readable: {publicKey, id, file}')
    .addHelpText('after', `
Examples:
  $ npx steward keys recipient convert ~/.steward/dpo.key --out ~/.steward/dpo.age.key`)
    .action((keyFile: string, opts: Record<string, unknown>) => run(import('./commands/archive.js').then((m) => m.recipientConvert(keyFile, opts as never, io))));

  const archiveCommand = program
    .command('archive')
    .description('Encrypted archives: age files encrypted to recipients\' public keys, so the machine that writes them cannot read them back and `age -d` opens them without Steward.');
  archiveCommand
    .command('encrypt')
    .description('Encrypt a file to one or more recipients\' public keys (needs no private key).')
    .argument('<file>', 'file to encrypt')
    .option('-r, --recipient <age1…>', 'a recipient public key (repeatable, or comma-separated)', collect)
    .option('-R, --recipients-file <file>', 'a file with one public key per line (repeatable)', collect)
    .option('-o, --out <file>', 'archive to write (default: <file>.age)')
    .option('--force', 'replace --out if it exists')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward archive encrypt export.csv --recipient age1… --recipient age1…
  $ npx steward archive encrypt export.csv --recipients-file recipients.txt --out /backups/export.csv.age
  $ age -d -i dpo.key /backups/export.csv.age > export.csv          # the same file, opened without Steward`)
    .action((file: string, opts: Record<string, unknown>) => run(import('./commands/archive.js').then((m) => m.archiveEncrypt(file, opts as never, io))));
  archiveCommand
    .command('decrypt')
    .description('Decrypt an archive (an age file, or one of the earlier steward-archive/1 format) with your private key. With --out, the file appears only if the whole archive verifies; otherwise it streams to stdout.')
    .argument('<file>', 'archive to decrypt')
    .requiredOption('-k, --key <file>', 'private key file (mode 0600)')
    .option('-o, --out <file>', 'write the plaintext here (mode 0600, atomically) instead of stdout')
    .option('--force', 'replace --out if it exists')
    .option('--json', 'machine-readable summary (with --out)')
    .addHelpText('after', `
Exit 7 when the file is not an archive, not encrypted to this key, or was changed or
truncated (to stdout: discard what was printed).

Examples:
  $ npx steward archive decrypt export.csv.age --key ~/.steward/dpo.key --out export.csv
  $ npx steward archive decrypt export.csv.age --key ~/.steward/dpo.key | head`)
    .action((file: string, opts: Record<string, unknown>) => run(import('./commands/archive.js').then((m) => m.archiveDecrypt(file, opts as never, io))));
  archiveCommand
    .command('verify')
    .description('Check a retention archive set: without a key, its manifest and every chunk\'s size and SHA-256; with --key, also decrypt every chunk and check its rows, counts and keys.')
    .argument('<dir>', 'the archive set\'s directory (manifest.json, chunk-*.jsonl.gz.age)')
    .option('-k, --key <file>', 'private key file of a recipient: also decrypt and check every row')
    .option('--signer <pem>', 'Ed25519 public key (PEM) the manifest must be signed with')
    .option('--digest <sha256>', 'the manifest SHA-256 recorded in the activity log: must match')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Exit 0 when the set verifies; exit 8 naming the first bad chunk and why (missing, not
listed, changed, does not decrypt, wrong row count or keys, a key twice), or a manifest
that is missing, malformed, or not the recorded/signed one; exit 7 when --key is not one
of the set's recipients.

Examples:
  $ npx steward archive verify archives/orders-5y/2025-01-01T02-00
  $ npx steward archive verify archives/orders-5y/2025-01-01T02-00 --key ~/.steward/dpo.key --json`)
    .action((dir: string, opts: Record<string, unknown>) => run(import('./commands/archive-set.js').then((m) => m.archiveVerify(dir, { ...opts, color: program.opts().color } as never, io))));
  archiveCommand
    .command('restore')
    .description('Put the rows of a retention archive set back into a table (a lawful restore); rows whose primary key is already there are skipped, so it can be run again.')
    .argument('<dir>', 'the archive set\'s directory')
    .requiredOption('-k, --key <file>', 'private key file of a recipient (mode 0600)')
    .requiredOption('--source <name>', 'source in steward.yml to restore into')
    .option('--table <table>', 'table to restore into (default: the archived table); schema.table on Postgres')
    .option('-c, --config <file>', 'config file')
    .option('--batch-size <n>', 'rows per INSERT transaction', int('--batch-size', 1, 100_000))
    .option('--dry-run', 'decrypt, check and count what would be inserted; change nothing')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
The set is verified first; each chunk is decrypted and checked before any of its rows is
inserted. The target table must have every archived column.

Examples:
  $ npx steward archive restore archives/orders-5y/2025-01-01T02-00 --key ~/.steward/dpo.key --source shop --dry-run
  $ npx steward archive restore archives/orders-5y/2025-01-01T02-00 --key ~/.steward/dpo.key --source shop --table orders_restored`)
    .action((dir: string, opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
      run(import('./commands/archive-set.js').then((m) => m.archiveRestore(dir, { ...opts, config, color: program.opts().color } as never, io)));
    });

  const subject = program.command('subject').description('Data-subject requests: the subject map, and one person\'s rows in every source (find).');
  const subjectConfig = (opts: Record<string, unknown>) => (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
  const repeat = (value: string, previous: string[] = []): string[] => [...previous, value];
  subject
    .command('map')
    .description('The derived subject map: identity tables, the tables hanging off them (foreign keys, steward.yml links, inferred links with their evidence), identifiers without an index, personal data no path reaches.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .option('-s, --source <name>', 'only this source (repeatable, or comma-separated)', collect)
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward subject map
  $ npx steward subject map --source shop --json | jq '.links[] | select(.origin == "inferred")'`)
    .action((opts: Record<string, unknown>) => run(import('./commands/subject.js').then((m) => m.subjectMap({ ...opts, config: subjectConfig(opts), color: program.opts().color } as never, io))));
  /** The identifier flags of every subject command. */
  const identifierOptions = (c: Command) =>
    c
      .option('--email <address>', 'an email address (repeatable)', repeat)
      .option('--phone <number>', 'a phone number, with its country code or in subjects.defaultCountry (repeatable)', repeat)
      .option('--national-id <id>', 'a national identity number (repeatable)', repeat)
      .option('--id <table.column=value>', 'a key: customers.id=42 (repeatable)', repeat);
  identifierOptions(subject.command('find'))
    .description('Every row of one person in every source, following the subject map and closing over identifiers found on the way; mentions in free text; rows that share a phone but are another person\'s are not merged. Exit 1 when the identifiers match several people.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .option('-s, --source <name>', 'only this source (repeatable, or comma-separated)', collect)
    .option('--json', 'machine-readable: every row found, with its values')
    .addHelpText('after', `
The human output lists tables, row counts and keys, never the values; --json carries the
rows (the person's own data, for the export). The activity log records the search by
identifier kinds and counts, never the identifiers.

Examples:
  $ npx steward subject find --email alice@example.com
  $ npx steward subject find --phone "+44 20 7946 0958" --id customers.id=42 --json`)
    .action((opts: Record<string, unknown>) => run(import('./commands/subject.js').then((m) => m.subjectFind({ ...opts, config: subjectConfig(opts), color: program.opts().color } as never, io))));
  identifierOptions(subject.command('access'))
    .description('The person\'s package for an access or portability request (GDPR Art. 15, 20): a zip of export.json (every row), summary.html (purposes, legal bases, recipients, retention) and README.txt, encrypted to age recipients.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .option('-s, --source <name>', 'only this source (repeatable, or comma-separated)', collect)
    .requiredOption('-o, --out <file>', 'where the package is written (mode 0600)')
    .option('--recipient <age1…>', 'encrypt to this age public key (repeatable; default retention.archive.recipients)', repeat)
    .option('--plaintext', 'write the zip unencrypted (it holds the person\'s data: say so explicitly)')
    .option('--json', 'machine-readable summary')
    .addHelpText('after', `
Open it without Steward: age -d -i key.txt alice.zip.age > alice.zip && unzip alice.zip

Examples:
  $ npx steward subject access --email alice@example.com --out alice.zip.age --recipient age1…
  $ npx steward subject access --email alice@example.com --out alice.zip --plaintext`)
    .action((opts: Record<string, unknown>) => run(import('./commands/subject.js').then((m) => m.subjectAccess({ ...opts, config: subjectConfig(opts), color: program.opts().color } as never, io))));
  identifierOptions(subject.command('erase'))
    .description('Erase one person (GDPR Art. 17): delete their rows children first, anonymise what the law keeps (legal minimum), keep held, exempt and shared rows with the reason, unlink other people\'s references, redact mentions in free text. Resumable; a certificate per source in the activity log.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .option('-s, --source <name>', 'only this source (repeatable, or comma-separated)', collect)
    .option('--dry-run', 'print the plan (what goes, what stays and why) and try it in a transaction that is rolled back; change nothing')
    .option('--batch-size <n>', 'rows per batch (one short transaction each; default 200)')
    .option('--abandon', 'give up the unfinished erasure of these identifiers (its plan can no longer run): what it did stays done and is logged; the next run plans again')
    .option('--json', 'machine-readable plan and certificates')
    .addHelpText('after', `
Always run --dry-run first. Rows that belong to someone else too (an address another
customer's order points at) are kept and only the subject's link goes; identifiers that
match several people stop the erasure (exit 1) before anything is written. A table dropped
or a column renamed since the audit stops it too (exit 2). Killed or stopped (Ctrl-C), the
same command resumes the same plan. One erasure or correction runs at a time per state
store; another one waits (exit 2 names the run that holds it). When a resumed plan cannot
go on (the data changed under it), --abandon gives it up and the next run plans again.

Examples:
  $ npx steward subject erase --email alice@example.com --dry-run
  $ npx steward subject erase --email alice@example.com
  $ npx steward subject erase --email alice@example.com --abandon
  $ npx steward log --action subject.erasure-certificate --json`)
    .action((opts: Record<string, unknown>) => run(import('./commands/subject.js').then((m) => m.subjectErase({ ...opts, config: subjectConfig(opts), color: program.opts().color } as never, io))));
  identifierOptions(subject.command('correct'))
    .description('Rectify one person\'s data (GDPR Art. 16): set one category (contact.email, contact.phone, identity.person_name, …) on every row of theirs that holds it, in all sources; resumable; a certificate per source in the activity log.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .option('-s, --source <name>', 'only this source (repeatable, or comma-separated)', collect)
    .requiredOption('--set <category=value>', 'the category and its new value: contact.email=alice@new.example (email=, phone= for short)')
    .option('--dry-run', 'list the tables, columns and rows it would change and try the writes in a transaction that is rolled back')
    .option('--batch-size <n>', 'rows per batch (one short transaction each; default 200)')
    .option('--abandon', 'give up the unfinished correction of these identifiers and --set: what it did stays done and is logged')
    .option('--json', 'machine-readable plan and certificates')
    .addHelpText('after', `
Neither the old nor the new value is logged: the certificate names tables, columns, row
counts and a hash of the keys. Mentions of the old value in free text are listed, not
rewritten. A unique column where another row already holds the new value stops the run
before anything is written (exit 2).

Examples:
  $ npx steward subject correct --email alice@example.com --set contact.email=alice@new.example --dry-run
  $ npx steward subject correct --email alice@example.com --set contact.email=alice@new.example
  $ npx steward subject correct --id customers.id=42 --set identity.person_name="Alice Smith"`)
    .action((opts: Record<string, unknown>) => run(import('./commands/subject.js').then((m) => m.subjectCorrect({ ...opts, config: subjectConfig(opts), color: program.opts().color } as never, io))));
  const request = program
    .command('request')
    .description('Data-subject request cases: each request with its legal deadline, identity verification, state and the result of every step; identifiers kept encrypted.')
    .addHelpText('after', `
States: received → verified → in-progress → completed; awaiting-identifier when the identifiers
match more than one person; refused (with the reason) from any open state. Deadlines: GDPR one
month from receipt (extendable once by two), CCPA 45 days (extendable by 45); configurable per
jurisdiction under subjects.requests in steward.yml.

Examples:
  $ npx steward request open --kind erasure --email alice@example.com --received 2026-12-01 --verified-by "support: ID checked"
  $ npx steward request list
  $ npx steward request run REQ-7KQ3M9`);
  const requestConfig = (opts: Record<string, unknown>) => (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
  type RequestCommands = typeof import('./commands/request.js');
  /** Runs one `request` command with the options commander parsed, the config path and the colour flag. */
  const requestAction = (call: (m: RequestCommands, opts: never) => Promise<number>, opts: Record<string, unknown>) =>
    run(import('./commands/request.js').then((m) => call(m, { ...opts, config: requestConfig(opts), color: program.opts().color } as never)));
  identifierOptions(request.command('open'))
    .description('Open a case: its deadline from the jurisdiction, its identifiers encrypted under the keyring (a key of its own), verified at once with --verified-by.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .requiredOption('--kind <kind>', 'access, erasure, rectification or find (CCPA names: know, delete, correct)')
    .option('--received <date>', 'the day the request reached you, YYYY-MM-DD (default: today, UTC); the deadline runs from it')
    .option('--jurisdiction <name>', 'gdpr, ccpa or one of subjects.requests.jurisdictions (default: subjects.requests.defaultJurisdiction)')
    .option('--verified-by <who>', 'the requester\'s identity was checked: who checked it (and how), for the record; no personal data')
    .option('--verification-method <method>', 'how it was checked (ID document, account login, …)')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Needs the master key (encryption.masterKey): the identifiers are stored only encrypted, with
keyed hashes for lookup. The activity log records the case's kinds and counts, never them.

Examples:
  $ npx steward request open --kind erasure --email alice@example.com --received 2026-12-01 --verified-by "support: ID checked"
  $ npx steward request open --kind know --jurisdiction ccpa --email bob@example.com --phone "+1 415 555 0100"
  $ npx steward request open --kind access --email carol@example.com --json | jq -r .request.id`)
    .action((opts: Record<string, unknown>) => requestAction((m, o) => m.requestOpen(o, io), opts));
  identifierOptions(request.command('list'))
    .description('Every case with its deadline and state (overdue and due-soon ones marked); never an identifier. Crypto-shreds closed cases whose time has come first.')
    .option('-c, --config <file>', 'config file')
    .option('--state <state>', 'only cases in this state (repeatable, or comma-separated)', collect)
    .option('--json', 'machine-readable')
    .addHelpText('after', `
--email/--phone/--national-id/--id list only the cases of that person (matched by keyed hash;
needs the master key).

Examples:
  $ npx steward request list
  $ npx steward request list --state in-progress,awaiting-identifier
  $ npx steward request list --email alice@example.com --json`)
    .action((opts: Record<string, unknown>) => requestAction((m, o) => m.requestList(o, io), opts));
  request
    .command('show')
    .description('One case: deadline, verification, every step with its counts and errors; its identifiers masked (a***@example.com) when the master key opens.')
    .argument('<id>', 'the case id (REQ-…)')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward request show REQ-7KQ3M9
  $ npx steward request show REQ-7KQ3M9 --json | jq .request.steps`)
    .action((id: string, opts: Record<string, unknown>) => requestAction((m, o) => m.requestShow(id, o, io), opts));
  request
    .command('verify')
    .description('Record that the requester\'s identity was checked: how, and by whom (received → verified). A case is run only once verified.')
    .argument('<id>', 'the case id')
    .option('-c, --config <file>', 'config file')
    .requiredOption('--method <method>', 'how the identity was checked (ID document, account login, signed letter…)')
    .requiredOption('--by <who>', 'who checked it (a team or role; no personal data of the requester)')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward request verify REQ-7KQ3M9 --method "ID document" --by "support: Sam"`)
    .action((id: string, opts: Record<string, unknown>) => requestAction((m, o) => m.requestVerify(id, o, io), opts));
  identifierOptions(request.command('add-identifier'))
    .description('Add identifiers to an open case (the one that tells two people apart when it waits for one); its steps run again with them.')
    .argument('<id>', 'the case id')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward request add-identifier REQ-7KQ3M9 --email alice@example.com`)
    .action((id: string, opts: Record<string, unknown>) => requestAction((m, o) => m.requestAddIdentifier(id, o, io), opts));
  request
    .command('refuse')
    .description('Close an open case as refused, with the reason (manifestly unfounded or excessive, identity not confirmed, withdrawn).')
    .argument('<id>', 'the case id')
    .option('-c, --config <file>', 'config file')
    .requiredOption('--reason <text>', 'why, for the record (no personal data)')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward request refuse REQ-7KQ3M9 --reason "identity could not be confirmed after two requests"`)
    .action((id: string, opts: Record<string, unknown>) => requestAction((m, o) => m.requestRefuse(id, o, io), opts));
  request
    .command('extend')
    .description('Extend an open case\'s deadline once, by its jurisdiction\'s extension (GDPR: to three months from receipt; CCPA: to 90 days), with the reason; only before the first deadline.')
    .argument('<id>', 'the case id')
    .option('-c, --config <file>', 'config file')
    .requiredOption('--reason <text>', 'why it needs longer, for the record (tell the requester too)')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward request extend REQ-7KQ3M9 --reason "complex: data in four systems"`)
    .action((id: string, opts: Record<string, unknown>) => requestAction((m, o) => m.requestExtend(id, o, io), opts));
  request
    .command('run')
    .description('Run a verified case\'s steps by its kind (find, then access / erase / correct) and record each result; resumable: a re-run continues, a finished step is not run again.')
    .argument('<id>', 'the case id')
    .option('-c, --config <file>', 'config file')
    .option('-o, --out <file>', 'access requests: where the package is written (default: subjects.requests.dir/<id>-access.zip.age)')
    .option('--recipient <age1…>', 'access requests: encrypt the package to this age public key (repeatable; default retention.archive.recipients)', repeat)
    .option('--plaintext', 'access requests: write the package unencrypted (it holds the person\'s data: say so explicitly)')
    .option('--set <category=value>', 'rectification requests: the category and its new value (used for the run, never stored with the case)')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Erasure cases run \`steward subject erase\` (run its --dry-run first to see the plan);
rectification cases \`steward subject correct\` with --set. A source that is down fails its step: the case stays in progress with the error recorded (exit
4), and the same command continues it. Identifiers that match more than one person leave the
case waiting for one more (exit 1: steward request add-identifier). No data found is a valid
answer: the case completes and records it.

Examples:
  $ npx steward request run REQ-7KQ3M9
  $ npx steward request run REQ-7KQ3M9 --recipient age1… --out alice.zip.age
  $ npx steward request run REQ-4HT2PW --set contact.email=alice@new.example`)
    .action((id: string, opts: Record<string, unknown>) => requestAction((m, o) => m.requestRun(id, o, io), opts));
  request
    .command('purge')
    .description('Crypto-shred the identifiers of closed cases whose shred time (subjects.requests.shredAfter after closing) has come, or of the closed cases named now.')
    .argument('[ids...]', 'closed cases to shred now, before their time')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Destroys each case's data key and clears its encrypted identifiers and lookup hashes; the case,
its deadline, verification and steps stay as evidence. Needs no master key.

Examples:
  $ npx steward request purge
  $ npx steward request purge REQ-7KQ3M9`)
    .action((ids: string[], opts: Record<string, unknown>) => requestAction((m, o) => m.requestPurge(ids, o, io), opts));
  const hold = program.command('hold').description('Legal holds: rows no retention method (erase, archive, cleanup) may touch until the hold is released or expires.');
  const holdConfig = (opts: Record<string, unknown>) => (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
  hold
    .command('add')
    .description('Place a hold on rows of a table: by SQL predicate, by a data subject\'s identifier, or the whole table. Prints its id and how many rows it holds now.')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .requiredOption('-s, --source <name>', 'the source in steward.yml')
    .requiredOption('-t, --table <table>', 'TABLE or SCHEMA.TABLE')
    .option('--where <predicate>', 'hold the rows this SQL boolean expression selects (what would follow WHERE; re-evaluated at every retention run)')
    .option('--subject-column <column>', 'hold the rows whose column matches a data subject\'s identifier now (trimmed, case-insensitive)')
    .option('--subject-value <value>', 'the identifier (never stored or logged: only an HMAC of it, and the keys of the rows it matched)')
    .option('--subject-value-env <var>', 'read the identifier from this environment variable (keeps it out of shell history)')
    .option('--all', 'hold the whole table')
    .requiredOption('--reason <text>', 'why, for the record (the case or matter; no personal data)')
    .option('--until <date>', 'the hold ends after this date (2027-06-30: through that day, UTC) or at this instant; default: until released')
    .option('--timeout <seconds>', 'longest the checking query may run (default 60)', int('--timeout', 1, 86_400))
    .option('--json', 'machine-readable')
    .addHelpText('after', `
The predicate is trusted operator input, like a WHERE typed into psql: it runs only inside
"where (…)", first in a read-only transaction to count its rows; ";", comments and unbalanced
parentheses or quotes are refused. The activity log records its SHA-256, never its text.

Examples:
  $ npx steward hold add --source shop --table orders --where "customer_id = 4711" --reason "Litigation hold, case 2026-CV-118"
  $ export SUBJECT='jane.doe@example.com'
  $ npx steward hold add --source shop --table customers --subject-column email --subject-value-env SUBJECT --reason "Case 2026-CV-118" --until 2027-06-30
  $ npx steward hold add --source shop --table public.invoices --all --reason "Tax audit 2026" --json`)
    .action((opts: Record<string, unknown>) => run(import('./commands/hold.js').then((m) => m.holdAdd({ ...opts, config: holdConfig(opts), color: program.opts().color } as never, io))));
  hold
    .command('list')
    .description('Holds in force (with --all, released and expired ones too): id, table, rows held when placed, end, what they hold, reason.')
    .option('-c, --config <file>', 'config file')
    .option('-s, --source <name>', 'only holds on this source')
    .option('--all', 'include released and expired holds')
    .option('--subject-value <value>', 'only subject holds placed on this identifier (compared by HMAC)')
    .option('--subject-value-env <var>', 'the same, reading the identifier from this environment variable')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward hold list
  $ npx steward hold list --all --source shop
  $ SUBJECT='jane.doe@example.com' npx steward hold list --subject-value-env SUBJECT --json`)
    .action((opts: Record<string, unknown>) => run(import('./commands/hold.js').then((m) => m.holdList({ ...opts, config: holdConfig(opts), color: program.opts().color } as never, io))));
  hold
    .command('release')
    .description('Release a hold (its id, or the first characters of it): its rows are subject to retention again. Logged as hold.released.')
    .argument('<id>', 'the hold id `steward hold list` shows')
    .option('-c, --config <file>', 'config file')
    .requiredOption('--reason <text>', 'why, for the record')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward hold release 3f2a9c1e --reason "Case 2026-CV-118 settled"`)
    .action((id: string, opts: Record<string, unknown>) => run(import('./commands/hold.js').then((m) => m.holdRelease(id, { ...opts, config: holdConfig(opts), color: program.opts().color } as never, io))));

  const tlsCommand = program.command('tls').description('Check encryption in transit: TLS of web servers and other TLS endpoints.');
  tlsCommand
    .command('check')
    .description('Handshake with a host: protocol versions accepted, cipher, certificate (chain, name, expiry, key), and HSTS for https:// URLs.')
    .argument('<target>', 'https://host[:port][/path] (also reads HSTS) or host:port')
    .option('--servername <name>', 'name for SNI and the certificate check (default: the host)')
    .option('--ca <pem>', 'trust these CA certificates instead of the system store (an internal CA)')
    .option('--timeout <ms>', 'per connection', int('--timeout', 100, 600_000), 10_000)
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding reaches this severity').choices(SEVERITY_CHOICES).default('high'))
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Findings: TLS 1.0/1.1 accepted (high), expired certificate (critical), expiring within
30 days (medium), self-signed or untrusted chain (high), name mismatch (high), RSA key
under 2048 bits (high), no HSTS (medium), HSTS max-age under a year (low).

Examples:
  $ npx steward tls check https://shop.example.com
  $ npx steward tls check db.internal:8443 --ca internal-ca.pem --servername db.internal
  $ npx steward tls check 10.0.0.5:443 --servername shop.example.com --fail-on medium
  $ npx steward tls check https://shop.example.com --json | jq '.findings[].rule'

Exit codes: 0 no finding reached --fail-on, 1 one did, 2 bad usage,
  4 the host could not be reached or no TLS handshake with it succeeded.`)
    .action((target: string, opts: Record<string, unknown>) => {
      run(import('./commands/tls.js').then((m) => m.tlsCheck({ ...opts, target, color: program.opts().color } as never, io)));
    });

  program
    .command('run')
    .description('Stay in the foreground and run due audit stages as time passes (a daemon without cron).')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .option('--interval <seconds>', 'longest sleep between schedule checks', int('--interval', 1, 86_400), 300)
    .addHelpText('after', `
Examples:
  $ npx steward run
  $ npx steward run --config /etc/steward/steward.yml --interval 60`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
      run(import('./commands/run.js').then((m) => m.runDaemon({ ...opts, config } as never, io)));
    });

  const log = program
    .command('log')
    .description('Show the hash-chained activity log (every audit run and, later, every change Steward makes).')
    .option('-c, --config <file>', 'config file (default: ./steward.yml, or $STEWARD_CONFIG)')
    .option('--action <action>', 'only entries of this action, e.g. audit.run')
    .option('--since <date>', 'only entries at or after this ISO-8601 date')
    .option('--limit <n>', 'only the last n entries', int('--limit', 1, 1_000_000))
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward log --limit 20
  $ npx steward log verify
  $ openssl genpkey -algorithm ed25519 -out ~/steward-log.pem && openssl pkey -in ~/steward-log.pem -pubout -out steward-log.pub
  $ npx steward log checkpoint --key ~/steward-log.pem --out checkpoints/2026-11.json
  $ npx steward log verify --checkpoint checkpoints/2026-11.json --public-key steward-log.pub`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? io.env.STEWARD_CONFIG;
      run(import('./commands/log.js').then((m) => m.logList({ ...opts, config } as never, io)));
    });
  log
    .command('verify')
    .description('Check every entry of the activity log (and optionally a signed checkpoint); exit 6 naming the first broken entry.')
    .option('-c, --config <file>', 'config file')
    .option('--checkpoint <file>', 'a checkpoint written by `steward log checkpoint`')
    .option('--public-key <pem>', 'the Ed25519 public key the checkpoint was signed with')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward log verify
  $ npx steward log verify --checkpoint cp.json --public-key steward-log.pub
  $ npx steward log verify --json | jq .firstBroken     # exit 6: {"seq":3,"reason":"changed",…}`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? (log.opts().config as string | undefined) ?? io.env.STEWARD_CONFIG;
      // `log` has its own --json, which commander gives to the parent wherever it appears.
      const json = Boolean(opts.json ?? log.opts().json);
      run(import('./commands/log.js').then((m) => m.logVerify({ ...opts, json, config } as never, io)));
    });
  log
    .command('repair')
    .description("Complete a last entry that was cut mid-write (no hash, content whole, linked to the entry before it) and log that it was repaired; anything else broken is refused.")
    .option('-c, --config <file>', 'config file')
    .option('--dry-run', 'say what would be repaired, change nothing')
    .option('--json', 'machine-readable')
    .addHelpText('after', `
Examples:
  $ npx steward log verify              # exit 6: "the last entry (41) was cut mid-write"
  $ npx steward log repair --dry-run
  $ npx steward log repair && npx steward log verify`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? (log.opts().config as string | undefined) ?? io.env.STEWARD_CONFIG;
      const json = Boolean(opts.json ?? log.opts().json);
      run(import('./commands/log.js').then((m) => m.logRepair({ ...opts, json, config } as never, io)));
    });
  log
    .command('checkpoint')
    .description('Sign the current head of the activity log with an Ed25519 private key kept away from the store.')
    .requiredOption('--key <pem>', 'Ed25519 private key (PEM)')
    .option('-c, --config <file>', 'config file')
    .option('-o, --out <file>', 'write the checkpoint here instead of stdout')
    .addHelpText('after', `
Examples:
  $ npx steward log checkpoint --key ~/steward-log.pem --out cp.json`)
    .action((opts: Record<string, unknown>) => {
      const config = (opts.config as string | undefined) ?? (log.opts().config as string | undefined) ?? io.env.STEWARD_CONFIG;
      run(import('./commands/log.js').then((m) => m.logCheckpoint({ ...opts, config } as never, io)));
    });

  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  if (argv[0] === '--version') {
    io.stdout.write(`${VERSION}\n`);
    return ExitCode.Ok;
  }
  const json = argv.includes('--json');
  const colorFlag = argv.includes('--no-color') ? false : undefined;
  let pending: Promise<number> | undefined;
  const program = buildProgram(io, (p) => {
    pending = p;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (!pending) {
      program.outputHelp();
      return ExitCode.Usage;
    }
    return await pending;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; commander has already printed usage errors.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    return reportError(io, error, { json, color: useColor(io, colorFlag, 'stderr') });
  }
}
