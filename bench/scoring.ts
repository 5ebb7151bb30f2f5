/** Precision/recall over labelled predictions, shared by the accuracy and detect benchmarks. */

export interface Prediction {
  readonly dialect?: string;
  readonly table?: string;
  readonly column?: string;
  readonly label: string | null;
  readonly predicted: string | null;
}

export interface Score {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
}

export interface Scores {
  /** Exact category: right category counts, a wrong category is both a FP and a FN. */
  readonly overall: Score;
  /** Personal vs not, whatever the category. */
  readonly personal: Score;
  readonly perCategory: ReadonlyMap<string, Score>;
}

function mk(tp: number, fp: number, fn: number): Score {
  return { tp, fp, fn, precision: tp + fp ? tp / (tp + fp) : 1, recall: tp + fn ? tp / (tp + fn) : 1 };
}

export function score(predictions: readonly Prediction[]): Scores {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let ptp = 0;
  let pfp = 0;
  let pfn = 0;
  const cats = new Map<string, { tp: number; fp: number; fn: number }>();
  const c = (k: string) => {
    let e = cats.get(k);
    if (!e) cats.set(k, (e = { tp: 0, fp: 0, fn: 0 }));
    return e;
  };
  for (const p of predictions) {
    if (p.label !== null && p.predicted !== null) ptp++;
    else if (p.predicted !== null) pfp++;
    else if (p.label !== null) pfn++;
    if (p.predicted !== null && p.predicted === p.label) {
      tp++;
      c(p.label).tp++;
      continue;
    }
    if (p.predicted !== null) {
      fp++;
      c(p.predicted).fp++;
    }
    if (p.label !== null) {
      fn++;
      c(p.label).fn++;
    }
  }
  return {
    overall: mk(tp, fp, fn),
    personal: mk(ptp, pfp, pfn),
    perCategory: new Map([...cats.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, mk(v.tp, v.fp, v.fn)])),
  };
}

const pct = (n: number) => n.toFixed(3);

export function printScores(s: Scores, title = ''): void {
  if (title) console.log(title);
  console.log('category                     TP   FP   FN  precision  recall');
  for (const [k, v] of s.perCategory) {
    console.log(`${k.padEnd(27)} ${String(v.tp).padStart(4)} ${String(v.fp).padStart(4)} ${String(v.fn).padStart(4)}  ${pct(v.precision).padStart(9)}  ${pct(v.recall).padStart(6)}`);
  }
  const o = s.overall;
  console.log(`${'ALL (exact category)'.padEnd(27)} ${String(o.tp).padStart(4)} ${String(o.fp).padStart(4)} ${String(o.fn).padStart(4)}  ${pct(o.precision).padStart(9)}  ${pct(o.recall).padStart(6)}`);
  const p = s.personal;
  console.log(`${'ALL (personal or not)'.padEnd(27)} ${String(p.tp).padStart(4)} ${String(p.fp).padStart(4)} ${String(p.fn).padStart(4)}  ${pct(p.precision).padStart(9)}  ${pct(p.recall).padStart(6)}`);
}
