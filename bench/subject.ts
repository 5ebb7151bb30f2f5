/**
 * `npm run bench -- subject [--subjects 1000000] [--samples 100] [--deployed-samples 20] [--phases deployed,indexed,heavy,erase] [--erasures 1000] [--erase-profile 20] [--seed 7] [--url postgres://…] [--load-only]`
 *
 * Data-subject requests on N subjects with 10·N related rows in two Postgres schemas
 * and one SQLite file (bench/subject-fixtures.ts; created once per size, then reused).
 * In one run, on the same data, the same subjects, interleaved:
 *   steward find    — the real path: discoverSubjectMap (introspection, a fresh collection
 *                     review for the inventory, inferred links measured), then findSubject
 *                     per subject by email (set-based: one query per table per hop);
 *   steward access  — findSubject + buildAccessPackage + zip (fflate, level 6) + age
 *                     encryption to one X25519 recipient, in memory (no file written);
 *   peer find       — the same lookups along the same graph (the same map, predicates and
 *                     indexes), row at a time as a per-row traversal does: one query per
 *                     identifier value and table, then one `select … where fk = $1` per
 *                     parent row found and link; named prepared statements on a pg pool of
 *                     the same size (4) and a better-sqlite3 connection with statements
 *                     prepared once. The free-text mention search is the same single
 *                     query per column as Steward's (the traversal has nothing to batch there);
 *   peer access     — peer find + the same packaging, zip and age.
 * Each peer result is checked to hold exactly Steward's rows and mentions.
 * Two phases, on the same subjects: `as deployed` (the fixture's indexes: keys, foreign
 * keys, lower(email); phones and free text have none, so those lookups scan; the first
 * `--deployed-samples 20` subjects only, since each find scans) and `indexed` (plus an
 * expression index on the digits of each phone column, written as Steward compares them,
 * and a pg_trgm GIN index on each free-text column; built, measured, dropped again).
 * A third phase, `heavy`, measures customers 1–100 with the same indexes: one order in a
 * hundred is theirs (~200 orders each at 1M subjects), apart from the random sample, to show how each path scales
 * with a subject's rows. `--phases deployed,indexed` leaves it out.
 * Prints p50/p99/max per path, the ratio peer / steward (target ≥ 10×, p99 < 200 ms),
 * query counts, where Steward's time goes per query shape, and EXPLAIN of the slowest.
 *
 * A fourth phase, `erase` (`--erasures 1000`, `--erase-profile 20`), is {@link benchErase}:
 * 1,000 erasure requests applied in one run on a copy of the fixture, rows per second,
 * against a single `DELETE` of the same rows on a second copy.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import Database from 'better-sqlite3';
import { strToU8, zipSync } from 'fflate';
import { sql, type KyselyPlugin, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import pg from 'pg';
import { encryptBuffer } from '../src/archive/age.js';
import { runAudit } from '../src/audit/run-audit.js';
import { loadConfig, type StewardConfig } from '../src/config/index.js';
import { openSource, type Source } from '../src/sources/index.js';
import { mentionMatch, subjectTableSql } from '../src/sources/subject-queries.js';
import { openStateStore } from '../src/state/index.js';
import type { StateStore } from '../src/state/store.js';
import { buildAccessPackage } from '../src/subjects/access.js';
import { discoverSubjectMap, type DiscoveredMap } from '../src/subjects/discover.js';
import { eraseSubject, type EraseResult } from '../src/subjects/erase.js';
import { deletionOrder } from '../src/subjects/erase-plan.js';
import { findSubject, type FindResult, type Mention, type SubjectRow } from '../src/subjects/find.js';
import { normaliseStored, parseIdentifiers, phoneDigitVariants, phoneSpellings, type Identifier } from '../src/subjects/identifiers.js';
import { tableKey, type QualifiedTable, type SubjectMap, type SubjectTable } from '../src/subjects/map.js';
import { CRM, ensureSubjectFixture, HEAVY, SHOP, type Fixture } from './subject-fixtures.js';
import { opt } from './args.js';

const BASE_URL = opt('url', process.env.STEWARD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const SUBJECTS = Number(opt('subjects', '1000000'));
const SAMPLES = Number(opt('samples', '100'));
const WARMUP = Number(opt('warmup', '10'));
const SEED = Number(opt('seed', '7'));
const PROFILE = Number(opt('profile', '20'));
/** Subjects measured as deployed, where every find scans (at 1M subjects a find takes seconds). */
const DEPLOYED_SAMPLES = Number(opt('deployed-samples', '20'));
/** `deployed`: the fixture's indexes; `indexed`: plus phone-digit expression and pg_trgm indexes (built, measured, dropped). */
const PHASES = new Set(opt('phases', 'deployed,indexed,heavy,erase').split(','));
const COUNTRY = 'GB';

// ---- helpers

const pct = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const qid = (...parts: string[]) => parts.map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
const rowId = (t: { source: string; schema: string; name: string }, key: Readonly<Record<string, unknown>>) => `${tableKey(t)}\0${JSON.stringify(Object.values(key).map((v) => (v === null || v === undefined ? null : String(v))))}`;

/** Per query shape (the SQL with its value lists collapsed): count and total time, for Steward's path. */
class QueryTimer implements KyselyPlugin {
  readonly started = new WeakMap<object, { t: number; node: RootOperationNode }>();
  readonly shapes = new Map<string, { n: number; ms: number; max: number; maxSql: { sql: string; parameters: readonly unknown[] } | null }>();
  enabled = false;
  constructor(private readonly compile: (node: RootOperationNode, queryId: object) => { sql: string; parameters: readonly unknown[] }) {}
  transformQuery(args: { queryId: object; node: RootOperationNode }): RootOperationNode {
    if (this.enabled) this.started.set(args.queryId, { t: performance.now(), node: args.node });
    return args.node;
  }
  async transformResult(args: { queryId: object; result: QueryResult<UnknownRow> }): Promise<QueryResult<UnknownRow>> {
    const s = this.started.get(args.queryId);
    if (s) {
      const took = performance.now() - s.t;
      const c = this.compile(s.node, args.queryId);
      const shape = c.sql.replace(/\$\d+(\s*,\s*\$\d+)*/g, '$…').replace(/\?(\s*,\s*\?)*/g, '?…').replace(/\s+/g, ' ');
      const e = this.shapes.get(shape) ?? { n: 0, ms: 0, max: 0, maxSql: null };
      e.n++;
      e.ms += took;
      if (took > e.max) {
        e.max = took;
        e.maxSql = c;
      }
      this.shapes.set(shape, e);
    }
    return args.result;
  }
}

