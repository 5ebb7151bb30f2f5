import type { Category } from './taxonomy.js';

/** A span of personal data found inside a longer text. */
export interface Match {
  readonly detector: string;
  readonly category: Category;
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

/**
 * Recognises one kind of personal data in single values.
 *
 * Contract (tested for every detector): `test` and `scan` run in time linear in
 * the input length — a 1 MB hostile string returns in milliseconds. Built-in
 * detectors use hand-written scanners or regexes without nested quantifiers,
 * and never backtrack unboundedly; user detectors run on V8's linear-time
 * regexp engine.
 */
export interface ValueDetector {
  /** Stable id, e.g. `email`, `card`, `nino`. */
  readonly id: string;
  readonly category: Category;
  /**
   * Does the whole value (trimmed) look like this kind of data, checksum and
   * range rules included? A 16-digit number failing Luhn is not a card.
   */
  test(value: string): boolean;
  /**
   * Occurrences inside free text (support tickets, notes). Detectors that would
   * only produce noise in prose (postcode, person name) leave this out.
   */
  scan?(text: string): Iterable<Match>;
}

export type Signal =
  | { readonly kind: 'column-name'; readonly rule: string; readonly language: string }
  | { readonly kind: 'values'; readonly detector: string; readonly matched: number; readonly sampled: number }
  | { readonly kind: 'free-text'; readonly detector: string; readonly rows: number; readonly sampled: number }
  | { readonly kind: 'context'; readonly reason: string }
  | { readonly kind: 'type'; readonly reason: string }
  | { readonly kind: 'steward-ciphertext' };

export interface Evidence {
  readonly signals: readonly Signal[];
  /** Non-null values sampled. */
  readonly sampled: number;
  /** Sampled values the winning detector accepted (0 when the category came from the name only). */
  readonly matched: number;
}

/** Personal data embedded in a free-text column: per category, how many sampled rows held some. */
export interface FreeTextHit {
  readonly category: Category;
  readonly detector: string;
  readonly rows: number;
}

export interface ColumnClassification {
  /** null: not personal data. */
  readonly category: Category | null;
  /** 0..1 */
  readonly confidence: number;
  readonly evidence: Evidence;
  /** The column holds prose; personal data found inside it. Empty when none or not free text. */
  readonly freeText: readonly FreeTextHit[];
  /** Up to three masked sample values (never raw). */
  readonly examples: readonly string[];
}
