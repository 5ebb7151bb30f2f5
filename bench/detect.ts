/**
 * `npm run bench -- detect [--rows 300] [--seed 11] [--rounds 3]`
 *
 * Value classification, side by side in one run with the two JavaScript peers a
 * user would otherwise pick, on the same values from the labelled corpus:
 * - throughput in values per second (best of --rounds, after a warm-up);
 * - value-level precision/recall per category (a value is labelled with its
 *   column's category);
 * - column-level precision/recall when each tool labels a column by the
 *   category most of its values get (≥ 50%), which is what a tool without
 *   column-name signals can do. Steward's full column classifier (names +
 *   values + context) is scored the same way for comparison.
 */
import { createRequire } from 'node:module';
import { createClassifier } from '../src/detection/classify.js';
import { LABELLED_TABLES, FREE_TEXT } from './corpus/labelled.js';
import { printScores, score, type Prediction } from './scoring.js';
import { opt } from './args.js';

const require = createRequire(import.meta.url);
const ROWS = Number(opt('rows', '300'));
const SEED = Number(opt('seed', '11'));
const ROUNDS = Number(opt('rounds', '3'));

interface Col {
  table: string;
  column: string;
  label: string | null;
  typeClass: 'text' | 'integer' | 'decimal' | 'boolean' | 'date' | 'timestamp' | 'json' | 'uuid' | 'other';
  values: string[];
}

function typeClassOf(sqlType: string): Col['typeClass'] {
  const t = sqlType.toLowerCase();
  if (/bool/.test(t)) return 'boolean';
  if (/int/.test(t)) return 'integer';
  if (/numeric|decimal|double|real/.test(t)) return 'decimal';
  if (/timestamp|datetime/.test(t)) return 'timestamp';
  if (/^date/.test(t)) return 'date';
  if (/json/.test(t)) return 'json';
  if (/uuid/.test(t)) return 'uuid';
  return 'text';
}

const columns: Col[] = [];
for (const table of LABELLED_TABLES) {
  const rows = [...table.rows(SEED, ROWS)];
  for (const c of table.columns) {
    const values = rows.map((r) => r[c.column]).filter((v): v is string | number => v !== null && typeof v !== 'boolean').map(String);
    columns.push({ table: table.name, column: c.column, label: c.label, typeClass: typeClassOf(c.sqlType.postgres), values });
  }
}
// Value-level evaluation uses whole-value columns (free text is a different task).
const valueCols = columns.filter((c) => c.label !== FREE_TEXT);
const values = valueCols.flatMap((c) => c.values.map((v) => ({ v, label: c.label })));

// ---- the three tools, each as value → category | null

const steward = createClassifier();
const stewardValue = (v: string) => steward.classifyValue(v)?.category ?? null;

const { SyncRedactor } = require('redact-pii') as { SyncRedactor: new () => { redact(s: string): string } };
const redactor = new SyncRedactor();
const REDACT_PII: [RegExp, string][] = [
  [/EMAIL_ADDRESS/, 'contact.email'],
  [/CREDIT_CARD_NUMBER/, 'financial.card'],
  [/US_SOCIAL_SECURITY_NUMBER/, 'identity.government_id'],
  [/IP_ADDRESS/, 'network.ip_address'],
  [/PHONE_NUMBER/, 'contact.phone'],
  [/STREET_ADDRESS/, 'contact.postal_address'],
  [/ZIPCODE/, 'contact.postcode'],
  [/PERSON_NAME/, 'identity.person_name'],
  [/PASSWORD|CREDENTIALS/, 'credentials.secret'],
];
function redactPiiValue(v: string): string | null {
  const out = redactor.redact(v);
  if (out === v) return null;
  for (const [re, cat] of REDACT_PII) if (re.test(out) && !re.test(v)) return cat;
  return null; // e.g. only DIGITS / URL / USERNAME replaced: no category of the taxonomy
}

