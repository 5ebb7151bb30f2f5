/**
 * Column classification: combines the column-name signal, value detectors run
 * over a sample, and context (column type, table name, sibling columns) into
 * one category with a confidence and the evidence behind it.
 *
 * Pure: no I/O. Cost is O(values × detectors) with early rejection per value.
 */
import type { ColumnInfo } from '../sources/types.js';
import {
  BUILTIN_DETECTORS,
  postcode as postcodeDetector,
  postalAddress as postalAddressDetector,
  isLatitude,
  isLongitude,
  isNumericPostcode,
  isPasswordHash,
  isStewardCiphertext,
  looksLikeBirthDates,
  nameScore,
  parseDateLike,
} from './detectors/index.js';
import { maskValue } from './mask.js';
import { matchColumnName, tableContext, type NameMatch, type NameRule } from './names.js';
import type { Category } from './taxonomy.js';
import type { ColumnClassification, FreeTextHit, Match, Signal, ValueDetector } from './types.js';

export interface ColumnRule {
  /** Matched against `table.column`, case-insensitive. */
  readonly pattern: RegExp;
  /** null marks matching columns as not personal data. */
  readonly category: Category | null;
}

export interface ClassifierOptions {
  /** Extra value detectors (user-defined), tried before the built-ins. */
  readonly detectors?: readonly ValueDetector[];
  /** Column-name patterns for user detectors: detector id → regexes over the column name. */
  readonly detectorColumnNames?: ReadonlyMap<string, readonly RegExp[]>;
  /** Overrides: the first matching rule decides the column outright. */
  readonly columnRules?: readonly ColumnRule[];
  /** Extra column-name rules (added to the built-in multilingual ones). */
  readonly nameRules?: readonly NameRule[];
  /** Values considered per column (default 1000). */
  readonly maxValues?: number;
  /** Skip detectors whose necessary condition a value fails (default true; false only for tests). */
  readonly gates?: boolean;
}

export interface ColumnInput {
  readonly table: string;
  readonly column: string;
  readonly typeClass: ColumnInfo['typeClass'];
  readonly dataType?: string;
  /** Sampled values as the driver returned them; nulls are skipped. */
  readonly values: readonly unknown[];
  /** Other column names of the same table (context). */
  readonly siblings?: readonly string[];
}

/**
 * Detectors whose acceptance is strong evidence on its own (checksums or an
 * unmistakable shape). The others need the column name or context to agree.
 */
const STRONG = new Set(['email', 'card', 'iban', 'ssn', 'uk_nino', 'es_dni', 'fr_nir', 'de_tax_id', 'ipv4', 'ipv6', 'secrets', 'geolocation', 'postal_address']);
/** Tie-break when two detectors accept the same share of values: earlier wins. */
const PRIORITY = ['card', 'iban', 'email', 'fr_nir', 'uk_nino', 'es_dni', 'ssn', 'de_tax_id', 'ipv6', 'ipv4', 'secrets', 'geolocation', 'phone', 'postal_address', 'postcode', 'birth_date', 'person_name'];

export interface Classifier {
  classifyColumn(input: ColumnInput): ColumnClassification;
  /** The first detector that accepts a single value, or null. */
  classifyValue(value: string): { readonly detector: string; readonly category: Category } | null;
  /** Personal data inside a text. */
  scanText(text: string): Match[];
}

/** Cheap character counts of a value, computed once, to skip detectors that cannot match. */
export interface Features {
  readonly len: number;
  readonly digits: number;
  readonly letters: number;
  readonly at: boolean;
  readonly dot: boolean;
  readonly colon: boolean;
}

export function features(v: string): Features {
  let digits = 0;
  let letters = 0;
  let at = false;
  let dot = false;
  let colon = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ((c | 0x20) >= 97 && (c | 0x20) <= 122) letters++;
    else if (c === 64) at = true;
    else if (c === 46) dot = true;
    else if (c === 58) colon = true;
    else if (c > 127) letters++;
  }
  return { len: v.length, digits, letters, at, dot, colon };
}

/**
 * Necessary conditions per built-in detector: a value failing its gate cannot be
 * accepted by that detector (checked against the ungated result in
 * test/unit/classify/gates.test.ts). Detectors without a gate always run.
 */
