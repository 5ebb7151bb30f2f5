/**
 * `npm run bench -- accuracy [--rows 400] [--seed 7] [--dialects postgres,mysql,sqlite]`
 *
 * Loads the labelled corpus (bench/corpus) into real PostgreSQL, MariaDB and
 * SQLite, runs Steward's audit on each, and scores the inventory against the
 * labels: column-level precision and recall per category and overall.
 * Target: both ≥ 0.95.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { createPool } from 'mysql2';
import Database from 'better-sqlite3';
import { runAudit } from '../src/audit/run-audit.js';
import { loadConfigText } from '../src/config/index.js';
import { openSource } from '../src/sources/index.js';
import { LABELS, type Dialect } from './corpus/labelled.js';
import { loadCorpus } from './corpus/load.js';
import { score, printScores, type Prediction } from './scoring.js';
import { opt } from './args.js';

const ROWS = Number(opt('rows', '400'));
const SEED = Number(opt('seed', '7'));
const DIALECTS = opt('dialects', 'postgres,mysql,sqlite').split(',') as Dialect[];
const PG_URL = process.env.STEWARD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MY_URL = process.env.STEWARD_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const SCHEMA = 'steward_accuracy';

async function prepare(kind: Dialect, tmp: string): Promise<{ url: string; schema?: string }> {
  let db: Kysely<any>;
  if (kind === 'postgres') db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: PG_URL, max: 2 }) }) });
  else if (kind === 'mysql') db = new Kysely({ dialect: new MysqlDialect({ pool: createPool({ uri: MY_URL, connectionLimit: 2 }) }) });
  else db = new Kysely({ dialect: new SqliteDialect({ database: new Database(path.join(tmp, 'corpus.db')) }) });
  try {
    if (kind === 'postgres') await db.schema.dropSchema(SCHEMA).ifExists().cascade().execute();
    if (kind === 'mysql') await db.schema.dropSchema(SCHEMA).ifExists().execute();
    await loadCorpus(db, kind, { rows: ROWS, seed: SEED, ...(kind === 'sqlite' ? {} : { schema: SCHEMA }) });
    if (kind === 'postgres') await pgAnalyze(db);
  } finally {
    await db.destroy();
  }
  if (kind === 'postgres') return { url: PG_URL, schema: SCHEMA };
  if (kind === 'mysql') return { url: MY_URL.replace(/\/[^/]*$/, `/${SCHEMA}`) };
  return { url: path.join(tmp, 'corpus.db') };
}

async function pgAnalyze(db: Kysely<any>): Promise<void> {
  const { sql } = await import('kysely');
  await sql`analyze`.execute(db);
}

async function auditDialect(kind: Dialect, url: string, schema: string | undefined): Promise<Prediction[]> {
  const yml = [
    'sources:',
    `  - name: corpus_${kind}`,
    `    kind: ${kind}`,
    `    url: "${url}"`,
    '    owner: bench',
    ...(schema ? [`    schemas: [${schema}]`] : []),
    '    purposes:',
    '      - name: all',
    '        categories: ["*"]',
  ].join('\n');
  const { config, patterns } = loadConfigText(yml, { file: 'bench.yml', cwd: process.cwd(), env: {} });
  const report = await runAudit({ config, patterns, openSource: (c) => openSource(c, { readonly: true }) });
  const src = report.sources[0]!;
  if (src.status !== 'ok') throw new Error(`${kind}: ${src.error?.message}`);
  const found = new Map(src.inventory.map((i) => [`${i.table}.${i.column}`, i.category]));
  return LABELS.map((l) => ({ dialect: kind, table: l.table, column: l.column, label: l.label, predicted: found.get(`${l.table}.${l.column}`) ?? null }));
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-accuracy-'));
try {
  const predictions: Prediction[] = [];
  for (const kind of DIALECTS) {
    const t = performance.now();
    const { url, schema } = await prepare(kind, tmp);
    const loadMs = performance.now() - t;
    const t2 = performance.now();
    predictions.push(...(await auditDialect(kind, url, schema)));
    process.stderr.write(`${kind}: loaded ${LABELS.length} columns × ${ROWS} rows in ${loadMs.toFixed(0)} ms, audited in ${(performance.now() - t2).toFixed(0)} ms\n`);
  }
  console.log(`\nColumn-level accuracy of steward audit on the labelled corpus (${LABELS.length} columns × ${DIALECTS.length} dialects = ${predictions.length} columns, ${ROWS} rows each, seed ${SEED})`);
  printScores(score(predictions));
  const wrong = predictions.filter((p) => p.predicted !== p.label);
  if (wrong.length) {
    console.log('\nMisclassified:');
    for (const w of wrong) console.log(`  ${(w.dialect ?? "").padEnd(8)} ${`${w.table}.${w.column}`.padEnd(40)} expected ${String(w.label).padEnd(24)} got ${w.predicted}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