const { OpenRedaction } = (await import('@openredaction/openredaction')) as unknown as {
  OpenRedaction: new () => { detect(s: string): { detections?: { type: string }[] } };
};
const openredaction = new OpenRedaction();
function openRedactionCategory(type: string): string | null {
  const t = type.toUpperCase();
  if (t.includes('EMAIL')) return 'contact.email';
  if (t.includes('CREDIT_CARD') || t === 'CARD' || t.includes('CARD_NUMBER')) return 'financial.card';
  if (t.includes('IBAN') || t.includes('BANK') || t.includes('SORT_CODE') || t.includes('ACCOUNT')) return 'financial.bank_account';
  if (t.includes('PHONE') || t.includes('MOBILE')) return 'contact.phone';
  if (t.includes('SSN') || t.includes('NATIONAL') || t.includes('NINO') || t.includes('PASSPORT') || t.includes('TAX') || t.includes('DNI') || t.includes('NIE') || t.includes('NIR') || t.includes('INSEE') || t.includes('DRIVING') || t.includes('LICENSE') || t.includes('ID_CARD')) return 'identity.government_id';
  if (t.includes('IP')) return 'network.ip_address';
  if (t.includes('POSTCODE') || t.includes('ZIP') || t.includes('POSTAL_CODE')) return 'contact.postcode';
  if (t.includes('ADDRESS') || t.includes('STREET')) return 'contact.postal_address';
  if (t.includes('NAME')) return 'identity.person_name';
  if (t.includes('DATE_OF_BIRTH') || t.includes('DOB') || t.includes('BIRTH')) return 'identity.date_of_birth';
  if (t.includes('KEY') || t.includes('TOKEN') || t.includes('SECRET') || t.includes('PASSWORD') || t.includes('JWT')) return 'credentials.secret';
  if (t.includes('COORD') || t.includes('LATITUDE') || t.includes('GPS') || t.includes('GEO')) return 'location.geolocation';
  return null;
}
function openRedactionValue(v: string): string | null {
  const r = openredaction.detect(v);
  for (const d of r.detections ?? []) {
    const c = openRedactionCategory(d.type);
    if (c) return c;
  }
  return null;
}

const tools: [string, (v: string) => string | null][] = [
  ['steward', stewardValue],
  ['redact-pii', redactPiiValue],
  ['@openredaction/openredaction', openRedactionValue],
];

// ---- throughput

function throughput(fn: (v: string) => unknown): number {
  for (let i = 0; i < Math.min(values.length, 2000); i++) fn(values[i]!.v);
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (const { v } of values) fn(v);
    best = Math.max(best, values.length / ((performance.now() - t) / 1000));
  }
  return best;
}

console.log(`Value classification on ${values.length} values from ${valueCols.length} labelled columns (seed ${SEED}); best of ${ROUNDS} rounds, one process, this machine.\n`);
const results: { name: string; vps: number; value: ReturnType<typeof score>; column: ReturnType<typeof score> }[] = [];
for (const [name, fn] of tools) {
  const vps = throughput(fn);
  const valuePreds: Prediction[] = values.map(({ v, label }) => ({ label, predicted: fn(v) }));
  const columnPreds: Prediction[] = valueCols.map((c) => {
    const counts = new Map<string, number>();
    for (const v of c.values) {
      const cat = fn(v);
      if (cat) counts.set(cat, (counts.get(cat) ?? 0) + 1);
    }
    const [top, n] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [null, 0];
    return { label: c.label, predicted: c.values.length && n / c.values.length >= 0.5 ? top : null };
  });
  results.push({ name, vps, value: score(valuePreds), column: score(columnPreds) });
}

const stewardColumn = score(
  columns.map((c) => ({ label: c.label, predicted: steward.classifyColumn({ table: c.table, column: c.column, typeClass: c.typeClass, values: c.values }).category })),
);

const base = results[0]!.vps;
console.log('tool                            values/s   vs steward   value P/R        column P/R (values only)');
for (const r of results) {
  console.log(
    `${r.name.padEnd(30)} ${r.vps.toFixed(0).padStart(10)}   ${(r.vps / base).toFixed(3).padStart(9)}×   ${r.value.overall.precision.toFixed(3)}/${r.value.overall.recall.toFixed(3)}      ${r.column.overall.precision.toFixed(3)}/${r.column.overall.recall.toFixed(3)}`,
  );
}
console.log(`\nsteward full column classifier (names + values + context), ${columns.length} columns incl. free text: precision ${stewardColumn.overall.precision.toFixed(3)}, recall ${stewardColumn.overall.recall.toFixed(3)}`);
for (const r of results) printScores(r.value, `\nvalue-level, ${r.name}:`);