export const GATES: Readonly<Record<string, (f: Features) => boolean>> = {
  email: (f) => f.at,
  card: (f) => f.digits >= 12 && f.digits <= 19,
  iban: (f) => f.digits >= 2 && f.letters >= 2 && f.len >= 15,
  ssn: (f) => f.digits === 9,
  uk_nino: (f) => f.digits === 6 && f.letters >= 2,
  es_dni: (f) => f.digits >= 7 && f.digits <= 8 && f.letters >= 1,
  fr_nir: (f) => f.digits >= 13,
  de_tax_id: (f) => f.digits === 11,
  ipv4: (f) => f.dot && f.digits >= 4 && f.digits <= 12,
  ipv6: (f) => f.colon,
  geolocation: (f) => f.digits >= 4,
  phone: (f) => f.digits >= 5,
  birth_date: (f) => f.digits >= 4,
  postal_address: (f) => f.digits >= 1 && f.letters >= 3,
  postcode: (f) => f.digits >= 2,
  person_name: (f) => f.digits === 0 && f.letters >= 2,
  secrets: (f) => f.len >= 8,
};

/** Values after which detectors that matched nothing are dropped for the rest of the column. */
const PRUNE_AFTER = 100;
/** Free text is costlier to scan; this many rows give a stable share. */
const MAX_PROSE_VALUES = 400;

const NOT_PERSONAL = (signals: Signal[], sampled: number, examples: string[] = []): ColumnClassification => ({
  category: null,
  confidence: 0,
  evidence: { signals, sampled, matched: 0 },
  freeText: [],
  examples,
});

export function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    const t = value.trim();
    return t.length ? t : null;
  }
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return null;
    const iso = value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  if (value instanceof Uint8Array) return null;
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}

/** Prose: long-ish values with several words. JSON documents are scanned the same way. */
function isProse(values: readonly string[], typeClass: ColumnInput['typeClass']): boolean {
  if (values.length === 0) return false;
  if (typeClass === 'json') return true;
  if (typeClass !== 'text' && typeClass !== 'other') return false;
  let long = 0;
  for (const v of values) {
    if (v.length >= 30 && countSpaces(v, 4) >= 4) long++;
  }
  return long / values.length >= 0.5;
}

function countSpaces(v: string, cap: number): number {
  let n = 0;
  for (let i = 0; i < v.length && n < cap; i++) if (v.charCodeAt(i) === 32) n++;
  return n;
}

