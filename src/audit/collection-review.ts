/**
 * Data collection review — the first audit stage of the source text ("Identify
 * data sources: track where customer information originates and confirm its
 * relevance"). Pure functions from an inventory to findings; no I/O.
 */
import { shellCommand } from '../shell.js';
import { createHash } from 'node:crypto';
import { categoryInfo, categoryMatches } from '../detection/taxonomy.js';
import type { Finding, FindingRule, InventoryItem, Location, Severity } from './types.js';

export interface ResolvedPurpose {
  readonly name: string;
  readonly categories: readonly string[];
}

/** A finding before it is compared with the previous run. */
export type DraftFinding = Omit<Finding, 'status'>;

const RULE_CODES: Record<FindingRule, string> = {
  'collection.purpose-not-declared': 'PND',
  'collection.plaintext-high-risk': 'PHR',
  'collection.free-text-pii': 'FTP',
  'collection.source-unreachable': 'SRC',
  'collection.table-unreadable': 'TBL',
  'collection.no-tables': 'EMP',
  'collection.column-not-sampled': 'BIN',
  'config.unknown-name': 'CFG',
  'schedule.stage-overdue': 'OVD',
  'subjects.request-overdue': 'DSO',
  'subjects.request-due-soon': 'DSD',
  'access.unauthorized-read': 'ACR',
  'access.file-readable': 'AFR',
  'access.directory-writable': 'ADW',
  'access.privileged-role': 'APR',
  'access.password-no-expiry': 'APX',
  'access.rls-disabled': 'RLS',
  'access.default-privileges': 'ADP',
  'access.weak-account': 'AWK',
  'retention.overdue-data': 'RET',
  'retention.no-reference-date': 'RND',
  'retention.policy-invalid': 'RPI',
  'transit.url-accepts-plaintext': 'TUP',
  'transit.url-unverified-tls': 'TUV',
  'transit.session-unencrypted': 'TSU',
  'transit.server-tls-not-required': 'TNR',
  'access.catalog-unreadable': 'ACU',
  'integrity.invalid-values': 'INV',
  'integrity.duplicates': 'DUP',
  'integrity.required-null': 'REQ',
  'integrity.stale-records': 'STL',
  'integrity.orphaned-rows': 'ORP',
  'integrity.encrypted-not-checked': 'ENC',
};

/**
 * Same rule, same place, same category → same id, run after run, machine after
 * machine. The id is what history, diffs and suppressions key on.
 */
export function findingId(rule: FindingRule, location: Location, category?: string): string {
  const key = [rule, location.source, location.schema ?? '', location.table ?? '', location.column ?? '', category ?? ''].join('\u0000');
  return `${RULE_CODES[rule]}-${createHash('sha256').update(key).digest('hex').slice(0, 10)}`;
}

/** The purpose covering a category, or null. */
export function coveringPurpose(purposes: readonly ResolvedPurpose[], category: string): string | null {
  for (const p of purposes) if (p.categories.some((c) => categoryMatches(c, category))) return p.name;
  return null;
}

export function where(l: Location): string {
  return [l.schema, l.table, l.column].filter(Boolean).join('.') || l.source;
}

function draft(rule: FindingRule, severity: Severity, location: Location, fields: { title: string; message: string; remedy: string; category?: string }): DraftFinding {
  return {
    id: findingId(rule, location, fields.category),
    rule,
    severity,
    location,
    ...fields,
  };
}

const PLAINTEXT_REMEDY: Record<string, string> = {
  'financial.card':
    'Do not keep full card numbers: store your payment provider\'s token and at most the last four digits (PCI DSS 3.4), or encrypt the column until you can drop it.',
  'credentials.secret':
    'Store passwords only as slow salted hashes (argon2id, bcrypt) and move API tokens to a secrets manager; rotate every secret that was stored in plain text.',
  'identity.government_id':
    'Encrypt the column with a per-column key and keep a blind index if you must look values up; drop it if no purpose needs it.',
  'financial.bank_account':
    'Encrypt the column with a per-column key, or keep only the payment provider\'s mandate reference.',
  'special.health':
    'Special-category data (GDPR Art. 9): encrypt the column, restrict who can read it, and document the Art. 9(2) condition you rely on.',
};

