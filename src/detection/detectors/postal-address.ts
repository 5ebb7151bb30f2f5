/**
 * Street address lines in English, German, French, Spanish, Italian and Dutch:
 * a house number next to a street word, in each language's order — number
 * before in en/fr ("221B Baker Street", "12 rue de la Paix"), after in
 * de/nl/es/it ("Hauptstraße 5", "Kerkstraat 12", "Calle Mayor, 10",
 * "Via Roma 12"). German and Dutch compounds are matched by suffix
 * ("Bahnhofstr. 3", "Dorpslaan 7"). Tokenising is linear and values longer
 * than 200 chars are not address lines.
 */
import type { Match, ValueDetector } from '../types.js';
import { isDigit, isSpace, isUpper, match, boundedTrim } from './util.js';

const MAX_ADDRESS_CHARS = 200;

/** Street words whose house number comes first, with at least one name word between (en). */
const EN_WORDS = new Set([
  'street', 'st', 'st.', 'road', 'rd', 'rd.', 'avenue', 'ave', 'ave.', 'av.', 'lane', 'ln', 'ln.', 'drive', 'dr', 'dr.',
  'boulevard', 'blvd', 'blvd.', 'way', 'court', 'ct', 'ct.', 'place', 'pl', 'pl.', 'terrace', 'close', 'crescent',
  'square', 'sq', 'highway', 'hwy', 'parkway', 'pkwy', 'circle', 'cir', 'mews', 'row', 'gardens', 'grove', 'walk', 'trail',
  // USPS street suffixes and common UK ones
  'alley', 'aly', 'bypass', 'causeway', 'center', 'centre', 'cliff', 'common', 'corner', 'course', 'cove', 'creek', 'crossing',
  'curve', 'dale', 'estate', 'estates', 'expressway', 'expy', 'extension', 'ferry', 'field', 'fields', 'flat', 'flats', 'ford',
  'forest', 'forge', 'fork', 'freeway', 'fwy', 'gateway', 'glen', 'green', 'harbor', 'haven', 'heights', 'hts', 'hill', 'hills',
  'hollow', 'junction', 'key', 'keys', 'knoll', 'landing', 'loop', 'mall', 'manor', 'mead', 'meadow', 'meadows', 'mill', 'mills',
  'motorway', 'orchard', 'oval', 'overpass', 'park', 'pass', 'path', 'pike', 'plaza', 'point', 'port', 'prairie', 'ranch', 'ridge',
  'rise', 'run', 'shoal', 'shoals', 'shore', 'shores', 'skyway', 'spring', 'springs', 'spur', 'station', 'summit', 'ter', 'trace',
  'track', 'trafficway', 'tunnel', 'turnpike', 'underpass', 'vale', 'valley', 'viaduct', 'view', 'villas', 'vista', 'wharf',
  'woodlands', 'wynd', 'yard', 'bridge', 'brook', 'brooks', 'burg', 'canyon', 'causeway', 'centers', 'cliffs', 'corners',
  'courts', 'coves', 'crest', 'crossroad', 'dam', 'drives', 'falls', 'fords', 'forks', 'fort', 'gardens', 'glens', 'greens',
  'groves', 'harbors', 'inlet', 'island', 'islands', 'isle', 'junctions', 'knolls', 'lake', 'lakes', 'lodge', 'manors',
  'mission', 'mount', 'mountain', 'mountains', 'neck', 'parks', 'parkways', 'passage', 'pine', 'pines', 'plaza', 'ports',
  'ranch', 'rapids', 'ridges', 'river', 'roads', 'route', 'squares', 'stravenue', 'streets', 'throughway', 'trailer',
  'valleys', 'views', 'village', 'villages', 'ville', 'walks', 'ways', 'well', 'wells',
  'approach', 'bank', 'brow', 'chase', 'copse', 'croft', 'dell', 'drove', 'fold', 'gate', 'garth', 'glade', 'grange', 'lea',
  'paddock', 'parade', 'brae',
]);
/** French: the number immediately precedes the street word ("12 rue", "12 bis, avenue"). */
const FR_WORDS = new Set([
  'rue', 'avenue', 'av.', 'boulevard', 'bd', 'bd.', 'chemin', 'allee', 'impasse', 'place', 'quai', 'route', 'cours',
  'square', 'passage', 'voie', 'faubourg',
]);
/** Street word first, number after the name (es/it). */
const AFTER_WORDS = new Set([
  // es
  'calle', 'c/', 'avenida', 'avda', 'avda.', 'av.', 'plaza', 'pza.', 'paseo', 'camino', 'carretera', 'ronda', 'travesia', 'glorieta', 'pasaje',
  'rambla', 'callejon', 'cuesta', 'alameda', 'urbanizacion', 'barrio', 'poligono', 'paraje', 'rua', 'bajada', 'subida', 'costanilla',
  'aldea', 'arrabal', 'arroyo', 'barranco', 'calleja', 'caserio', 'colonia', 'conjunto', 'explanada', 'extramuros', 'glorieta',
  'huerta', 'jardines', 'lugar', 'manzana', 'masia', 'muelle', 'parcela', 'parque', 'partida', 'poblado', 'prolongacion',
  'quinta', 'ramal', 'rampa', 'riera', 'rincon', 'sector', 'seccion', 'senda', 'travesia', 'urbanizacion',
  // it
  'via', 'viale', 'piazza', 'p.za', 'corso', 'largo', 'vicolo', 'piazzale', 'strada', 'contrada', 'borgo', 'incrocio', 'rotonda',
  'lungomare', 'lungotevere', 'salita', 'traversa', 'calle', 'fondamenta',
]);
/** German "Am Markt 5", "An der Kirche 3", "Im Winkel 2", "Auf dem Berg 7": preposition, name, number. */
const DE_PREPOSITIONS = new Set(['am', 'an', 'im', 'in', 'auf', 'zum', 'zur', 'unter', 'hinter', 'vor', 'bei', 'alte', 'alter', 'neue', 'neuer']);
/** de/nl separate street words after the name, number right after ("Berliner Straße 12"). */
const DE_NL_WORDS = new Set([
  'strasse', 'straße', 'str.', 'weg', 'platz', 'allee', 'gasse', 'ring', 'damm', 'ufer', 'chaussee', 'steig',
  'straat', 'laan', 'plein', 'gracht', 'kade', 'singel', 'dijk',
]);
/** de/nl compound suffixes: "Hauptstraße", "Lindenweg", "Kerkstraat". */
const SUFFIXES = [
  'strasse', 'straße', 'str.', 'str', 'weg', 'platz', 'allee', 'gasse', 'ring', 'damm', 'ufer', 'chaussee', 'steig', 'pfad',
  'straat', 'laan', 'plein', 'gracht', 'kade', 'singel', 'dijk', 'steeg',
  'garten', 'berg', 'feld', 'markt', 'kamp', 'brink', 'stieg', 'graben', 'wall', 'bogen', 'hang', 'heide', 'winkel', 'grund',
  'plantsoen', 'park', 'pad', 'hof', 'erf', 'veld', 'baan', 'wal', 'dreef', 'hoek',
  'bruch', 'burg', 'wiese', 'wiesen', 'weide', 'horst', 'busch', 'holz', 'wald', 'tal', 'siedlung', 'hain', 'muehle', 'mühle',
  'anger', 'flucht', 'stiege', 'zeile', 'promenade', 'kai',
];

