/**
 * SARIF 2.1.0 for CI systems (GitHub code scanning, GitLab, Azure DevOps).
 * One run; one rule per distinct finding rule; one result per finding with its
 * level mapped from the severity, the database location as logical locations
 * (source → schema → table → column), and the stable finding id as the
 * partial fingerprint, so an alert stays one alert across runs.
 *
 * Code scanning insists on a physical location inside the repository: each
 * result also points at the Steward config file (where purposes are declared
 * and where most fixes start), `steward.yml` unless told otherwise.
 */
import { severityRank, type AuditReport, type Finding, type FindingRule, type Location, type Severity } from '../../audit/types.js';
import { categoryLabel, locationPath, sortFindings, stringifyJson } from './format.js';

export interface SarifOptions {
  /** Repository-relative path of the config file the results point at. Default `steward.yml`. */
  readonly artifactUri?: string;
}

export type SarifLevel = 'error' | 'warning' | 'note' | 'none';

export const SARIF_LEVEL: Readonly<Record<Severity, SarifLevel>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub's `security-severity` (CVSS-like 0–10) per severity. */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

/** Rules without text here fall back to a name derived from the rule id (see ruleText). */
const RULE_TEXT: Readonly<Partial<Record<FindingRule, { name: string; short: string; full: string }>>> = {
  'collection.purpose-not-declared': {
    name: 'PurposeNotDeclared',
    short: 'Personal data kept without a declared purpose',
    full: 'A column holds a category of personal data that no purpose declared for its source covers. Data minimisation (GDPR Art. 5(1)(c)) asks whether the data is needed at all.',
  },
  'collection.plaintext-high-risk': {
    name: 'PlaintextHighRisk',
    short: 'High-risk personal data stored in plain text',
    full: 'Payment cards, government ids, bank accounts, secrets or health data are stored unencrypted.',
  },
  'collection.free-text-pii': {
    name: 'FreeTextPersonalData',
    short: 'Personal data inside free text',
    full: 'A free-text column (notes, tickets, messages) contains personal data, which escapes column-level controls, retention and subject-access searches.',
  },
  'collection.source-unreachable': {
    name: 'SourceUnreachable',
    short: 'Source could not be audited',
    full: 'Steward could not connect to or read a configured source, so its personal data could not be mapped.',
  },
  'collection.table-unreadable': {
    name: 'TableUnreadable',
    short: 'Table could not be sampled',
    full: "Steward's database user cannot read a table; its columns were classified by name only.",
  },
  'collection.no-tables': {
    name: 'NoTables',
    short: 'No tables found',
    full: 'A source or schema has no tables or views Steward can see; the configuration may point at the wrong database.',
  },
  'collection.column-not-sampled': {
    name: 'ColumnNotSampled',
    short: 'Binary columns not inspected',
    full: 'Binary columns (files, images, serialized values) were not sampled: personal data inside them is not detected.',
  },
  'config.unknown-name': {
    name: 'UnknownName',
    short: 'A name in the configuration matches nothing',
    full: 'A schema, table, column, principal or category named in the configuration does not exist in the source, so the check it configures does nothing.',
  },
  'integrity.encrypted-not-checked': {
    name: 'EncryptedNotChecked',
    short: 'Encrypted values not checked',
    full: 'Values that are Steward ciphertexts were left out of the integrity format checks, which cannot read them.',
  },
  'schedule.stage-overdue': {
    name: 'StageOverdue',
    short: 'Audit stage overdue',
    full: 'An audit stage ran later than its schedule (quarterly collection review, monthly access verification, bi-annual integrity check by default).',
  },
  'subjects.request-overdue': {
    name: 'RequestOverdue',
    short: 'Data-subject request overdue',
    full: 'An open data-subject request (steward request) is past its legal deadline (GDPR: one month from receipt, extendable by two; CCPA: 45 days, extendable by 45).',
  },
  'subjects.request-due-soon': {
    name: 'RequestDueSoon',
    short: 'Data-subject request due soon',
    full: 'An open data-subject request (steward request) reaches its legal deadline within subjects.requests.dueSoonDays (default 7).',
  },
};