function plaintextSeverity(category: string): Severity {
  return category === 'financial.card' || category === 'credentials.secret' ? 'critical' : 'high';
}

/**
 * Findings for one source's inventory:
 * - personal data whose category no declared purpose covers ("is this data relevant?");
 * - high-risk categories stored in plain text (cards, government ids, secrets, bank accounts, health);
 * - personal data embedded in free text.
 */
export function reviewInventory(
  source: string,
  purposes: readonly ResolvedPurpose[],
  inventory: readonly InventoryItem[],
): DraftFinding[] {
  const findings: DraftFinding[] = [];
  for (const item of inventory) {
    const location: Location = { source, schema: item.schema, table: item.table, column: item.column };
    const info = categoryInfo(item.category);
    const encrypted = item.evidence.signals.some((s) => s.kind === 'steward-ciphertext');
    const col = `${item.table}.${item.column}`;
    // No value sampled (only NULLs, an empty or unreadable table): the category comes from the name
    // alone, and nothing says what the values would be or how they are stored. Say so, at low severity.
    const unseen = item.evidence.sampled === 0 && !item.evidence.signals.some((s) => s.kind === 'values' || s.kind === 'free-text');
    const byName = `no value was sampled (the column holds only NULLs, or the table is empty or could not be read), so Steward classified it by its ${item.evidence.signals.some((s) => s.kind === 'context' && s.reason.startsWith('column rule')) ? 'column rule' : 'name'} only`;

    const categoriesHere = item.category === 'content.free_text' ? item.freeText.map((h) => h.category) : [item.category];
    for (const category of categoriesHere) {
      if (coveringPurpose(purposes, category) !== null) continue;
      const ci = categoryInfo(category);
      findings.push(
        draft('collection.purpose-not-declared', unseen ? 'low' : ci.risk === 'high' ? 'high' : 'medium', location, {
          category,
          title: `${ci.label} kept without a declared purpose`,
          message: unseen
            ? `${col} in source "${source}" is named like ${category}, and no purpose declared for "${source}" covers that category; ${byName}.`
            : `${col} in source "${source}" holds ${category} (≈${fmtRows(item.rowEstimate)}), and no purpose declared for "${source}" covers that category.`,
          remedy: `If the data is needed, add "${category}" to a purpose of source "${source}" in steward.yml with its legal basis; if not, stop collecting it and delete the column.`,
        }),
      );
    }

    if (info.encryptionRequired && !encrypted) {
      const encryptIt = `\`${shellCommand('steward', 'encrypt', '--source', source, '--column', `${item.table}.${item.column}`, '--dry-run')}\``;
      findings.push(
        unseen
          ? draft('collection.plaintext-high-risk', 'low', location, {
              category: item.category,
              title: `${info.label} column, no value sampled`,
              message: `${col} is named like ${item.category}, but ${byName}: whether its values would be stored in plain text is unknown.`,
              remedy: `If the column is meant to hold ${item.category}, protect it before it fills. ${PLAINTEXT_REMEDY[item.category] ?? 'Encrypt the column with a per-column key, or drop it if no purpose needs it.'} Once it holds values, run ${encryptIt}, then without --dry-run. If it is unused, drop it.`,
            })
          : draft('collection.plaintext-high-risk', plaintextSeverity(item.category), location, {
              category: item.category,
              title: `${info.label} stored in plain text`,
              message: `${col} holds ${item.category} in plain text: ${item.evidence.matched || item.evidence.sampled} of ${item.evidence.sampled} sampled values; ≈${fmtRows(item.rowEstimate)}.`,
              remedy: `${PLAINTEXT_REMEDY[item.category] ?? 'Encrypt the column with a per-column key, or drop it if no purpose needs it.'} To encrypt it in place while the application runs: ${encryptIt}, then without --dry-run.`,
            }),
      );
    }

    if (item.freeText.length > 0) {
      const parts = item.freeText.map((h) => `${h.category} in ${h.rows}`).join(', ');
      const high = item.freeText.some((h) => categoryInfo(h.category).risk === 'high');
      findings.push(
        draft('collection.free-text-pii', high ? 'high' : 'medium', location, {
          title: 'Personal data inside free text',
          message: `${col} is free text, and ${item.evidence.matched} of ${item.evidence.sampled} sampled rows contain personal data (${parts}).`,
          remedy: 'Free text escapes column-level controls: redact personal data at write time, and make sure retention policies and subject-access searches cover this column.',
        }),
      );
    }
  }
  return findings;
}