function stripAccents(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  return s;
}

/** House number: 1–5 digits, optional letter or bis/ter, or a range "12-14" / "12/3"; Spanish "s/n". */
export function isHouseNumber(t: string): boolean {
  if (t === 's/n' || t === 's/n.') return true; // Spanish "sin número"
  let i = 0;
  while (i < t.length && isDigit(t.charCodeAt(i))) i++;
  if (i === 0 || i > 5 || t.charCodeAt(0) === 48) return false;
  const rest = t.slice(i).toLowerCase();
  if (rest === '' || rest === 'bis' || rest === 'ter') return true;
  if (rest.length === 1 && rest >= 'a' && rest <= 'z') return true;
  if ((rest[0] === '-' || rest[0] === '/') && rest.length >= 2 && rest.length <= 5) {
    for (let k = 1; k < rest.length; k++) if (!isDigit(rest.charCodeAt(k))) return k === rest.length - 1 && rest[k]! >= 'a' && rest[k]! <= 'z';
    return true;
  }
  return false;
}

function isCompoundStreet(t: string): boolean {
  for (const s of SUFFIXES) if (t.length > s.length + 2 && t.endsWith(s)) return true;
  return false;
}

interface Tok {
  readonly t: string; // lower case, accents stripped (except ß)
  readonly start: number;
  readonly end: number;
}

