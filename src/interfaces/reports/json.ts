/**
 * `steward audit --json`: the AuditReport as JSON, documented in
 * docs/report-schema.md. Keys come out in one fixed order — each object's
 * fields in the order the documentation lists them, then any keys this version
 * does not know, sorted — so two runs with the same results give byte-identical
 * files whatever order the report object was built in, and diffs stay readable.
 */
import { SEVERITIES, type AuditReport } from '../../audit/types.js';
import { stringifyJson } from './format.js';

/** The order of an object's known keys, and the shapes of its children. `data`: keys are data, sorted. */
type Shape = { readonly keys: readonly string[]; readonly children?: Readonly<Record<string, Shape>> } | 'data';

const LOCATION: Shape = { keys: ['source', 'schema', 'table', 'column'] };
const FINDING: Shape = {
  keys: ['id', 'rule', 'severity', 'status', 'title', 'message', 'remedy', 'location', 'category'],
  children: { location: LOCATION },
};
const EVIDENCE: Shape = {
  keys: ['signals', 'sampled', 'matched'],
  children: { signals: { keys: ['kind', 'rule', 'language', 'detector', 'matched', 'rows', 'sampled', 'reason'] } },
};
const INVENTORY_ITEM: Shape = {
  keys: ['source', 'schema', 'table', 'column', 'dataType', 'category', 'risk', 'confidence', 'rowEstimate', 'purpose', 'evidence', 'freeText', 'examples'],
  children: { evidence: EVIDENCE, freeText: { keys: ['category', 'detector', 'rows'] } },
};
const SOURCE: Shape = {
  keys: ['name', 'kind', 'owner', 'status', 'error', 'tables', 'columns', 'durationMs', 'purposes', 'inventory'],
  children: {
    error: { keys: ['code', 'message'] },
    purposes: { keys: ['name', 'categories'] },
    inventory: INVENTORY_ITEM,
  },
};
export const REPORT_SHAPE: Shape = {
  keys: ['schemaVersion', 'tool', 'run', 'summary', 'sources', 'findings', 'diff'],
  children: {
    tool: { keys: ['name', 'version'] },
    run: { keys: ['id', 'stage', 'startedAt', 'finishedAt'] },
    summary: {
      keys: ['sources', 'tables', 'columns', 'personalColumns', 'findingsBySeverity', 'categories'],
      children: { findingsBySeverity: { keys: SEVERITIES }, categories: 'data' },
    },
    sources: SOURCE,
    findings: FINDING,
    diff: {
      keys: ['previousRunId', 'previousFinishedAt', 'appeared', 'fixed', 'changedSeverity', 'inventoryAdded', 'inventoryRemoved'],
      children: {
        appeared: FINDING,
        fixed: FINDING,
        changedSeverity: { keys: ['finding', 'from'], children: { finding: FINDING } },
      },
    },
  },
};

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function ordered(value: unknown, shape: Shape | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => ordered(v, shape));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let sorted: string[];
  if (shape === undefined || shape === 'data') {
    sorted = keys.sort(byCodeUnit);
  } else {
    const known = shape.keys.filter((k) => Object.prototype.hasOwnProperty.call(obj, k));
    const knownSet = new Set(shape.keys);
    sorted = [...known, ...keys.filter((k) => !knownSet.has(k)).sort(byCodeUnit)];
  }
  // Null prototype: a key named "__proto__" stays an ordinary key.
  const out = Object.create(null) as Record<string, unknown>;
  const children = shape !== undefined && shape !== 'data' ? shape.children : undefined;
  for (const k of sorted) out[k] = ordered(obj[k], children?.[k]);
  return out;
}

/** The report as pretty-printed JSON with a deterministic key order (no trailing newline). */
export function renderJson(report: AuditReport): string {
  return stringifyJson(ordered(report, REPORT_SHAPE), 2);
}