export function sourceUnreachableFinding(source: string, code: string, message: string): DraftFinding {
  return draft('collection.source-unreachable', 'high', { source }, {
    title: 'Source could not be audited',
    message: `${message} (${code}).`,
    remedy: 'Fix the connection (server up, sources[].url, credentials) and re-run `steward audit`; data that cannot be audited cannot be shown to be safe.',
  });
}

export function tableUnreadableFinding(
  source: string,
  schema: string,
  table: string,
  code: string,
  message: string,
  consequence = 'Its columns were classified by name only.',
): DraftFinding {
  return draft('collection.table-unreadable', 'medium', { source, schema, table }, {
    title: 'Table could not be read',
    message: `${message} (${code}). ${consequence}`,
    remedy: `Grant Steward's database user SELECT on ${schema}.${table}, or list it under sources[].exclude in steward.yml if it is out of scope.`,
  });
}

/** A binary column the review did not read, and the category its name suggests (null: none). */
export interface BinaryColumn {
  readonly column: string;
  readonly dataType: string;
  readonly suggests: string | null;
}

/** One per table: its binary columns were not sampled; low when a name suggests personal data, else info. */
export function binaryNotSampledFinding(source: string, schema: string, table: string, columns: readonly BinaryColumn[]): DraftFinding {
  const listed = columns.map((c) => `${c.column} (${c.dataType}${c.suggests ? `; its name suggests ${c.suggests}` : ''})`).join(', ');
  const n = columns.length;
  return draft('collection.column-not-sampled', columns.some((c) => c.suggests) ? 'low' : 'info', { source, schema, table }, {
    title: n === 1 ? 'Binary column not inspected' : 'Binary columns not inspected',
    message: `${schema}.${table}: ${n === 1 ? 'the binary column' : `${n} binary columns`} ${listed} ${n === 1 ? 'was' : 'were'} not sampled. Steward reads text, numbers and dates; personal data inside files, images or serialized values is not detected, and ${n === 1 ? 'this column is' : 'these columns are'} not in the inventory.`,
    remedy: `Find out what ${n === 1 ? 'it holds' : 'they hold'}: files and serialized data can carry personal data (scans of identity documents, signed forms). If so, cover it by a declared purpose and a retention policy and restrict who reads ${schema}.${table}; once you know it holds none, list ${n === 1 ? 'it' : 'them'} under sources[].exclude ("${table}.${columns[0]!.column}") to close this finding.`,
  });
}

export function noTablesFinding(source: string): DraftFinding {
  return draft('collection.no-tables', 'info', { source }, {
    title: 'No tables found',
    message: `Source "${source}" has no tables or views Steward can see.`,
    remedy: 'Check that sources[].url points at the right database and that sources[].schemas names the schemas that hold your tables.',
  });
}

export function fmtRows(n: number): string {
  if (n < 0) return '? rows';
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M rows`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k rows`;
  return `${n} rows`;
}

/** A stage that ran (or is running) later than its schedule allowed: evidence a compliance reader needs. */
export function stageOverdueFinding(source: string, stage: string, frequency: string, dueAt: Date, overdueByMs: number): DraftFinding {
  const days = Math.ceil(overdueByMs / 86_400_000);
  return draft('schedule.stage-overdue', days > 30 ? 'medium' : 'low', { source }, {
    category: `stage:${stage}`,
    title: `The ${stage} audit stage is overdue`,
    message: `Source "${source}": the ${stage} stage (every ${frequency}) was due at ${dueAt.toISOString()} and is ${days} day(s) late.`,
    remedy: 'Run due stages from cron with `steward audit --due`, or keep `steward run` running, so that audits happen on their schedule.',
  });
}
