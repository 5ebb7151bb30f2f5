import type { ValueDetector } from '../../../src/detection/types.js';

/** Texts of a detector's scan() matches. */
export function scanTexts(d: ValueDetector, text: string): string[] {
  if (!d.scan) return [];
  return [...d.scan(text)].map((m) => text.slice(m.start, m.end));
}