function ruleText(rule: string): { name: string; short: string; full: string } {
  return (
    (RULE_TEXT as Record<string, { name: string; short: string; full: string }>)[rule] ?? {
      name: rule.replace(/(^|[.-])(\w)/g, (_, __: string, ch: string) => ch.toUpperCase()),
      short: rule,
      full: rule,
    }
  );
}

interface LogicalLocation {
  name: string;
  fullyQualifiedName: string;
  kind: string;
  parentIndex?: number;
}

/** The address of a location as a dotted path under its source: `shop/public.orders.card_number`. */
function fqn(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0]! : `${parts[0]}/${parts.slice(1).join('.')}`;
}

export function renderSarif(report: AuditReport, options: SarifOptions = {}): string {
  const artifactUri = options.artifactUri ?? 'steward.yml';
  const findings = sortFindings(report.findings);

  // Rules: one per distinct rule, in first-seen order of the sorted findings.
  const ruleIds: string[] = [];
  const worst = new Map<string, Severity>();
  for (const f of findings) {
    if (!worst.has(f.rule)) ruleIds.push(f.rule);
    const w = worst.get(f.rule);
    if (!w || severityRank(f.severity) > severityRank(w)) worst.set(f.rule, f.severity);
  }
  const rules = ruleIds.map((id) => {
    const t = ruleText(id);
    const sev = worst.get(id)!;
    return {
      id,
      name: t.name,
      shortDescription: { text: t.short },
      fullDescription: { text: t.full },
      help: { text: `${t.full} Each result carries the specific remedy.` },
      defaultConfiguration: { level: SARIF_LEVEL[sev] },
      properties: {
        tags: ['privacy', 'personal-data', 'steward', id.split('.')[0]!],
        'problem.severity': SARIF_LEVEL[sev] === 'note' ? 'recommendation' : SARIF_LEVEL[sev],
        'security-severity': SECURITY_SEVERITY[sev],
      },
    };
  });

  // Logical locations: source → schema → table → column, each listed once.
  const logical: LogicalLocation[] = [];
  const index = new Map<string, number>();
  const KINDS = ['database', 'schema', 'table', 'column'] as const;
  function locate(l: Location): number {
    const parts = [l.source, l.schema, l.table, l.column];
    let parent: number | undefined;
    const path: string[] = [];
    for (let depth = 0; depth < parts.length; depth++) {
      const p = parts[depth];
      if (p === undefined || p === '') continue;
      path.push(p);
      const key = JSON.stringify([depth, ...path]);
      let i = index.get(key);
      if (i === undefined) {
        i = logical.length;
        logical.push({ name: p, fullyQualifiedName: fqn(path), kind: KINDS[depth]!, ...(parent !== undefined ? { parentIndex: parent } : {}) });
        index.set(key, i);
      }
      parent = i;
    }
    return parent!;
  }

  const results = findings.map((f: Finding) => {
    const li = locate(f.location);
    const where = locationPath(f.location);
    return {
      ruleId: f.rule,
      ruleIndex: ruleIds.indexOf(f.rule),
      level: SARIF_LEVEL[f.severity],
      message: { text: `${f.title}: ${f.message} Remedy: ${f.remedy}` },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: artifactUri }, region: { startLine: 1 } },
          logicalLocations: [{ index: li, fullyQualifiedName: logical[li]!.fullyQualifiedName, kind: logical[li]!.kind }],
          message: { text: where ? `${f.location.source}: ${where}` : f.location.source },
        },
      ],
      partialFingerprints: { 'stewardFindingId/v1': f.id },
      properties: {
        stewardId: f.id,
        severity: f.severity,
        status: f.status,
        remedy: f.remedy,
        ...(f.category ? { category: f.category, categoryLabel: categoryLabel(f.category) } : {}),
      },
    };
  });

  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Steward',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            rules,
          },
        },
        automationDetails: { id: `steward/${report.run.stage}/${report.run.id}` },
        invocations: [
          {
            executionSuccessful: report.sources.every((s) => s.status === 'ok'),
            startTimeUtc: report.run.startedAt,
            endTimeUtc: report.run.finishedAt,
          },
        ],
        logicalLocations: logical,
        results,
        properties: {
          stewardRunId: report.run.id,
          schemaVersion: report.schemaVersion,
          summary: report.summary,
        },
      },
    ],
  };
  return stringifyJson(sarif, 2);
}