/** The source with its Kysely instance carrying the timer (find.ts only reads `db` and `kind`). */
function timed(source: Source, timer: QueryTimer): Source {
  const db = source.db.withPlugin(timer);
  return new Proxy(source, {
    get(target, prop) {
      if (prop === 'db') return db;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

// ---- the peer: the same graph, row at a time

interface Peer {
  readonly map: SubjectMap;
  readonly schemas: DiscoveredMap['schemas'];
  readonly pool: pg.Pool;
  readonly sqlite: Database.Database;
  readonly kinds: ReadonlyMap<string, 'postgres' | 'sqlite'>;
  /** Steward's sources: the mention search runs the same query as Steward's. */
  readonly sources: ReadonlyMap<string, Source>;
  readonly statements: Map<string, { name: string } | Database.Statement>;
}

let peerStatements = 0;

async function peerQuery(p: Peer, source: string, text: string, values: readonly unknown[]): Promise<Record<string, unknown>[]> {
  if (p.kinds.get(source) === 'sqlite') {
    let st = p.statements.get(`sqlite\0${text}`) as Database.Statement | undefined;
    if (!st) {
      st = p.sqlite.prepare(text.replace(/\$\d+/g, '?'));
      p.statements.set(`sqlite\0${text}`, st);
    }
    return st.all(...values) as Record<string, unknown>[];
  }
  let named = p.statements.get(`pg\0${text}`) as { name: string } | undefined;
  if (!named) {
    named = { name: `peer_${++peerStatements}` };
    p.statements.set(`pg\0${text}`, named);
  }
  return (await p.pool.query({ name: named.name, text, values: values as unknown[] })).rows as Record<string, unknown>[];
}

const STRIP = [' ', '-', '(', ')', '.', '+', '/'];
/** The same comparison as src/sources/subject-queries.ts#identifierMatch, for one identifier value. */
function peerPredicate(kind: 'postgres' | 'sqlite', idKind: Identifier['kind'], column: string, n: number): string {
  const c = qid(column);
  if (idKind === 'email') return `lower(${c}) = $1`;
  const text = kind === 'postgres' ? `${c}::text` : `cast(${c} as text)`;
  const strip = (e: string, chars: readonly string[]) => chars.reduce((x, ch) => `replace(${x}, '${ch}', '')`, e);
  const list = Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');
  if (idKind === 'phone') return `${strip(text, STRIP)} in (${list})`;
  return `upper(${strip(text, [' ', '-', '.', '/'])}) in (${list})`;
}

const tableSql = (p: Peer, t: { source: string; schema: string; name: string }) => (p.kinds.get(t.source) === 'sqlite' ? qid(t.name) : qid(t.schema, t.name));

async function peerFind(p: Peer, given: readonly Identifier[]): Promise<{ result: FindResult; queries: number }> {
  const started = Date.now();
  let queries = 0;
  const rows = new Map<string, SubjectRow>();
  const known = new Map<string, Identifier & { given: boolean }>();
  const pendingIds: Identifier[] = [];
  const pendingRows: { mt: SubjectTable; row: Record<string, unknown> }[] = [];
  const addId = (i: Identifier, isGiven: boolean) => {
    const k = `${i.kind}\0${i.value}`;
    if (known.has(k)) return;
    known.set(k, { ...i, given: isGiven });
    pendingIds.push(i);
  };
  for (const i of given) addId(i, true);
  const pkOf = (mt: SubjectTable) => p.schemas.get(mt.source)!.tables.find((t) => t.schema === mt.schema && t.name === mt.name)!.primaryKey;
  const accept = (mt: SubjectTable, r: Record<string, unknown>, via: string) => {
    const key = Object.fromEntries(pkOf(mt).map((k) => [k, r[k]]));
    const id = rowId(mt, key);
    const had = rows.get(id);
    if (had) {
      (had.via as string[]).push(via);
      return;
    }
    rows.set(id, { source: mt.source, schema: mt.schema, name: mt.name, key, row: r, via: [via] });
    pendingRows.push({ mt, row: r });
    for (const c of mt.identifiers) {
      const v = normaliseStored(c.kind, r[c.column], COUNTRY);
      if (v) addId({ kind: c.kind, value: v }, false);
    }
  };
  const searchable = p.map.tables.filter((t) => t.role !== 'excluded' && t.identifiers.length > 0);
  const used = p.map.links.filter((l) => l.used && !l.reference);
  const byKey = new Map(p.map.tables.map((t) => [tableKey(t), t]));
  while (pendingIds.length > 0 || pendingRows.length > 0) {
    // One query per identifier value and table column.
    while (pendingIds.length > 0) {
      const i = pendingIds.shift()!;
      for (const mt of searchable) {
        for (const col of mt.identifiers.filter((c) => c.kind === i.kind && !c.encrypted)) {
          const kind = p.kinds.get(mt.source)!;
          const values = i.kind === 'phone' ? [...new Set(phoneDigitVariants(i.value, COUNTRY))] : [i.value];
          queries++;
          for (const r of await peerQuery(p, mt.source, `select * from ${tableSql(p, mt)} where ${peerPredicate(kind, i.kind, col.column, values.length)}`, values)) accept(mt, r, i.kind);
        }
      }
    }
    // One query per parent row found and link.
    while (pendingRows.length > 0) {
      const { mt, row } = pendingRows.shift()!;
      for (const l of used.filter((x) => tableKey(x.parent) === tableKey(mt))) {
        const child = byKey.get(tableKey(l.child));
        if (!child || child.role === 'excluded') continue;
        const values = l.parent.columns.map((c) => row[c]);
        if (values.some((v) => v === null || v === undefined)) continue;
        const where = l.child.columns.map((c, n) => `${qid(c)} = $${n + 1}`).join(' and ');
        queries++;
        for (const r of await peerQuery(p, child.source, `select * from ${tableSql(p, child)} where ${where}`, values)) accept(child, r, `link:${l.child.name}`);
      }
      if (pendingIds.length > 0) break;
    }
  }
  // Mentions: the same query as Steward's, per free-text column.
  const mentions: Mention[] = [];
  const words = [...known.values()].map((i) => ({ kind: i.kind, text: i.value }));
  const texts = words.flatMap((w) => (w.kind === 'phone' ? phoneSpellings(w.text) : [w.text]));
  for (const mt of p.map.tables.filter((t) => t.role !== 'excluded' && t.freeText.length > 0)) {
    const src = p.sources.get(mt.source)!;
    for (const column of mt.freeText) {
      for (let at = 0; at < texts.length; at += 50) {
        queries++;
        const found = (await sql<Record<string, unknown>>`select * from ${subjectTableSql(mt, src.kind)} where ${mentionMatch(column, texts.slice(at, at + 50), src.kind)}`.execute(src.db)).rows;
        for (const r of found) {
          const key = Object.fromEntries(pkOf(mt).map((k) => [k, r[k]]));
          const text = String(r[column] ?? '').toLowerCase();
          const kinds = [...new Set(words.filter((w) => (w.kind === 'phone' ? phoneSpellings(w.text) : [w.text]).some((s) => text.includes(s.toLowerCase()))).map((w) => w.kind))];
          if (!mentions.some((m) => rowId(m, m.key) === rowId(mt, key) && m.column === column)) mentions.push({ source: mt.source, schema: mt.schema, name: mt.name, key, column, kinds });
        }
      }
    }
  }
  return {
    result: { identifiers: [...known.values()], rows: [...rows.values()], mentions, references: [], notMerged: [], ambiguous: null, unsearched: [], notDecrypted: [], stats: { hops: 0, queries, durationMs: Date.now() - started } },
    queries,
  };
}

// ---- packaging, the same for both

async function packageOf(config: StewardConfig, map: SubjectMap, found: FindResult, recipient: string): Promise<number> {
  const pkg = buildAccessPackage({ config, map, found, generatedAt: new Date().toISOString() });
  const zip = zipSync(Object.fromEntries(Object.entries(pkg.files).map(([n, t]) => [n, strToU8(t)])), { level: 6, mtime: new Date() });
  return (await encryptBuffer(zip, [recipient])).length;
}

// ---- the indexes that would serve the lookups that scan

const EXTRA = 'bench_extra_';

/**
 * For the second phase: on every Postgres table of the map, an expression index on the
 * digits of each phone column, written exactly as Steward compares them (the separators
 * it strips, in its order), and a pg_trgm GIN index on `lower(col)` of each free-text
 * column. Both serve Steward's statements as they are (checked with EXPLAIN): the
 * separators are bound parameters, which Postgres folds into the custom plan.
 */
async function createExtraIndexes(pool: pg.Pool, map: SubjectMap): Promise<{ statements: string[]; seconds: number }> {
  const t = performance.now();
  const statements: string[] = [];
  const pgTables = map.tables.filter((x) => x.source === 'app' && x.role !== 'excluded');
  for (const mt of pgTables) {
    for (const col of mt.identifiers.filter((c) => c.kind === 'phone')) {
      const digits = STRIP.reduce((x, ch) => `replace(${x}, '${ch}', '')`, `${qid(col.column)}::text`);
      statements.push(`create index ${qid(`${EXTRA}${mt.name}_${col.column}_digits`)} on ${qid(mt.schema, mt.name)} ((${digits}))`);
    }
    for (const col of mt.freeText) statements.push(`create index ${qid(`${EXTRA}${mt.name}_${col}_trgm`)} on ${qid(mt.schema, mt.name)} using gin (lower(${qid(col)}) gin_trgm_ops)`);
  }
  const c = await pool.connect();
  try {
    await c.query('set default_transaction_read_only = off');
    await c.query(`set maintenance_work_mem = '512MB'`);
    await c.query('create extension if not exists pg_trgm');
    for (const s of statements) await c.query(s);
    for (const mt of pgTables) await c.query(`analyze ${qid(mt.schema, mt.name)}`);
  } finally {
    c.release(true);
  }
  return { statements, seconds: (performance.now() - t) / 1000 };
}

async function dropExtraIndexes(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('set default_transaction_read_only = off');
    const r = await c.query<{ s: string; i: string }>(`select schemaname s, indexname i from pg_indexes where indexname like '${EXTRA}%'`);
    for (const x of r.rows) await c.query(`drop index ${qid(x.s, x.i)}`);
  } finally {
    c.release(true);
  }
}

// ---- erasure

const ERASURES = Number(opt('erasures', '1000'));
/** Extra subjects erased after the timed ones, each also as a find and a dry run, to split the time by phase. */
const ERASE_PROFILE = Number(opt('erase-profile', '20'));

/** Adds up the time spent in the state store's async methods (nested stores too). */
function timedStore<T extends object>(target: T, clock: { ms: number; calls: number }): T {
  return new Proxy(target, {
    get(t, prop) {
      const v = Reflect.get(t, prop, t) as unknown;
      if (typeof v === 'function') {
        return (...a: unknown[]) => {
          const started = performance.now();
          const r = (v as (...x: unknown[]) => unknown).apply(t, a);
          if (r && typeof (r as Promise<unknown>).then === 'function') {
            return (r as Promise<unknown>).finally(() => {
              clock.ms += performance.now() - started;
              clock.calls++;
            });
          }
          return r;
        };
      }
      return v && typeof v === 'object' && !Array.isArray(v) ? timedStore(v as object, clock) : v;
    },
  });
}

async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'steward-bench-erase' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const dbUrl = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

/** `create database … template …`, retried while something (autovacuum, a session just closing) still holds the template. */
async function copyDatabase(url: string, template: string, name: string): Promise<number> {
  const t = performance.now();
  await withPg(dbUrl(url, 'postgres'), async (c) => {
    await c.query(`drop database if exists ${qid(name)}`);
    for (let attempt = 1; ; attempt++) {
      try {
        await c.query(`create database ${qid(name)} template ${qid(template)}`);
        return;
      } catch (e) {
        if (attempt >= 10 || !/being accessed by other users/.test(String((e as Error).message))) throw e;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  });
  return (performance.now() - t) / 1000;
}

interface Fingerprint {
  readonly rows: number;
  readonly hash: string;
}

/**
 * Per table of the map: the rows left and a hash of their content, leaving out the rows
 * Steward changed and kept (redacted, anonymised, unlinked), which a DELETE leaves as they were.
 */
async function fingerprints(pgUrl: string, sqliteFile: string, discovered: DiscoveredMap, changed: ReadonlyMap<string, Set<string>>): Promise<Map<string, Fingerprint>> {
  const out = new Map<string, Fingerprint>();
  const tables = [...discovered.schemas.values()].flatMap((s) => s.tables.filter((t) => t.kind === 'table' && t.name !== 'fixture_marker').map((t) => ({ source: s.source, t })));
  await withPg(pgUrl, async (c) => {
    for (const { source, t } of tables.filter((x) => x.source === 'app')) {
      const skip = [...(changed.get(tableKey({ source, schema: t.schema, name: t.name })) ?? [])];
      if (skip.length > 0 && t.primaryKey.length !== 1) throw new Error(`bench: rows of ${t.schema}.${t.name} (composite key) were changed in place; the fingerprint leaves out single-column keys only`);
      const where = skip.length > 0 ? `where ${qid(t.primaryKey[0]!)}::text <> all($1::text[])` : '';
      const r = await c.query<{ n: string; h: string }>(`select count(*)::text n, coalesce(sum(hashtextextended(x::text, 0)::numeric), 0)::text h from ${qid(t.schema, t.name)} x ${where}`, skip.length > 0 ? [skip] : []);
      out.set(tableKey({ source, schema: t.schema, name: t.name }), { rows: Number(r.rows[0]!.n), hash: r.rows[0]!.h });
    }
  });
  const db = new Database(sqliteFile, { readonly: true });
  try {
    for (const { source, t } of tables.filter((x) => x.source === 'marketing')) {
      const skip = changed.get(tableKey({ source, schema: t.schema, name: t.name })) ?? new Set<string>();
      const h = createHash('sha256');
      let n = 0;
      for (const r of db.prepare(`select * from ${qid(t.name)} order by ${t.primaryKey.map((k) => qid(k)).join(', ')}`).iterate() as IterableIterator<Record<string, unknown>>) {
        if (t.primaryKey.length === 1 && skip.has(String(r[t.primaryKey[0]!]))) continue;
        h.update(JSON.stringify(r));
        n++;
      }
      out.set(tableKey({ source, schema: t.schema, name: t.name }), { rows: n, hash: h.digest('hex').slice(0, 16) });
    }
  } finally {
    db.close();
  }
  return out;
}

/** Keys of planned rows per table (for the DELETE, and for the rows changed in place). */
function keysByTable(results: readonly EraseResult[], actions: ReadonlySet<string>, discovered: DiscoveredMap): Map<string, { t: QualifiedTable; pk: readonly string[]; keys: Map<string, readonly unknown[]> }> {
  const out = new Map<string, { t: QualifiedTable; pk: readonly string[]; keys: Map<string, readonly unknown[]> }>();
  for (const r of results) {
    for (const row of r.plan?.rows ?? []) {
      if (!actions.has(row.action)) continue;
      const k = tableKey(row);
      let e = out.get(k);
      if (!e) {
        const ti = discovered.schemas.get(row.source)!.tables.find((x) => x.schema === row.schema && x.name === row.name)!;
        e = { t: { source: row.source, schema: row.schema, name: row.name }, pk: ti.primaryKey, keys: new Map() };
        out.set(k, e);
      }
      const values = e.pk.map((c) => row.key[c]);
      e.keys.set(JSON.stringify(values.map((v) => String(v))), values);
    }
  }
  return out;
}

const intKey = (v: unknown, where: string): string => {
  const s = String(v);
  if (!/^-?\d+$/.test(s)) throw new Error(`bench: ${where} has a non-integer key value; the DELETE floor handles integer keys only`);
  return s;
};

/**
 * The floor: per source one transaction, per table (children first) one
 * `DELETE … WHERE key IN (the keys)` with every key as one array parameter.
 */
async function deleteFloor(pgUrl: string, sqliteFile: string, rows: ReturnType<typeof keysByTable>, order: readonly string[], warm: boolean): Promise<{ pgMs: number; sqliteMs: number; deleted: number; perTable: Map<string, number> }> {
  const perTable = new Map<string, number>();
  const ordered = order.filter((k) => rows.has(k)).map((k) => [k, rows.get(k)!] as const);
  for (const k of rows.keys()) if (!order.includes(k)) throw new Error(`bench: ${k} is not in the deletion order`);
  const pgSql = (t: QualifiedTable, pk: readonly string[]) =>
    pk.length === 1
      ? `${qid(pk[0]!)} = any($1::bigint[])`
      : `(${pk.map((c) => qid(c)).join(', ')}) in (select * from unnest(${pk.map((_, i) => `$${i + 1}::bigint[]`).join(', ')}))`;
  const pgParams = (e: (typeof ordered)[number][1]) => e.pk.map((_, i) => [...e.keys.values()].map((v) => intKey(v[i], tableKey(e.t))));
  let pgMs = 0;
  await withPg(pgUrl, async (c) => {
    const mine = ordered.filter(([, e]) => e.t.source === 'app');
    // Warm the cache with the same lookups (the floor is the DELETE at its cheapest; Steward's own find reads these pages first, too).
    if (warm) for (const [, e] of mine) await c.query(`select count(*) from ${qid(e.t.schema, e.t.name)} where ${pgSql(e.t, e.pk)}`, pgParams(e));
    const t = performance.now();
    await c.query('begin');
    for (const [k, e] of mine) {
      const r = await c.query(`delete from ${qid(e.t.schema, e.t.name)} where ${pgSql(e.t, e.pk)}`, pgParams(e));
      perTable.set(k, r.rowCount ?? 0);
    }
    await c.query('commit');
    pgMs = performance.now() - t;
  });
  const db = new Database(sqliteFile);
  let sqliteMs = 0;
  try {
    const mine = ordered.filter(([, e]) => e.t.source === 'marketing');
    for (const [, e] of mine) if (e.pk.length !== 1) throw new Error(`bench: ${tableKey(e.t)} has a composite key; the SQLite floor handles single-column keys only`);
    const json = (e: (typeof ordered)[number][1]) => JSON.stringify([...e.keys.values()].map((v) => Number(intKey(v[0], tableKey(e.t)))));
    if (warm) for (const [, e] of mine) db.prepare(`select count(*) from ${qid(e.t.name)} where ${qid(e.pk[0]!)} in (select value from json_each(?))`).get(json(e));
    const t = performance.now();
    db.transaction(() => {
      for (const [k, e] of mine) perTable.set(k, db.prepare(`delete from ${qid(e.t.name)} where ${qid(e.pk[0]!)} in (select value from json_each(?))`).run(json(e)).changes);
    })();
    sqliteMs = performance.now() - t;
  } finally {
    db.close();
  }
  return { pgMs, sqliteMs, deleted: [...perTable.values()].reduce((a, b) => a + b, 0), perTable };
}

/**
 * 1,000 erasure requests applied in one run, rows per second, against a single `DELETE`
 * of the same rows. On two copies of the fixture (Postgres `create database … template`,
 * a file copy of the SQLite database), dropped at the end, so the find/access fixture
 * stays as it was:
 *   copy A: `eraseSubject` for each of `--erasures` subjects (random, seeded, none of the
 *           latency sample and none of the heavy buyers 1–100), one after another, each
 *           request as `steward subject erase --email …` runs it (one state store, a
 *           temporary SQLite file, for the whole run; the map derived once, as in main).
 *           Then `--erase-profile` more subjects, each first as a find and a dry run, to
 *           split the time: find, facts + preflight (dry run − find), apply (erase − dry run).
 *   copy B: per source one transaction, per table (children first) one `DELETE` of every
 *           key Steward's plans deleted, after a warm-up select of the same keys.
 * Then per table, both copies must hold the same rows with the same content (leaving out
 * the rows Steward redacted, which a DELETE does not touch).
 * Both copies carry the phone-digit and trigram indexes of the `indexed` phase: without
 * them every find scans (3–4 s at 1M subjects, see the find figures).
 */
async function benchErase(ctx: { readonly fixture: Fixture; readonly discovered: DiscoveredMap; readonly config: StewardConfig; readonly dir: string; readonly exclude: ReadonlySet<number> }): Promise<void> {
  const { fixture, discovered, config } = ctx;
  const { map } = discovered;
  const base = new URL(fixture.url).pathname.slice(1);
  const names = { a: `${base}_erase_a`, b: `${base}_erase_b` };
  const files = { a: path.join(ctx.dir, 'marketing-erase-a.db'), b: path.join(ctx.dir, 'marketing-erase-b.db') };
  const urls = { a: dbUrl(fixture.url, names.a), b: dbUrl(fixture.url, names.b) };

  // The extra indexes, on the template (dropped again by main), so both copies have them.
  let indexSeconds = 0;
  await withPg(fixture.url, async (c) => {
    const have = Number((await c.query(`select count(*) n from pg_indexes where indexname like '${EXTRA}%'`)).rows[0].n);
    if (have === 0) {
      process.stderr.write('erasure: creating the phone-digit and trigram indexes on the fixture…\n');
      const pool = new pg.Pool({ connectionString: fixture.url, max: 1 });
      try {
        indexSeconds = (await createExtraIndexes(pool, map)).seconds;
      } finally {
        await pool.end();
      }
    }
  });
  process.stderr.write('erasure: copying the fixture twice…\n');
  const copySeconds = [await copyDatabase(fixture.url, base, names.a), await copyDatabase(fixture.url, base, names.b)];
  const tFile = performance.now();
  copyFileSync(fixture.sqliteFile, files.a);
  copyFileSync(fixture.sqliteFile, files.b);
  const fileSeconds = (performance.now() - tFile) / 1000;

  try {
    // Subjects: seeded, distinct, outside the latency sample and the heavy buyers.
    const firstId = SUBJECTS >= 100 * HEAVY ? HEAVY + 1 : 1;
    const want = Math.min(ERASURES + ERASE_PROFILE, SUBJECTS - firstId + 1 - ctx.exclude.size);
    let seed = SEED * 7919 + 13;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 0x100000000);
    const picked = new Set<number>();
    while (picked.size < want) {
      const id = firstId + Math.floor(rand() * (SUBJECTS - firstId + 1));
      if (!ctx.exclude.has(id)) picked.add(id);
    }
    const all = [...picked];
    const timedIds = all.slice(0, Math.min(ERASURES, all.length));
    const profileIds = all.slice(timedIds.length);
    const emailOf = new Map(
      await withPg(urls.a, async (c) => (await c.query<{ id: string; email: string }>(`select id, email from ${SHOP}.customers where id = any($1::bigint[])`, [all])).rows.map((r) => [Number(r.id), r.email] as const)),
    );

    const storeClock = { ms: 0, calls: 0 };
    const store = await openStateStore({ url: path.join(ctx.dir, 'erase-state.db'), baseDir: ctx.dir });
    const sources = new Map<string, Source>([
      ['app', await openSource({ name: 'app', kind: 'postgres', url: urls.a }, { readonly: false, command: 'subject' })],
      ['marketing', await openSource({ name: 'marketing', kind: 'sqlite', url: `sqlite://${files.a}` }, { readonly: false, command: 'subject' })],
    ]);
    const timer = new QueryTimer((node, queryId) => {
      for (const s of sources.values()) {
        try {
          return s.db.getExecutor().compileQuery(node, queryId as never);
        } catch {
          // the other source's compiler
        }
      }
      return { sql: '?', parameters: [] };
    });
    const timedSources = new Map([...sources].map(([n, s]) => [n, timed(s, timer)]));
    const profiledStore = timedStore(store, storeClock);
    const identifiersOf = (id: number) => parseIdentifiers({ email: [emailOf.get(id)!] }, { defaultCountry: COUNTRY });
    const erase = (id: number, dryRun: boolean, srcs: ReadonlyMap<string, Source> = sources, st: StateStore = store) =>
      eraseSubject({ config, map, schemas: discovered.schemas, sources: srcs, store: st, identifiers: identifiersOf(id), defaultCountry: COUNTRY, dryRun, actor: 'bench' });
    const tally = (rs: readonly EraseResult[]) => {
      const by: Record<string, number> = {};
      for (const r of rs) for (const c of r.certificates) for (const t of c.tables) by[t.action] = (by[t.action] ?? 0) + t.rows;
      return by;
    };
    const changedRows = (by: Record<string, number>) => (by.delete ?? 0) + (by.anonymise ?? 0) + (by.redact ?? 0) + (by.unlink ?? 0);

    // copy A, the timed run.
    process.stderr.write(`erasure: ${timedIds.length} subjects, one eraseSubject each…\n`);
    const lat: number[] = [];
    const results: EraseResult[] = [];
    const failed: string[] = [];
    const tRun = performance.now();
    for (const [n, id] of timedIds.entries()) {
      const t = performance.now();
      const r = await erase(id, false);
      lat.push(performance.now() - t);
      results.push(r);
      if (r.ambiguous || r.notFound || r.problems.length > 0 || r.certificates.length === 0) failed.push(`#${id}: ${r.ambiguous ? 'ambiguous' : r.notFound ? 'not found' : r.problems.join('; ') || 'no certificate'}`);
      if ((n + 1) % 100 === 0) process.stderr.write(`  ${n + 1}/${timedIds.length} (${((performance.now() - tRun) / 1000).toFixed(0)} s)\n`);
    }
    const runMs = performance.now() - tRun;
    const by = tally(results);
    const planned = results.reduce((n, r) => n + (r.plan?.rows.filter((x) => x.action === 'delete').length ?? 0), 0);

    // copy A, the profile: find, dry run, erase for each extra subject; queries and state store timed during the erase.
    process.stderr.write(`erasure: profile on ${profileIds.length} more subjects (find, dry run, erase each)…\n`);
    const prof = { find: [] as number[], dry: [] as number[], real: [] as number[], store: [] as number[], queries: [] as number[] };
    const profileResults: EraseResult[] = [];
    timer.shapes.clear();
    for (const id of profileIds) {
      let t = performance.now();
      await findSubject({ map, schemas: discovered.schemas, sources, identifiers: identifiersOf(id), defaultCountry: COUNTRY });
      prof.find.push(performance.now() - t);
      t = performance.now();
      await erase(id, true);
      prof.dry.push(performance.now() - t);
      const s0 = storeClock.ms;
      const q0 = [...timer.shapes.values()].reduce((a, e) => a + e.ms, 0);
      timer.enabled = true;
      t = performance.now();
      const r = await erase(id, false, timedSources, profiledStore);
      prof.real.push(performance.now() - t);
      timer.enabled = false;
      prof.store.push(storeClock.ms - s0);
      prof.queries.push([...timer.shapes.values()].reduce((a, e) => a + e.ms, 0) - q0);
      profileResults.push(r);
      if (r.ambiguous || r.notFound || r.problems.length > 0) failed.push(`profile #${id}: ${r.ambiguous ? 'ambiguous' : r.notFound ? 'not found' : r.problems.join('; ')}`);
    }
    for (const s of sources.values()) await s.close();
    await store.close();

    // copy B: the floor, then (untimed) the profile subjects' rows, so both copies end alike.
    const order = deletionOrder(map, [...results, ...profileResults].flatMap((r) => r.plan?.rows.filter((x) => x.action === 'delete') ?? []));
    const timedKeys = keysByTable(results, new Set(['delete']), discovered);
    const distinct = [...timedKeys.values()].reduce((n, e) => n + e.keys.size, 0);
    process.stderr.write(`erasure: the single DELETE of the same ${distinct} rows on the second copy…\n`);
    const floor = await deleteFloor(urls.b, files.b, timedKeys, order, true);
    const rest = await deleteFloor(urls.b, files.b, keysByTable(profileResults, new Set(['delete']), discovered), order, false);

    // The same rows left, with the same content, in both copies.
    process.stderr.write('erasure: comparing both copies table by table…\n');
    const changed = new Map([...keysByTable([...results, ...profileResults], new Set(['redact', 'anonymise', 'unlink']), discovered)].map(([k, e]) => [k, new Set([...e.keys.values()].map((v) => v.map(String).join(',')))]));
    const fa = await fingerprints(urls.a, files.a, discovered, changed);
    const fb = await fingerprints(urls.b, files.b, discovered, changed);
    const differ = [...fa].filter(([k, v]) => fb.get(k)?.rows !== v.rows || fb.get(k)?.hash !== v.hash).map(([k, v]) => `${k}: steward ${v.rows} rows, DELETE ${fb.get(k)?.rows ?? '?'}${fb.get(k)?.rows === v.rows ? ' (content differs)' : ''}`);

    // Report.
    const stewardRows = changedRows(by);
    const stewardRate = stewardRows / (runMs / 1000);
    const deleteRate = floor.deleted / ((floor.pgMs + floor.sqliteMs) / 1000);
    const stewardDeleteRate = (by.delete ?? 0) / (runMs / 1000);
    const rate = (x: number) => Math.round(x).toLocaleString('en');
    const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    console.log(`== erasure: ${timedIds.length.toLocaleString('en')} requests in one run (subjects drawn at random from ${firstId}–${SUBJECTS}, seed ${SEED}; none of the latency sample${firstId > 1 ? ', none of the heavy buyers' : ''})`);
    console.log(`copies: Postgres create database … template ${copySeconds.map((x) => `${x.toFixed(1)} s`).join(' and ')}, SQLite file copy ${fileSeconds.toFixed(1)} s for both${indexSeconds ? `; phone-digit and trigram indexes built on the fixture first in ${indexSeconds.toFixed(0)} s` : '; the phone-digit and trigram indexes of the indexed phase carried over'}`);
    console.log(`steward: ${results.length} × eraseSubject (find, facts, preflight in a rolled-back transaction, text and rows jobs per source, certificate), sequential, one SQLite state store`);
    console.log(`  ${(runMs / 1000).toFixed(1)} s; rows changed ${stewardRows.toLocaleString('en')} (deleted ${(by.delete ?? 0).toLocaleString('en')}, redacted ${(by.redact ?? 0).toLocaleString('en')}, anonymised ${(by.anonymise ?? 0).toLocaleString('en')}, unlinked ${(by.unlink ?? 0).toLocaleString('en')}; kept ${(by.keep ?? 0) + (by.shared ?? 0)}) → ${rate(stewardRate)} rows/s (${rate(stewardDeleteRate)} deleted rows/s), ${avg(results.map((r) => changedRows(tally([r])))).toFixed(1)} rows per request`);
    console.log(`  per request: p50 ${ms(pct(lat, 0.5))} ms, p99 ${ms(pct(lat, 0.99))} ms, max ${ms(Math.max(...lat))} ms`);
    console.log(`  certificates: deleted rows ${(by.delete ?? 0) === planned ? `= the plans' ${planned}` : `${by.delete ?? 0} ≠ the plans' ${planned}`}; ${failed.length === 0 ? 'every request erased (none ambiguous, none not found, no problem)' : `${failed.length} request(s) did not erase: ${failed.slice(0, 5).join(' | ')}`}`);
    console.log(`DELETE: the same ${distinct.toLocaleString('en')} rows (every key Steward's plans deleted), per table children first, one transaction per database, after a warm-up select of the same keys`);
    console.log(`  Postgres ${ms(floor.pgMs)} ms + SQLite ${ms(floor.sqliteMs)} ms, ${floor.deleted.toLocaleString('en')} rows deleted → ${rate(deleteRate)} rows/s${floor.deleted === distinct ? '' : ` (expected ${distinct}: MISMATCH)`}`);
    console.log(`  ${[...floor.perTable].map(([k, n]) => `${JSON.parse(k).slice(1).join('.')} ${n}`).join(', ')}`);
    console.log(`steward ÷ DELETE: ${(stewardRate / deleteRate).toFixed(4)} (rows changed/s ÷ rows deleted/s; deleted rows only ${(stewardDeleteRate / deleteRate).toFixed(4)}): the DELETE is ${(deleteRate / stewardRate).toFixed(0)}× faster`);
    console.log(
      differ.length === 0
        ? `both copies: the same rows left with the same content in all ${fa.size} tables (the ${[...changed.values()].reduce((n, s) => n + s.size, 0)} rows Steward redacted left out of the content check)`
        : `copies DIFFER in ${differ.length} table(s):\n  ${differ.join('\n  ')}`,
    );
    if (profileIds.length > 0) {
      const total = avg(prof.real);
      const share = (x: number) => `${((x / total) * 100).toFixed(0)} %`;
      const fd = avg(prof.find);
      const dd = avg(prof.dry) - fd;
      const ap = avg(prof.real) - avg(prof.dry);
      console.log(`where one erasure spends its time (${profileIds.length} more subjects; each found, dry-run, then erased; averages):`);
      console.log(`  erase ${ms(total)} ms = find ${ms(fd)} ms (${share(fd)}) + facts and preflight ${ms(dd)} ms (${share(dd)}, dry run − find) + apply ${ms(ap)} ms (${share(ap)}, erase − dry run)`);
      console.log(`  of the erase: database statements ${ms(avg(prof.queries))} ms (${share(avg(prof.queries))}), state store ${ms(avg(prof.store))} ms (${share(avg(prof.store))}, ${(storeClock.calls / profileIds.length).toFixed(0)} calls), the rest (planning, Node) ${ms(total - avg(prof.queries) - avg(prof.store))} ms`);
      const shapes = [...timer.shapes].sort((x, y) => y[1].ms - x[1].ms);
      const qtotal = shapes.reduce((n, [, e]) => n + e.ms, 0);
      console.log(`  statements per erase: ${(shapes.reduce((n, [, e]) => n + e.n, 0) / profileIds.length).toFixed(1)} (${shapes.length} shapes); the slowest shapes (total ms, share of statement time, count, max ms):`);
      for (const [shape, e] of shapes.slice(0, 10)) console.log(`  ${e.ms.toFixed(0).padStart(6)} ms ${((e.ms / qtotal) * 100).toFixed(0).padStart(3)}%  ×${String(e.n).padStart(4)}  max ${e.max.toFixed(1).padStart(6)}  ${shape.length > 150 ? `${shape.slice(0, 147)}…` : shape}`);
    }
    void rest;
  } finally {
    await withPg(dbUrl(fixture.url, 'postgres'), async (c) => {
      for (const n of [names.a, names.b]) await c.query(`drop database if exists ${qid(n)}`);
    }).catch((e: unknown) => process.stderr.write(`erasure: could not drop the copies: ${String(e)}\n`));
    for (const f of [files.a, files.b]) rmSync(f, { force: true });
  }
}

// ---- the run

async function main(): Promise<void> {
  const runStarted = performance.now();
  const fixture = await ensureSubjectFixture(BASE_URL, SUBJECTS, process.argv.includes('--url') ? { url: BASE_URL } : {});
  const related = Object.entries(fixture.rows).filter(([t]) => t !== `${SHOP}.customers`).reduce((n, [, c]) => n + c, 0);
  if (process.argv.includes('--load-only')) return;
  process.stderr.write(fixture.reused ? `fixture reused (${new URL(fixture.url).pathname.slice(1)}, ${fixture.sqliteFile})\n` : `fixture loaded in ${fixture.loadSeconds.toFixed(0)} s\n`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-bench-subject-run-'));
  try {
    writeFileSync(
      path.join(dir, 'steward.yml'),
      [
        'purposes:',
        '  - { name: orders, legalBasis: contract, description: Deliver and invoice orders, categories: [contact.*, identity.*, location.*] }',
        '  - { name: marketing, legalBasis: consent, description: Newsletters, categories: [contact.email] }',
        'sources:',
        `  - { name: app, kind: postgres, url: ${JSON.stringify(fixture.url)}, owner: shop-team, purposes: [orders], recipients: [Parcel carrier] }`,
        `  - { name: marketing, kind: sqlite, url: ${JSON.stringify(`sqlite://${fixture.sqliteFile}`)}, owner: marketing-team, purposes: [marketing] }`,
        'subjects:',
        `  defaultCountry: ${COUNTRY}`,
        'state:',
        `  url: ${JSON.stringify(path.join(dir, 'state.db'))}`,
      ].join('\n'),
    );
    const loaded = await loadConfig({ path: path.join(dir, 'steward.yml'), cwd: dir, env: process.env });
    const { config } = loaded;
    const store = await openStateStore({ url: path.join(dir, 'state.db'), baseDir: dir });
    const sources = new Map<string, Source>();
    for (const s of config.sources) sources.set(s.name, await openSource({ name: s.name, kind: s.kind, url: s.url }, { readonly: true, command: 'subject' }));

    // The map, the way `steward subject find` gets it when no audit is recorded: a fresh collection review.
    process.stderr.write('deriving the subject map (introspection, collection review, inferred links)…\n');
    const tMap = performance.now();
    const discovered = await discoverSubjectMap({
      config,
      sources,
      store,
      freshInventory: async (name) => (await runAudit({ config, patterns: loaded.patterns, stage: 'collection', sources: [name], openSource: (conn) => openSource(conn, { readonly: true, command: 'audit' }) })).sources.flatMap((s) => s.inventory),
    });
    const mapSeconds = (performance.now() - tMap) / 1000;
    const { map } = discovered;

    // Steward's sources carry a query timer (off while timing, on for the profile pass).
    const timer = new QueryTimer((node, queryId) => {
      for (const s of sources.values()) {
        try {
          return s.db.getExecutor().compileQuery(node, queryId as never);
        } catch {
          // the other source's compiler
        }
      }
      return { sql: '?', parameters: [] };
    });
    const timedSources = new Map([...sources].map(([n, s]) => [n, timed(s, timer)]));

    const peer: Peer = {
      map,
      schemas: discovered.schemas,
      pool: new pg.Pool({ connectionString: fixture.url, max: 4, application_name: 'steward-bench-peer', options: '-c default_transaction_read_only=on' }),
      sqlite: new Database(fixture.sqliteFile, { readonly: true }),
      kinds: new Map(config.sources.map((s) => [s.name, s.kind as 'postgres' | 'sqlite'])),
      sources,
      statements: new Map(),
    };

    // Subjects: seeded, distinct; the warm-up ones are not measured.
    let seed = SEED;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 0x100000000);
    const ids = new Set<number>();
    while (ids.size < Math.min(SUBJECTS, SAMPLES + WARMUP)) ids.add(1 + Math.floor(rand() * SUBJECTS));
    // The heavy buyers (customers 1..HEAVY: one order in a hundred is theirs, N / 5000 each, when N ≥ 10,000), measured apart from the random sample.
    const heavy = SUBJECTS >= 100 * HEAVY ? Array.from({ length: HEAVY }, (_, i) => i + 1) : [];
    const emailRows = (await peer.pool.query<{ id: string; email: string }>(`select id, email from ${SHOP}.customers where id = any($1::bigint[])`, [[...ids, ...heavy]])).rows;
    const emailOf = new Map(emailRows.map((r) => [Number(r.id), r.email]));
    const order = [...ids];
    const warm = order.slice(0, WARMUP);
    const sample = order.slice(WARMUP);

    const recipient = await identityToRecipient(await generateX25519Identity());
    const identifiersOf = (id: number) => parseIdentifiers({ email: [emailOf.get(id)!] }, { defaultCountry: COUNTRY });
    const stewardFind = (id: number, srcs: ReadonlyMap<string, Source> = sources) => findSubject({ map, schemas: discovered.schemas, sources: srcs, identifiers: identifiersOf(id), defaultCountry: COUNTRY });

    interface Phase {
      readonly label: string;
      readonly sample: readonly number[];
      readonly warm: readonly number[];
      readonly lat: { sFind: number[]; pFind: number[]; sAccess: number[]; pAccess: number[] };
      readonly counts: { sQueries: number[]; pQueries: number[]; rows: number[]; mentions: number[]; bytes: number[] };
      readonly mismatches: string[];
      readonly shapes: [string, QueryTimer['shapes'] extends Map<string, infer V> ? V : never][];
      readonly plans: { shape: string; plan: string[] }[];
    }

    const measure = async (label: string, sample: readonly number[], warm: readonly number[]): Promise<Phase> => {
      process.stderr.write(`${label}: warm-up (${warm.length} subjects)…\n`);
      for (const id of warm) {
        await packageOf(config, map, await stewardFind(id), recipient);
        await packageOf(config, map, (await peerFind(peer, identifiersOf(id))).result, recipient);
      }
      const phase: Phase = { label, sample, warm, lat: { sFind: [], pFind: [], sAccess: [], pAccess: [] }, counts: { sQueries: [], pQueries: [], rows: [], mentions: [], bytes: [] }, mismatches: [], shapes: [], plans: [] };
      const { lat, counts, mismatches } = phase;
      process.stderr.write(`${label}: measuring ${sample.length} subjects…\n`);
      for (const [n, id] of sample.entries()) {
        // Alternate which path goes first, so neither always meets the other's warm cache.
        const runSteward = async () => {
          let t = performance.now();
          const found = await stewardFind(id);
          lat.sFind.push(performance.now() - t);
          t = performance.now();
          const again = await stewardFind(id);
          counts.bytes.push(await packageOf(config, map, again, recipient));
          lat.sAccess.push(performance.now() - t);
          return found;
        };
        const runPeer = async () => {
          let t = performance.now();
          const found = await peerFind(peer, identifiersOf(id));
          lat.pFind.push(performance.now() - t);
          t = performance.now();
          const again = await peerFind(peer, identifiersOf(id));
          await packageOf(config, map, again.result, recipient);
          lat.pAccess.push(performance.now() - t);
          return found;
        };
        let s: FindResult;
        let p: Awaited<ReturnType<typeof peerFind>>;
        if (n % 2 === 0) {
          s = await runSteward();
          p = await runPeer();
        } else {
          p = await runPeer();
          s = await runSteward();
        }
        counts.sQueries.push(s.stats.queries);
        counts.pQueries.push(p.queries);
        counts.rows.push(s.rows.length);
        counts.mentions.push(s.mentions.length);
        const a = new Set(s.rows.map((r) => rowId(r, r.key)));
        const b = new Set(p.result.rows.map((r) => rowId(r, r.key)));
        const am = new Set(s.mentions.map((m) => `${rowId(m, m.key)}\0${m.column}`));
        const bm = new Set(p.result.mentions.map((m) => `${rowId(m, m.key)}\0${m.column}`));
        if (s.ambiguous || a.size !== b.size || [...a].some((k) => !b.has(k)) || am.size !== bm.size || [...am].some((k) => !bm.has(k))) {
          mismatches.push(`subject #${id}: steward ${a.size} rows/${am.size} mentions, peer ${b.size}/${bm.size}${s.ambiguous ? ' (steward: ambiguous)' : ''}`);
        }
        if ((n + 1) % 25 === 0) process.stderr.write(`  ${n + 1}/${sample.length}\n`);
      }
      // Profile pass: where Steward's find spends its time, per query shape (timer on; not part of the figures above).
      timer.shapes.clear();
      timer.enabled = true;
      for (const id of sample.slice(0, PROFILE)) await stewardFind(id, timedSources);
      timer.enabled = false;
      phase.shapes.push(...[...timer.shapes].sort((x, y) => y[1].ms - x[1].ms));
      // EXPLAIN of the two slowest Postgres shapes (on the peer's pool: the same database).
      for (const [shape, e] of phase.shapes.filter(([q]) => q.includes('"."')).slice(0, 2)) {
        if (!e.maxSql) continue;
        const plan = await peer.pool.query(`explain (analyze, buffers, costs off) ${e.maxSql.sql}`, e.maxSql.parameters as unknown[]);
        phase.plans.push({ shape, plan: (plan.rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']) });
      }
      return phase;
    };

    const phases: Phase[] = [];
    await dropExtraIndexes(peer.pool);
    if (PHASES.has('deployed')) phases.push(await measure('as deployed', sample.slice(0, DEPLOYED_SAMPLES), warm.slice(0, 2)));
    let extra: { statements: string[]; seconds: number } | null = null;
    if (PHASES.has('indexed')) {
      process.stderr.write('creating the phone-digit and trigram indexes…\n');
      extra = await createExtraIndexes(peer.pool, map);
      phases.push(await measure('phone-digit and trigram indexes', sample, warm));
      if (heavy.length > 0 && PHASES.has('heavy')) phases.push(await measure(`the same indexes, the ${heavy.length} heavy buyers (customers 1–${heavy.length}, ~${Math.round(SUBJECTS / 5000) + 2} orders each)`, heavy, []));
      // Kept for the erasure's copies (the template carries them); dropped after it.
      if (!PHASES.has('erase') || ERASURES <= 0) await dropExtraIndexes(peer.pool);
    }

    // Table sizes and the map, for the record.
    console.log(`\ndata-subject find and access, ${SUBJECTS.toLocaleString('en')} subjects, ${related.toLocaleString('en')} related rows, one run, this machine`);
    console.log(`fixture ${fixture.reused ? 'reused' : `loaded in ${fixture.loadSeconds.toFixed(0)} s`}: ${Object.entries(fixture.rows).map(([t, c]) => `${t} ${c.toLocaleString('en')}`).join(', ')}`);
    console.log(`subject map derived in ${mapSeconds.toFixed(1)} s (introspection, collection review, ${map.links.filter((l) => l.origin === 'inferred').length} inferred link(s) measured), once per run`);
    for (const t of map.tables.filter((x) => x.role !== 'unrelated')) {
      console.log(`  ${t.source}:${t.schema}.${t.name}  ${t.role}${t.depth ? ` (${t.depth} hop)` : ''}${t.identifiers.length ? `  by ${t.identifiers.map((i) => `${i.column}:${i.kind}${i.indexed === false ? ' (no index)' : ''}`).join(', ')}` : ''}${t.freeText.length ? `  free text: ${t.freeText.join(', ')}` : ''}`);
    }
    for (const l of map.links) console.log(`  link ${l.child.name}.${l.child.columns.join(',')} → ${l.parent.name}.${l.parent.columns.join(',')}  ${l.origin}${l.origin === 'inferred' ? ` (confidence ${l.confidence})` : ''}${l.used ? '' : '  NOT USED'}`);
    for (const f of map.findings.filter((x) => x.rule !== 'subjects.link-inferred')) console.log(`  finding: ${f.message}\n    ${f.remedy}`);
    if (extra) console.log(`extra indexes for the second phase (${extra.seconds.toFixed(0)} s to build, dropped afterwards):\n  ${extra.statements.join('\n  ')}`);

    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const ratio = (p: number[], s: number[], q: number) => (pct(p, q) / pct(s, q)).toFixed(2);
    for (const { label, sample, warm, lat, counts, mismatches, shapes, plans } of phases) {
      console.log(`\n== ${label}: ${sample.length} ${label.includes('heavy') ? '' : 'random '}subjects by email (seed ${SEED}), after ${warm.length} warm-up; per subject on average ${avg(counts.rows).toFixed(1)} rows (max ${Math.max(...counts.rows)}), ${avg(counts.mentions).toFixed(1)} mentions, package ${Math.round(avg(counts.bytes))} bytes`);
      console.log('path                         p50 ms    p99 ms    max ms   queries/subject');
      const line = (name: string, xs: number[], q?: number[]) => console.log(`${name.padEnd(26)} ${ms(pct(xs, 0.5)).padStart(8)}  ${ms(pct(xs, 0.99)).padStart(8)}  ${ms(Math.max(...xs)).padStart(8)}   ${q ? avg(q).toFixed(1).padStart(8) : ''}`);
      line('steward find', lat.sFind, counts.sQueries);
      line('peer find (row at a time)', lat.pFind, counts.pQueries);
      line('steward access (zip, age)', lat.sAccess, counts.sQueries);
      line('peer access (zip, age)', lat.pAccess, counts.pQueries);
      console.log(`peer / steward: find p50 ${ratio(lat.pFind, lat.sFind, 0.5)}×, p99 ${ratio(lat.pFind, lat.sFind, 0.99)}×; access p50 ${ratio(lat.pAccess, lat.sAccess, 0.5)}×, p99 ${ratio(lat.pAccess, lat.sAccess, 0.99)}×`);
      console.log(`(targets: peer / steward ≥ 10×, steward p99 < 200 ms) — ratio ${pct(lat.pFind, 0.5) / pct(lat.sFind, 0.5) >= 10 ? 'met' : 'NOT met'}; find p99 ${pct(lat.sFind, 0.99) < 200 ? 'met' : 'NOT met'}; access p99 ${pct(lat.sAccess, 0.99) < 200 ? 'met' : 'NOT met'}`);
      console.log(mismatches.length === 0 ? `peer results: the same rows and mentions as Steward for all ${sample.length} subjects` : `peer results DIFFER for ${mismatches.length} subject(s):\n  ${mismatches.slice(0, 5).join('\n  ')}`);
      console.log(`where steward find spends its time (${Math.min(PROFILE, sample.length)} subjects, per query shape: total ms, share, count, max ms):`);
      const total = shapes.reduce((n, [, e]) => n + e.ms, 0);
      for (const [shape, e] of shapes.slice(0, 8)) console.log(`  ${e.ms.toFixed(0).padStart(6)} ms ${((e.ms / total) * 100).toFixed(0).padStart(3)}%  ×${String(e.n).padStart(4)}  max ${e.max.toFixed(1).padStart(6)}  ${shape.length > 150 ? `${shape.slice(0, 147)}…` : shape}`);
      for (const { shape, plan } of plans) console.log(`EXPLAIN ANALYZE of ${shape.slice(0, 100)}…\n  ${plan.join('\n  ')}`);
    }

    // The erasure copies the fixture database: `create database … template` needs every connection to it closed.
    await peer.pool.end();
    peer.sqlite.close();
    for (const s of sources.values()) await s.close();
    await store.close();
    console.log('');
    if (PHASES.has('erase') && ERASURES > 0) {
      try {
        await benchErase({ fixture, discovered, config, dir, exclude: new Set([...ids, ...heavy]) });
      } finally {
        const pool = new pg.Pool({ connectionString: fixture.url, max: 1 });
        await dropExtraIndexes(pool);
        await pool.end();
      }
    } else console.log('erasure: not measured in this run (--phases without erase, or --erasures 0)');
    console.log(`\nrun took ${((performance.now() - runStarted) / 1000).toFixed(0)} s (${CRM} and ${SHOP} in ${new URL(fixture.url).pathname.slice(1)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
