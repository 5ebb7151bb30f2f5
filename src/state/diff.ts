/**
 * Comparing an audit with a stored run. Pure; the rules live in
 * src/audit/compare.ts (shared with the audit itself) so there is one definition of
 * "new", "fixed" and "changed severity":
 *
 * - Findings match by their stable id. A finding whose severity changed is
 *   `existing` and listed in `changedSeverity`, not as appeared + fixed.
 * - Only sources in `coveredSources` — the sources this run audited
 *   successfully — can have fixed findings or removed inventory; a run with
 *   `--source shop` says nothing about `crm`.
 * - Inventory entries are `source.schema.table.column:category`. A column whose
 *   category changed (say `identity.person_name` → `contact.email`) is listed as
 *   removed under the old category and added under the new one: to a reader of
 *   the data map, that is a different kind of personal data in that place.
 */
import { compareWithPrevious } from '../audit/compare.js';
import type { AuditDiff, Finding, InventoryItem } from '../audit/types.js';
import type { StoredRun } from './store.js';

export interface StoredAudit {
  readonly run: Pick<StoredRun, 'id' | 'finishedAt'>;
  readonly findings: readonly Finding[];
  readonly inventory: readonly InventoryItem[];
}

/**
 * What changed between `previous` and `current`.
 *
 * @example
 * const prev = await store.previousRun('collection', { sources: covered });
 * const diff = prev && diffAudits(current, {
 *   run: prev, findings: await store.loadFindings(prev.id), inventory: await store.loadInventory(prev.id),
 * }, covered);
 */
export function diffAudits(
  current: { readonly findings: readonly Finding[]; readonly inventory: readonly InventoryItem[] },
  previous: StoredAudit,
  coveredSources: readonly string[],
): AuditDiff {
  const { diff } = compareWithPrevious(current.findings, current.inventory, coveredSources, toPrevious(previous));
  // compareWithPrevious returns a diff whenever it is given a previous run.
  return diff!;
}

/** The findings with `status` set: `new` unless the previous run (within `coveredSources`) had the same id. */
export function markNew(
  findings: readonly Finding[],
  previous: StoredAudit | null,
  coveredSources: readonly string[],
): Finding[] {
  return compareWithPrevious(findings, [], coveredSources, previous && toPrevious(previous)).findings;
}

function toPrevious(p: StoredAudit) {
  return { runId: p.run.id, finishedAt: p.run.finishedAt, findings: p.findings, inventory: p.inventory };
}
