/**
 * Ids, ordering and `--fail-on` for transit findings. Pure.
 */
import { createHash } from 'node:crypto';
import { SEVERITIES, severityRank, type Severity } from '../audit/types.js';
import type { TransitFinding, TransitRule } from './types.js';

const RULE_CODES: Record<TransitRule, string> = {
  'tls.protocol-outdated': 'TLP',
  'tls.cert-expired': 'TLX',
  'tls.cert-expiring': 'TLE',
  'tls.cert-not-yet-valid': 'TLN',
  'tls.cert-untrusted': 'TLU',
  'tls.hostname-mismatch': 'TLH',
  'tls.weak-key': 'TLK',
  'tls.hsts-missing': 'HST',
  'tls.hsts-short': 'HSS',
  'transit.url-accepts-plaintext': 'TRP',
  'transit.url-unverified-tls': 'TRV',
  'transit.session-unencrypted': 'TRS',
  'transit.server-tls-not-required': 'TRR',
};

/** Same rule, same subject → same id, run after run (`TLP-3f9a0c12de`). */
export function transitFindingId(rule: TransitRule, subject: string): string {
  return `${RULE_CODES[rule]}-${createHash('sha256').update(`${rule}\u0000${subject}`).digest('hex').slice(0, 10)}`;
}

export function transitFinding(rule: TransitRule, subject: string, fields: Omit<TransitFinding, 'id' | 'rule' | 'subject'>): TransitFinding {
  return { id: transitFindingId(rule, subject), rule, subject, ...fields };
}

/** Worst first, then by rule. */
export function sortTransitFindings(findings: readonly TransitFinding[]): TransitFinding[] {
  return [...findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.rule.localeCompare(b.rule, 'en') || a.subject.localeCompare(b.subject, 'en'));
}

/** True when a finding is at least as severe as `failOn` (`never` never fails). */
export function reachesFailOn(findings: readonly TransitFinding[], failOn: Severity | 'never'): boolean {
  if (failOn === 'never') return false;
  return findings.some((f) => severityRank(f.severity) >= severityRank(failOn));
}

export function countTransitBySeverity(findings: readonly TransitFinding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return counts;
}
