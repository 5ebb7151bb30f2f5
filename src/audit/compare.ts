/**
 * Pure comparison of an audit run with the previous run of the same stage.
 */
import type { DraftFinding } from './collection-review.js';
import type { AuditDiff, Finding, InventoryItem } from './types.js';

export interface PreviousAudit {
  readonly runId: string;
  readonly finishedAt: string;
  readonly findings: readonly Finding[];
  readonly inventory: readonly InventoryItem[];
}

const inventoryKey = (i: InventoryItem) => `${i.source}.${i.schema}.${i.table}.${i.column}`;

/**
 * Pure: marks findings new/existing and computes what appeared, was fixed, or
 * changed severity since the previous run. A source this run did not cover
 * (`--source other`) contributes nothing to "fixed".
 */
export function compareWithPrevious(
  drafts: readonly DraftFinding[],
  inventory: readonly InventoryItem[],
  covered: readonly string[],
  previous: PreviousAudit | null,
  /** Sources this run audited successfully (default: all covered). Only they can have "fixed" findings. */
  completed: readonly string[] = covered,
): { findings: Finding[]; diff: AuditDiff | null } {
  if (!previous) return { findings: drafts.map((d) => ({ ...d, status: 'new' as const })), diff: null };
  const coveredSet = new Set(covered);
  const completedSet = new Set(completed);
  const prevById = new Map(previous.findings.filter((f) => coveredSet.has(f.location.source)).map((f) => [f.id, f]));
  const findings: Finding[] = drafts.map((d) => ({ ...d, status: prevById.has(d.id) ? 'existing' : 'new' }));
  const currentIds = new Set(findings.map((f) => f.id));
  const prevInv = new Set(previous.inventory.filter((i) => completedSet.has(i.source)).map((i) => `${inventoryKey(i)}:${i.category}`));
  const curInv = new Set(inventory.map((i) => `${inventoryKey(i)}:${i.category}`));
  return {
    findings,
    diff: {
      previousRunId: previous.runId,
      previousFinishedAt: previous.finishedAt,
      appeared: findings.filter((f) => f.status === 'new'),
      // An unreachable source's old findings are not fixed: nobody looked.
      fixed: [...prevById.values()].filter((f) => !currentIds.has(f.id) && completedSet.has(f.location.source)),
      changedSeverity: findings.flatMap((f) => {
        const p = prevById.get(f.id);
        return p && p.severity !== f.severity ? [{ finding: f, from: p.severity }] : [];
      }),
      inventoryAdded: [...curInv].filter((k) => !prevInv.has(k)).sort(),
      inventoryRemoved: [...prevInv].filter((k) => !curInv.has(k)).sort(),
    },
  };
}