function tokenize(s: string, from: number, to: number): Tok[] {
  const out: Tok[] = [];
  let i = from;
  while (i < to) {
    const c = s.charCodeAt(i);
    if (isSpace(c) || c === 44 /* , */) {
      i++;
      continue;
    }
    const start = i;
    while (i < to && !isSpace(s.charCodeAt(i)) && s.charCodeAt(i) !== 44) i++;
    out.push({ t: stripAccents(s.slice(start, i).toLowerCase()), start, end: i });
  }
  return out;
}

/** Index span [first, last] of tokens forming an address line, or null. */
function findAddress(toks: readonly Tok[]): [number, number] | null {
  for (let w = 0; w < toks.length; w++) {
    const t = toks[w]!.t;
    if (EN_WORDS.has(t) && w >= 2) {
      for (let k = w - 2; k >= Math.max(0, w - 5); k--) if (isHouseNumber(toks[k]!.t)) return [k, w];
    }
    if (FR_WORDS.has(t) && w >= 1) {
      if (isHouseNumber(toks[w - 1]!.t)) return [w - 1, Math.min(toks.length - 1, w + 1)];
      if (w >= 2 && (toks[w - 1]!.t === 'bis' || toks[w - 1]!.t === 'ter') && isHouseNumber(toks[w - 2]!.t)) return [w - 2, Math.min(toks.length - 1, w + 1)];
    }
    if (AFTER_WORDS.has(t)) {
      for (let k = w + 2; k <= Math.min(toks.length - 1, w + 5); k++) if (isHouseNumber(toks[k]!.t)) return [w, k];
    }
    if (DE_NL_WORDS.has(t) && w >= 1 && w + 1 < toks.length && isHouseNumber(toks[w + 1]!.t)) return [w - 1, w + 1];
    // "Am Benthal 318": a German preposition opening the line, a capitalised name, a number
    if (w === 0 && DE_PREPOSITIONS.has(t) && toks.length >= 3) {
      for (let k = 2; k <= Math.min(toks.length - 1, 4); k++) if (isHouseNumber(toks[k]!.t)) return [0, k];
    }
    if (isCompoundStreet(t) && w + 1 < toks.length) {
      if (isHouseNumber(toks[w + 1]!.t)) return [w, w + 1];
    }
  }
  return null;
}

export function isPostalAddress(value: string): boolean {
  const v = boundedTrim(value, 200) ?? '';
  if (v.length < 6 || v.length > MAX_ADDRESS_CHARS) return false;
  // an address line has a digit somewhere (house number, or the postcode after "s/n")
  let digit = false;
  for (let i = 0; i < v.length && !digit; i++) digit = isDigit(v.charCodeAt(i));
  if (!digit) return false;
  return findAddress(tokenize(v, 0, v.length)) !== null;
}

/**
 * Address lines in prose: the text is cut into lines and sentences (at
 * newlines, `;`/`!`/`?` + space, `.` + space + capital), each ≤ 200 chars is checked
 * like a value. Linear.
 */
export function* scanAddresses(text: string): Generator<Match> {
  const n = text.length;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 10;
    const next = i + 1 < n ? text.charCodeAt(i + 1) : 10;
    // a '.' ends a sentence only before a space and a capital ("St. 5" / "Str. 5" do not cut)
    const cut =
      c === 10 ||
      c === 13 ||
      ((c === 59 || c === 33 || c === 63) && isSpace(next)) ||
      (c === 46 && (next === 10 || (isSpace(next) && isUpper(i + 2 < n ? text.charCodeAt(i + 2) : 0))));
    if (!cut) continue;
    if (i - s >= 6 && i - s <= MAX_ADDRESS_CHARS) {
      const toks = tokenize(text, s, i);
      const span = findAddress(toks);
      if (span) yield match('postal_address', 'contact.postal_address', toks[span[0]]!.start, toks[span[1]]!.end);
    } else if (i - s > MAX_ADDRESS_CHARS) {
      // long line without sentence breaks: check it in 200-char windows at token boundaries
      let w = s;
      while (w < i) {
        let e = Math.min(i, w + MAX_ADDRESS_CHARS);
        if (e < i) while (e > w + 1 && !isSpace(text.charCodeAt(e))) e--;
        if (e <= w + 1) e = Math.min(i, w + MAX_ADDRESS_CHARS);
        const toks = tokenize(text, w, e);
        const span = findAddress(toks);
        if (span) yield match('postal_address', 'contact.postal_address', toks[span[0]]!.start, toks[span[1]]!.end);
        w = e;
      }
    }
    s = i + 1;
  }
}

export const postalAddress: ValueDetector = {
  id: 'postal_address',
  category: 'contact.postal_address',
  test: isPostalAddress,
  scan: scanAddresses,
};