export function createClassifier(options: ClassifierOptions = {}): Classifier {
  const detectors: readonly ValueDetector[] = [...(options.detectors ?? []), ...BUILTIN_DETECTORS];
  const userIds = new Set((options.detectors ?? []).map((d) => d.id));
  const scanners = detectors.filter((d) => typeof d.scan === 'function');
  const maxValues = options.maxValues ?? 1000;
  const gated = options.gates !== false;
  const gateOf = (d: ValueDetector) => (gated && !userIds.has(d.id) ? GATES[d.id] : undefined);
  const gatedDetectors = detectors.map((d) => ({ d, gate: gateOf(d) }));
  const byPriority = [...gatedDetectors].sort((a, b) => rank(a.d.id) - rank(b.d.id));
  /** The detectors that accept a value. */
  function accepting(v: string, list: readonly { d: ValueDetector; gate: ((f: Features) => boolean) | undefined }[]): ValueDetector[] {
    const f = features(v);
    const out: ValueDetector[] = [];
    for (const { d, gate } of list) if ((!gate || gate(f)) && d.test(v)) out.push(d);
    return out;
  }
  const nameRules = options.nameRules;

  function nameSignal(column: string): NameMatch | null {
    if (nameRules?.length) {
      const custom = matchColumnName(column, nameRules);
      if (custom) return custom;
    }
    return matchColumnName(column);
  }

  function userDetectorByName(column: string): ValueDetector | null {
    if (!options.detectorColumnNames) return null;
    for (const d of options.detectors ?? []) {
      const pats = options.detectorColumnNames.get(d.id);
      if (pats?.some((p) => p.test(column))) return d;
    }
    return null;
  }

  function scanText(text: string): Match[] {
    const out: Match[] = [];
    for (const d of scanners) for (const m of d.scan!(text)) out.push(m);
    return out;
  }

  function classifyColumn(input: ColumnInput): ColumnClassification {
    const qualified = `${input.table}.${input.column}`;
    const values: string[] = [];
    for (const raw of input.values) {
      if (values.length >= maxValues) break;
      const t = toText(raw);
      if (t !== null) values.push(t);
    }
    const sampled = values.length;
    // Steward's own ciphertexts: the data is personal but already encrypted.
    const cipher = values.filter(isStewardCiphertext).length;
    const encrypted = sampled > 0 && cipher / sampled >= 0.5;

    for (const rule of options.columnRules ?? []) {
      if (rule.pattern.test(qualified) || rule.pattern.test(input.column)) {
        const signals: Signal[] = [{ kind: 'context', reason: `column rule /${rule.pattern.source}/ in steward.yml` }];
        if (rule.category === null) return NOT_PERSONAL(signals, sampled);
        // The rule decides the category; the sample still says whether there are values, and whether they are encrypted.
        if (encrypted) signals.push({ kind: 'steward-ciphertext' });
        return { category: rule.category, confidence: 1, evidence: { signals, sampled, matched: encrypted ? cipher : 0 }, freeText: [], examples: [] };
      }
    }
    const signals: Signal[] = [];
    const name = nameSignal(input.column);
    if (name) signals.push({ kind: 'column-name', rule: name.rule, language: name.language });

    if (input.typeClass === 'boolean' || input.typeClass === 'uuid') {
      if (name) signals.push({ kind: 'type', reason: `${input.typeClass} column cannot hold ${name.category}` });
      return NOT_PERSONAL(signals, sampled);
    }

    if (encrypted) {
      signals.push({ kind: 'steward-ciphertext' });
      if (!name) return NOT_PERSONAL(signals, sampled);
      return { category: name.category, confidence: 0.9, evidence: { signals, sampled, matched: cipher }, freeText: [], examples: [] };
    }

    // Long address lines look like prose; they are addresses when the name or the values say so.
    if (isProse(values, input.typeClass) && !isAddressColumn(values, name)) {
      return classifyProse(values.slice(0, MAX_PROSE_VALUES), signals, name);
    }

    // A user detector named by the column wins when its pattern agrees.
    const userByName = userDetectorByName(input.column);

    // Tally every detector over the sample.
    const tally = new Map<string, { detector: ValueDetector; matched: number; examples: string[] }>();
    // Values accepted by any detector of a category: a national_id column holds
    // SSNs, NINOs and DNIs side by side, each detector seeing only its share.
    const byCategory = new Map<string, number>();
    const hit = new Set<string>();
    let active = gatedDetectors;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      // The sample is random: a detector that accepted none of the first
      // PRUNE_AFTER values cannot reach any threshold below, so stop asking it.
      if (i === PRUNE_AFTER) active = active.filter(({ d }) => tally.has(d.id));
      hit.clear();
      for (const d of accepting(v, active)) {
        let t = tally.get(d.id);
        if (!t) tally.set(d.id, (t = { detector: d, matched: 0, examples: [] }));
        t.matched++;
        if (t.examples.length < 3) t.examples.push(v);
        hit.add(d.category);
      }
      for (const c of hit) byCategory.set(c, (byCategory.get(c) ?? 0) + 1);
    }

    type Candidate = { category: Category; detector: string; score: number; matched: number; examples: string[] };
    const candidates: Candidate[] = [];
    const ctx = tableContext(input.table);

    for (const t of tally.values()) {
      const id = t.detector.id;
      const ratio = sampled ? (STRONG.has(id) ? byCategory.get(t.detector.category)! : t.matched) / sampled : 0;
      const nameAgrees = name?.category === t.detector.category || userByName?.id === id;
      let score = 0;
      if (userIds.has(id)) {
        if (ratio >= 0.5) score = 0.6 + 0.35 * ratio + (nameAgrees ? 0.05 : 0);
      } else if (STRONG.has(id) && !(id === 'ssn' && !nameAgrees && !isMostlyDashed(t.examples))) {
        if (ratio >= 0.5) score = 0.55 + 0.4 * ratio + (nameAgrees ? 0.05 : 0);
        else if (nameAgrees && ratio >= 0.2) score = 0.5 + 0.4 * ratio;
      } else if (id === 'person_name') {
        const personish = nameAgrees && (!name?.ambiguous || ctx !== 'thing');
        const strongNames = sampled ? values.slice(0, 200).filter((v) => nameScore(v) >= 0.7).length / Math.min(sampled, 200) : 0;
        if (personish && ratio >= 0.5 && (ctx === 'person' || !name?.ambiguous || strongNames >= 0.3)) score = 0.6 + 0.3 * ratio + 0.1 * strongNames;
        else if (!name && strongNames >= 0.6 && ratio >= 0.8) score = 0.5 + 0.3 * strongNames;
      } else if (id === 'birth_date') {
        const dates = values.map((v) => parseDateLike(v)).filter((d): d is Date => d !== null);
        const spread = looksLikeBirthDates(dates);
        if (nameAgrees && ratio >= 0.5) score = 0.7 + 0.3 * ratio;
        else if (!name && spread && ratio >= 0.9 && (input.typeClass === 'date' || input.typeClass === 'text')) score = 0.55;
      } else if (id === 'phone') {
        const intl = t.examples.every((e) => e.startsWith('+') || e.startsWith('00') || /[\s().-]/.test(e));
        if (nameAgrees && ratio >= 0.3) score = 0.6 + 0.4 * ratio;
        else if (!name && ratio >= 0.8 && intl && input.typeClass === 'text') score = 0.5 + 0.3 * ratio;
      } else if (id === 'postcode') {
        if (nameAgrees && ratio >= 0.5) score = 0.6 + 0.4 * ratio;
      } else if (nameAgrees && ratio >= 0.5) {
        score = 0.6 + 0.4 * ratio;
      }
      // Evidence counts every value of the category (IPv4 and IPv6, SSNs and NINOs side by side).
      const matched = STRONG.has(id) ? byCategory.get(t.detector.category)! : t.matched;
      if (score > 0) candidates.push({ category: t.detector.category, detector: id, score: Math.min(score, 1), matched, examples: t.examples });
    }

    // Name-supported checks that are not whole-value detectors.
    if (name && sampled > 0) {
      if (name.category === 'contact.postcode') {
        // Numeric codes (DE/FR/ES 5 digits) only count where the name says postcode.
        const ok = values.filter((v) => postcodeDetector.test(v) || isNumericPostcode(v));
        if (ok.length / sampled >= 0.8 && input.typeClass !== 'decimal') {
          candidates.push({ category: 'contact.postcode', detector: 'postcode', score: 0.65 + 0.3 * (ok.length / sampled), matched: ok.length, examples: ok.slice(0, 3) });
        }
      }
      if (name.category === 'contact.postal_address' && !name.ambiguous) {
        // The name says address; values need a house number and a street-like word run.
        const ok = values.filter(looksLikeAddressLine);
        if (ok.length / sampled >= 0.7) {
          candidates.push({ category: 'contact.postal_address', detector: 'postal_address', score: 0.6 + 0.35 * (ok.length / sampled), matched: ok.length, examples: ok.slice(0, 3) });
        }
      }
      if (name.category === 'identity.person_name' && !(name.ambiguous && ctx !== 'person')) {
        // The name says so; values need only have a name's shape (capitalised words, no digits).
        const ok = values.filter((v) => nameScore(v) >= 0.2);
        if (ok.length / sampled >= 0.7) {
          candidates.push({ category: 'identity.person_name', detector: 'person_name', score: 0.6 + 0.35 * (ok.length / sampled), matched: ok.length, examples: ok.slice(0, 3) });
        }
      }
      if (name.category === 'location.geolocation' && !tally.has('geolocation')) {
        const n = normalizedLatLng(input.column);
        const test = n === 'lng' ? isLongitude : isLatitude;
        const ok = values.filter((v) => test(v)).length;
        if (ok / sampled >= 0.8 && (!name.ambiguous || n !== null)) {
          candidates.push({ category: 'location.geolocation', detector: n === 'lng' ? 'longitude' : 'latitude', score: 0.6 + 0.3 * (ok / sampled), matched: ok, examples: [] });
        }
      }
      if (name.category === 'credentials.secret' && !tally.has('secrets')) {
        const hashed = values.filter(isPasswordHash).length;
        if (hashed / sampled >= 0.8) {
          signals.push({ kind: 'context', reason: `${hashed}/${sampled} values are password hashes, not plain secrets` });
          return NOT_PERSONAL(signals, sampled);
        }
        if (input.typeClass === 'text' || input.typeClass === 'other') {
          candidates.push({ category: 'credentials.secret', detector: 'plain-secret', score: 0.8, matched: sampled - hashed, examples: [] });
        }
      }
    }

    candidates.sort(
      (a, b) =>
        b.score - a.score ||
        (name ? Number(b.category === name.category) - Number(a.category === name.category) : 0) ||
        rank(a.detector) - rank(b.detector),
    );
    const best = candidates[0];
    if (best) {
      signals.push({ kind: 'values', detector: best.detector, matched: best.matched, sampled });
      if (ctx !== 'unknown' && best.category === 'identity.person_name') signals.push({ kind: 'context', reason: `table "${input.table}" holds ${ctx === 'person' ? 'people' : 'things'}` });
      return {
        category: best.category,
        confidence: round(best.score),
        evidence: { signals, sampled, matched: best.matched },
        freeText: [],
        examples: best.examples.map((e) => maskValue(e, best.category)),
      };
    }

    // Name only.
    if (name && !name.ambiguous && acceptsNameOnly(name.category, input.typeClass, sampled, tally.size > 0)) {
      if (sampled === 0) signals.push({ kind: 'context', reason: 'no values sampled (empty or unreadable table): name only' });
      return {
        category: name.category,
        confidence: sampled === 0 ? 0.5 : 0.6,
        evidence: { signals, sampled, matched: 0 },
        freeText: [],
        examples: [],
      };
    }
    if (name && sampled > 0) signals.push({ kind: 'context', reason: `name suggests ${name.category} but no sampled value matched` });
    return NOT_PERSONAL(signals, sampled);
  }

  function classifyProse(values: readonly string[], signals: Signal[], name: NameMatch | null): ColumnClassification {
    const rowsByCategory = new Map<string, { detector: string; rows: number }>();
    let rowsWithAny = 0;
    const examples: string[] = [];
    for (const v of values) {
      const seen = new Set<string>();
      for (const m of scanText(v)) {
        if (seen.has(m.category)) continue;
        seen.add(m.category);
        const e = rowsByCategory.get(m.category) ?? { detector: m.detector, rows: 0 };
        e.rows++;
        rowsByCategory.set(m.category, e);
        if (examples.length < 3) examples.push(maskValue(v.slice(m.start, m.end), m.category));
      }
      if (seen.size) rowsWithAny++;
    }
    const sampled = values.length;
    const minRows = sampled >= 20 ? 2 : 1;
    const hits: FreeTextHit[] = [...rowsByCategory.entries()]
      .filter(([, e]) => e.rows >= minRows)
      .map(([category, e]) => ({ category, detector: e.detector, rows: e.rows }))
      .sort((a, b) => b.rows - a.rows);
    for (const h of hits) signals.push({ kind: 'free-text', detector: h.detector, rows: h.rows, sampled });
    if (hits.length === 0) {
      if (name && !name.ambiguous && acceptsNameOnly(name.category, 'text', sampled, false)) {
        return { category: name.category, confidence: 0.6, evidence: { signals, sampled, matched: 0 }, freeText: [], examples: [] };
      }
      signals.push({ kind: 'context', reason: 'free text; no personal data found in the sample' });
      return NOT_PERSONAL(signals, sampled);
    }
    const share = rowsWithAny / sampled;
    return {
      category: 'content.free_text',
      confidence: round(Math.min(1, 0.6 + share)),
      evidence: { signals, sampled, matched: rowsWithAny },
      freeText: hits,
      examples,
    };
  }

  function classifyValue(value: string) {
    const t = value.trim();
    if (!t) return null;
    // Detectors in priority order: the first that accepts is the answer.
    const f = features(t);
    for (const { d, gate } of byPriority) {
      if ((!gate || gate(f)) && d.test(t)) return { detector: d.id, category: d.category };
    }
    return null;
  }

  return { classifyColumn, classifyValue, scanText };
}

