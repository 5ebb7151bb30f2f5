/**
 * Person names in short values: 1–4 capitalised tokens (plus lower-case
 * particles such as "van", "de la"), letters incl. accents, apostrophes and
 * hyphens, optional initials ("J. Smith") and the "Surname, First" form.
 * `nameScore` weighs shape against the embedded first-name/surname lists, so
 * "Maria Schmidt" scores high and "Blue Widget", "Pending", "Active" near zero.
 * No scan(): capitalised words in prose are mostly not names.
 */
import type { ValueDetector } from '../types.js';
import { FIRST_NAMES, NAME_PARTICLES, NOT_NAME_WORDS, SURNAMES } from './person-name-data.js';
import { boundedTrim } from './util.js';

const MAX_NAME_CHARS = 60;
const MAX_TOKEN_CHARS = 25;

/** Lower case, accents stripped, curly apostrophe normalised. */
export function normalizeNameToken(t: string): string {
  let ascii = true;
  for (let i = 0; i < t.length && ascii; i++) ascii = t.charCodeAt(i) < 128;
  if (ascii) return t.toLowerCase();
  return t.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/\u2019/g, "'").toLowerCase();
}

const isUpperLetter = (ch: string): boolean => ch !== ch.toLowerCase() && ch === ch.toUpperCase();
const isLowerLetter = (ch: string): boolean => ch !== ch.toUpperCase() && ch === ch.toLowerCase();
const isLetterCh = (ch: string): boolean => isUpperLetter(ch) || isLowerLetter(ch);

type TokenKind = 'word' | 'initial' | 'particle' | 'bad';

function tokenKind(t: string, allCaps: boolean): TokenKind {
  if (t.length === 0 || t.length > MAX_TOKEN_CHARS) return 'bad';
  if (NAME_PARTICLES.has(t)) return 'particle';
  const first = t[0]!;
  if (t.length === 2 && t[1] === '.' && isUpperLetter(first)) return 'initial';
  if (t.length === 1 && isUpperLetter(first)) return 'initial';
  if (!isUpperLetter(first)) return 'bad';
  let uppers = 1;
  let letters = 1;
  for (let i = 1; i < t.length; i++) {
    const ch = t[i]!;
    if (ch === "'" || ch === '\u2019' || ch === '-') {
      if (i === t.length - 1) return 'bad';
      continue;
    }
    if (!isLetterCh(ch)) return 'bad';
    letters++;
    if (isUpperLetter(ch)) uppers++;
  }
  if (letters < 2) return 'bad';
  if (!allCaps && uppers > 2) return 'bad';
  return 'word';
}

/** 0..1: how much a short value looks like a person's name. */
export function nameScore(value: string): number {
  let v = boundedTrim(value, 60) ?? '';
  if (v.length < 2 || v.length > MAX_NAME_CHARS) return 0;
  // "Schmidt, Maria" → "Maria Schmidt"
  const comma = v.indexOf(',');
  if (comma !== -1) {
    if (v.indexOf(',', comma + 1) !== -1) return 0;
    v = `${v.slice(comma + 1).trim()} ${v.slice(0, comma).trim()}`;
  }
  const raw = v.split(' ').filter((t) => t.length > 0);
  if (raw.length === 0 || raw.length > 7) return 0;
  let hasLower = false;
  for (const ch of v) if (isLowerLetter(ch)) { hasLower = true; break; }
  const allCaps = !hasLower;
  const words: string[] = [];
  let initials = 0;
  for (let i = 0; i < raw.length; i++) {
    const kind = tokenKind(raw[i]!, allCaps);
    if (kind === 'bad') return 0;
    if (kind === 'particle') {
      if (i === 0 || i === raw.length - 1) return 0;
      continue;
    }
    if (kind === 'initial') {
      initials++;
      continue;
    }
    words.push(normalizeNameToken(raw[i]!));
  }
  if (words.length === 0 || words.length > 4) return 0;
  let notName = 0;
  for (const w of words) if (NOT_NAME_WORDS.has(w) && !FIRST_NAMES.has(w)) notName++;
  const first = words[0]!;
  const last = words[words.length - 1]!;
  let score: number;
  if (words.length === 1) {
    if (initials > 0) score = known(SURNAMES, first) || known(FIRST_NAMES, first) ? 0.85 : 0.45;
    else score = known(FIRST_NAMES, first) || known(SURNAMES, first) ? 0.7 : 0.25;
    if (notName) score = Math.min(score, 0.1);
  } else {
    // a known first name carries most weight; a known surname after an unknown first word
    // ("Sierra Leone", "Fort Hannah") stays below the threshold
    score = 0.3;
    const firstKnown = known(FIRST_NAMES, first);
    if (firstKnown) score += 0.45;
    if (known(SURNAMES, last) || known(FIRST_NAMES, last)) score += firstKnown ? 0.35 : 0.25;
    // middle names
    for (let i = 1; i < words.length - 1; i++) if (known(FIRST_NAMES, words[i]!) || known(SURNAMES, words[i]!)) score += 0.05;
    if (notName === words.length) score = 0.05;
    else if (notName > 0) score -= 0.3 * notName;
  }
  if (allCaps) score -= 0.05;
  return Math.max(0, Math.min(1, Math.round(score * 100) / 100));
}

/** In the list as a whole, or (hyphenated "Anne-Marie", "Müller-Lüdenscheidt") by any part. */
function known(set: ReadonlySet<string>, w: string): boolean {
  if (set.has(w)) return true;
  if (w.indexOf('-') === -1) return false;
  for (const part of w.split('-')) if (set.has(part)) return true;
  return false;
}

/** Threshold used by the detector's test(). */
export const NAME_THRESHOLD = 0.6;

export function isPersonName(value: string): boolean {
  return nameScore(value) >= NAME_THRESHOLD;
}

export const personName: ValueDetector = {
  id: 'person_name',
  category: 'identity.person_name',
  test: isPersonName,
};
