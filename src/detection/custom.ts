/**
 * User-defined detectors from `steward.yml` (`detection.detectors`). Patterns
 * are compiled by the config loader on V8's linear-time regexp engine, so a
 * hostile pattern cannot stall an audit.
 */
import type { Category } from './taxonomy.js';
import type { Match, ValueDetector } from './types.js';

export interface CustomDetectorSpec {
  readonly id: string;
  readonly category: Category;
  /** Whole-value pattern (anchored by Steward). */
  readonly pattern: RegExp;
  readonly scanFreeText: boolean;
}

const MAX_VALUE = 4096;

export function createCustomDetector(spec: CustomDetectorSpec): ValueDetector {
  const flags = spec.pattern.flags.replace('g', '');
  const whole = new RegExp(`^(?:${spec.pattern.source})$`, flags);
  const global = new RegExp(spec.pattern.source, flags.includes('g') ? flags : `${flags}g`);
  const detector: ValueDetector = {
    id: spec.id,
    category: spec.category,
    test: (value) => value.length <= MAX_VALUE && whole.test(value.trim()),
  };
  if (!spec.scanFreeText) return detector;
  return {
    ...detector,
    *scan(text: string): Iterable<Match> {
      global.lastIndex = 0;
      for (let m = global.exec(text); m; m = global.exec(text)) {
        if (m[0].length === 0) {
          global.lastIndex++;
          continue;
        }
        yield { detector: spec.id, category: spec.category, start: m.index, end: m.index + m[0].length };
      }
    },
  };
}