/**
 * Whether a name-only signal stands when values did not confirm it. Categories
 * that have a value validator are contradicted by a sample that fails it
 * (`email_template` full of prose is not an email column); the others (gender,
 * health) have no validator, so the name is the evidence.
 */
function acceptsNameOnly(category: Category, typeClass: ColumnInput['typeClass'], sampled: number, anyDetectorFired: boolean): boolean {
  if (sampled === 0) return typeClass !== 'boolean';
  if (anyDetectorFired) return false;
  switch (category) {
    case 'demographic.gender':
    case 'special.health':
      return typeClass === 'text' || typeClass === 'other';
    default:
      return false;
  }
}

/** A digit (house number) and at least two words of letters, within address length. */
function looksLikeAddressLine(v: string): boolean {
  if (v.length < 5 || v.length > 200) return false;
  let digits = 0;
  let words = 0;
  let inWord = false;
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    const letter = ch.toLowerCase() !== ch.toUpperCase();
    if (ch >= '0' && ch <= '9') digits++;
    if (letter && !inWord) words++;
    inWord = letter;
  }
  return digits > 0 && digits <= 12 && words >= 2;
}

function isAddressColumn(values: readonly string[], name: NameMatch | null): boolean {
  if (name?.category === 'contact.postal_address' && !name.ambiguous) return true;
  const probe = values.slice(0, 100);
  return probe.filter((v) => postalAddressDetector.test(v)).length >= probe.length * 0.5;
}

function normalizedLatLng(column: string): 'lat' | 'lng' | null {
  const c = column.toLowerCase();
  if (/lat|breiten/.test(c)) return 'lat';
  if (/lng|lon|laengen|längen/.test(c)) return 'lng';
  return null;
}

function isMostlyDashed(examples: readonly string[]): boolean {
  return examples.length > 0 && examples.every((e) => e.includes('-'));
}

function rank(detector: string): number {
  const i = PRIORITY.indexOf(detector);
  return i === -1 ? -1 : i; // user detectors (not listed) first
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
