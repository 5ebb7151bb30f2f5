/**
 * Every built-in detector runs in time linear in its input: test() and scan()
 * are fed ~1 MB hostile strings of many shapes (long runs, repeated
 * separators, near-miss prefixes, dense valid matches). Each call must finish
 * well under a second, and 1 MB must cost at most ~20× what 100 KB costs
 * (a quadratic matcher shows ×100).
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_DETECTORS } from '../../../src/detection/detectors/index.js';
import type { ValueDetector } from '../../../src/detection/types.js';
import { maskValue } from '../../../src/detection/mask.js';
import { HOSTILE_SHAPES } from './hostile.js';

const BIG = 1_000_000;
const SMALL = 100_000;
const MAX_MS = 500;
/** Below this (per MB), timer granularity dominates and the ratio is not meaningful. */
const RATIO_FLOOR_MS = 20;
const MAX_RATIO = 20;

/**
 * Best of `runs` CPU-time measurements (user + system, ms) of `f`. CPU time,
 * not wall time: the suite shares the machine with other test files and other
 * jobs, and a preempted run must not look slow. Best-of filters GC pauses.
 */
function ms(f: () => void, runs = 1): number {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const c = process.cpuUsage();
    f();
    const d = process.cpuUsage(c);
    best = Math.min(best, (d.user + d.system) / 1000);
  }
  return best;
}

function drain(d: ValueDetector, text: string): number {
  let n = 0;
  for (const _ of d.scan!(text)) n++;
  return n;
}

/**
 * Scan timings for 100 KB (ten back-to-back scans, divided by ten, so both
 * timings span similar durations) and 1 MB. Re-measured up to twice when the
 * first reading fails, so one GC pause or a busy machine does not fail the run.
 */
function measureScan(d: ValueDetector, small: string, big: string): { small: number; big: number; ratio: number; ok: boolean } {
  drain(d, small); // JIT warm-up
  let best = { small: 0, big: Infinity, ratio: Infinity, ok: false };
  for (let attempt = 0; attempt < 3 && !best.ok; attempt++) {
    const tSmall = ms(() => {
      for (let k = 0; k < 10; k++) drain(d, small);
    }) / 10;
    const tBig = ms(() => drain(d, big));
    const ratio = tBig / Math.max(tSmall, 0.001);
    const ok = tBig < MAX_MS && (tBig < RATIO_FLOOR_MS || ratio < MAX_RATIO);
    if (ok || tBig < best.big) best = { small: tSmall, big: tBig, ratio, ok };
  }
  return best;
}

const inputs = HOSTILE_SHAPES.map(([name, build]) => ({ name, big: build(BIG), small: build(SMALL) }));

describe.each(BUILTIN_DETECTORS.map((d) => [d.id, d] as const))('%s runs in linear time', (_id, d) => {
  it('test() bails fast on 1 MB hostile values', () => {
    for (const { name, big } of inputs) {
      const t = ms(() => d.test(big));
      expect(t, `${name}: ${t.toFixed(1)} ms`).toBeLessThan(MAX_MS);
    }
  });

  it.runIf(d.scan !== undefined)('scan() handles 1 MB hostile text linearly', () => {
    for (const { name, big, small } of inputs) {
      const m = measureScan(d, small, big);
      expect(m.big, `${name}: 1 MB took ${m.big.toFixed(1)} ms`).toBeLessThan(MAX_MS);
      expect(m.ok, `${name}: 100 KB ${m.small.toFixed(2)} ms → 1 MB ${m.big.toFixed(1)} ms (×${m.ratio.toFixed(1)})`).toBe(true);
    }
  });
});

describe('maskValue on 1 MB values', () => {
  it('is fast and returns a short mask', () => {
    for (const { name, big } of inputs) {
      let out = '';
      const t = ms(() => {
        out = maskValue(big);
      });
      expect(t, name).toBeLessThan(MAX_MS);
      expect(out.length, name).toBeLessThanOrEqual(64);
    }
  });
});
