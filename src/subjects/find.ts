/**
 * `steward subject find`: every row of one person in every source, following the
 * subject map, closing over the identifiers found on the way (the customer row
 * found by email gives the phone that finds the CRM contact).
 *
 * Set-based: per hop, one query per (table, identifier column) with every value
 * found so far that it has not been asked for, and one query per link with every
 * parent key found so far; never one query per row. Rows are kept by primary key,
 * so a row reached twice is one row with two reasons. The queries of a hop that do not
 * depend on each other run at once (`Wave`), their rows taken in the order above; the
 * mention search runs beside them, started with the identifiers given and topped up.
 *
 * Merging rules (a household must not become one person):
 * - a row matched by a strong identifier (email, national ID, key) is the subject's;
 * - a row matched only by a weak one (phone) is the subject's when it carries no
 *   strong identifier, or one the subject already has; a row with another email is
 *   listed under `notMerged` and its identifiers are not followed;
 * - when the identifiers given are all weak and they match rows with different
 *   strong identifiers, the answer is `ambiguous`: the caller must ask for one more
 *   identifier (erasure refuses to run).
 * - a row a link reaches downwards that also points at a person the subject is not
 *   (Alice's order shipped to Bob's address, reached from Bob's address), or that is a
 *   person of its own (an identity row with another email under a shared account), is
 *   another person's: listed under `otherPeople`, its identifiers and children not
 *   followed, and taken as the subject's only if the person it points at turns out to be.
 * A table pointing at itself (referred_by → id) gives `references`: other people's
 * rows that point at the subject, never the subject's own.
 *
 * Encrypted columns (decrypt.ts): an identifier column Steward encrypted is searched
 * through its blind index (`where <col>_bidx in (…)`, the indexes of every value
 * computed with the keyring), one query per table per hop like any other; a match is
 * confirmed by decrypting it. Every row found, by any path, has its Steward ciphertexts
 * decrypted, so a decrypted email joins the identifiers like a plain one. Without the
 * keyring the search goes on through plain identifiers and links, and the result says
 * which encrypted columns it could not search (`unsearched`) and which values it could
 * not decrypt (`notDecrypted`).
 */
import { sql } from 'kysely';
import { isStewardError } from '../errors.js';
import { toSourceError } from '../sources/errors.js';
import { blindIndexMatch, identifierMatch, mentionMatch, subjectTableSql } from '../sources/subject-queries.js';
import { tablesNamed } from '../sources/table-names.js';
import type { Source, TableInfo } from '../sources/types.js';
import { normaliseStored, phoneDigitVariants, phoneSpellings, STRONG, type Identifier, type IdentifierKind } from './identifiers.js';
import { notDecryptedSummary, SubjectDecryptor, type NotDecryptedEntry, type NotDecryptedReason, type SubjectKeyring } from './decrypt.js';
import { tableKey, type IdentifierColumn, type QualifiedTable, type SubjectLink, type SubjectMap, type SubjectTable } from './map.js';
import type { SourceSchema } from './map.js';

export interface SubjectRow extends QualifiedTable {
  /** Primary key values by column. */
  readonly key: Readonly<Record<string, unknown>>;
  readonly row: Readonly<Record<string, unknown>>;
  /** Why it is the subject's: `email`, `phone`, `email (blind index)`, `key`, `link:<child cols> → <parent>`, or `ref:link:…` (a row the subject's row points at). */
  readonly via: readonly string[];
  /** Plaintext of the row's Steward ciphertexts, by column (absent when there were none or none could be read). */
  readonly decrypted?: Readonly<Record<string, string>>;
  /** Steward ciphertexts of the row left encrypted, by column, with the reason. */
  readonly notDecrypted?: Readonly<Record<string, NotDecryptedReason>>;
}

/** An encrypted identifier column the search could not use (its rows are found only through links). */
export interface UnsearchedColumn extends QualifiedTable {
  readonly column: string;
  readonly kind: Exclude<IdentifierKind, 'key'>;
  /** `no-blind-index`, or `keyring-unavailable` (with the detail in `detail`). */
  readonly reason: 'no-blind-index' | 'keyring-unavailable';
  readonly detail: string;
}

export interface Mention extends QualifiedTable {
  readonly key: Readonly<Record<string, unknown>>;
  readonly column: string;
  /** Identifier kinds found in the text. */
  readonly kinds: readonly IdentifierKind[];
}

export interface FindResult {
  /** Every identifier the subject is known by: given, then found (normalised). */
  readonly identifiers: readonly (Identifier & { readonly given: boolean })[];
  readonly rows: readonly SubjectRow[];
  readonly mentions: readonly Mention[];
  /** Other people's rows that point at the subject's (self-references). */
  readonly references: readonly (SubjectRow & { readonly column: string })[];
  /** Rows that share a weak identifier (a phone) but carry another strong one: not merged. */
  readonly notMerged: readonly (QualifiedTable & { readonly key: Readonly<Record<string, unknown>>; readonly shared: IdentifierKind; readonly reason: string })[];
  /**
   * Rows a link reached that belong to another person: they also point at a person the
   * subject is not (Alice's order shipped to Bob's address, found from Bob's address), or
   * are a person of their own (an identity row with another email under a shared account).
   * Not the subject's: not exported, not erased, their identifiers and children not followed.
   */
  readonly otherPeople?: readonly (QualifiedTable & { readonly key: Readonly<Record<string, unknown>>; readonly reason: string })[];
  /** Set when the identifiers given match more than one person; rows are then empty. */
  readonly ambiguous: { readonly message: string; readonly candidates: readonly (QualifiedTable & { readonly key: Readonly<Record<string, unknown>> })[] } | null;
  /** Encrypted identifier columns that were not searched, and why. */
  readonly unsearched: readonly UnsearchedColumn[];
  /** Values of the rows found that are still Steward ciphertexts, per source.table.column and reason. */
  readonly notDecrypted: readonly NotDecryptedEntry[];
  readonly stats: { readonly hops: number; readonly queries: number; readonly durationMs: number };
}

export interface FindOptions {
  readonly map: SubjectMap;
  readonly schemas: ReadonlyMap<string, SourceSchema>;
  readonly sources: ReadonlyMap<string, Source>;
  readonly identifiers: readonly Identifier[];
  /** Phone numbers without a country code are read in this country. */
  readonly defaultCountry?: string;
  /** Values per `IN (…)` list. Default 500. */
  readonly chunk?: number;
  /** At most this many hops of closure. Default 8. */
  readonly maxHops?: number;
  /**
   * The keyring (decrypt.ts `openSubjectKeyring`): searches encrypted identifier columns by
   * their blind index and decrypts the rows found. Absent: encrypted columns are not searched
   * and their values are reported as not decrypted.
   */
  readonly keyring?: SubjectKeyring;
}

type Kind3 = Exclude<IdentifierKind, 'key'>;
/** A row's identity: its table and key (binary keys as hex: two byte strings that are not UTF-8 must not read alike). */
const rowKey = (t: QualifiedTable, key: Record<string, unknown>) => `${tableKey(t)}\0${JSON.stringify(Object.values(key).map((v) => (v === null || v === undefined ? null : Buffer.isBuffer(v) || v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : String(v))))}`;
const chunks = <T>(xs: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/** Finds one person's rows. Throws SourceError (exit 4) when a source fails mid-search: nothing partial is returned as complete. */
export async function findSubject(options: FindOptions): Promise<FindResult> {
  const inflight: Promise<unknown>[] = [];
  try {
    return await find(options, inflight);
  } catch (e) {
    // Nothing left running (a mention search started early) against a source the caller may close next.
    await Promise.allSettled(inflight);
    throw e;
  }
}

async function find(options: FindOptions, inflight: Promise<unknown>[]): Promise<FindResult> {
  const started = Date.now();
  const chunk = options.chunk ?? 500;
  const country = options.defaultCountry as Parameters<typeof normaliseStored>[2];
  let queries = 0;

  const known = new Map<string, Identifier & { given: boolean }>();
  const idKey = (i: Identifier) => `${i.kind}\0${i.table ?? ''}\0${i.column ?? ''}\0${i.value}`;
  for (const i of options.identifiers) known.set(idKey(i), { ...i, given: true });
  const strongValues = () => new Set([...known.values()].filter((i) => STRONG.has(i.kind) && i.kind !== 'key').map((i) => `${i.kind}\0${i.value}`));
  const givenAllWeak = options.identifiers.every((i) => !STRONG.has(i.kind));

  const rows = new Map<string, { t: QualifiedTable; key: Record<string, unknown>; got: Got; via: Set<string> }>();
  const decryptor = new SubjectDecryptor(options.keyring ?? { keys: [], fields: null, unavailable: 'no keyring was given' }, (source) => options.schemas.get(source)?.tables ?? []);
  const unsearched = new Map<string, UnsearchedColumn>();
  const cannotSearch = (mt: SubjectTable, col: IdentifierColumn, reason: UnsearchedColumn['reason'], detail: string) => {
    const k = `${tableKey(mt)}\0${col.column}`;
    if (!unsearched.has(k)) unsearched.set(k, { source: mt.source, schema: mt.schema, name: mt.name, column: col.column, kind: col.kind, reason, detail });
  };
  const references = new Map<string, SubjectRow & { column: string }>();
  const notMerged = new Map<string, FindResult['notMerged'][number]>();
  /** Values already asked of (table, column, plain or by blind index). */
  const asked = new Map<string, Set<string>>();
  const freshFor = (mt: SubjectTable, column: string, how: 'plain' | 'blind', values: readonly string[]): string[] => {
    const ak = `${tableKey(mt)}\0${column}\0${how}`;
    const done = asked.get(ak) ?? new Set<string>();
    const fresh = values.filter((v) => !done.has(v));
    for (const v of fresh) done.add(v);
    asked.set(ak, done);
    return fresh;
  };
  /** Parent keys already followed per link. */
  const followed = new Map<string, Set<string>>();

  const tableInfo = (t: QualifiedTable): TableInfo => options.schemas.get(t.source)!.tables.find((x) => x.schema === t.schema && x.name === t.name)!;
  const sourceOf = (t: QualifiedTable) => options.sources.get(t.source)!;
  const run = async <R>(t: QualifiedTable, what: string, q: () => Promise<R>): Promise<R> => {
    queries++;
    try {
      return await q();
    } catch (e) {
      if (isStewardError(e)) throw e;
      throw toSourceError(e, { source: t.source, kind: sourceOf(t).kind, action: what, table: { schema: t.schema, name: t.name }, command: 'subject' });
    }
  };
  const keyOf = (t: TableInfo, r: Record<string, unknown>) => Object.fromEntries(t.primaryKey.map((k) => [k, r[k]]));
  /** A row as read, with its ciphertexts decrypted (once per row: a row reached again is not decrypted again). */
  const read = async (mt: SubjectTable, r: Record<string, unknown>): Promise<Got> => {
    const info = tableInfo(mt);
    const seen = info.primaryKey.length > 0 ? rows.get(rowKey(mt, keyOf(info, r))) : undefined;
    if (seen) return seen.got;
    const { decrypted, failed } = await decryptor.row(mt, r);
    const any = Object.keys(decrypted).length > 0;
    return { row: r, view: any ? { ...r, ...decrypted } : r, ...(any ? { decrypted } : {}), ...(Object.keys(failed).length ? { failed } : {}) };
  };
  const strongOf = (mt: SubjectTable, r: Record<string, unknown>) =>
    mt.identifiers.filter((c) => STRONG.has(c.kind)).flatMap((c) => {
      const v = normaliseStored(c.kind, r[c.column], country);
      return v ? [`${c.kind}\0${v}`] : [];
    });
  /** A candidate row: the subject's, or not merged, or (weak-only start) held back for the ambiguity check. */
  const pendingWeak: { mt: SubjectTable; key: Record<string, unknown>; got: Got; via: string; strong: string[] }[] = [];
  const accept = (mt: SubjectTable, g: Got, via: string): boolean => {
    const info = tableInfo(mt);
    const key = keyOf(info, g.row);
    const k = rowKey(mt, key);
    const existing = rows.get(k);
    if (existing) {
      existing.via.add(via);
      return false;
    }
    rows.set(k, { t: { source: mt.source, schema: mt.schema, name: mt.name }, key, got: g, via: new Set([via]) });
    // Its identifiers join the subject's (decrypted ones too).
    for (const c of mt.identifiers) {
      const v = normaliseStored(c.kind, g.view[c.column], country);
      if (v) {
        const i: Identifier = { kind: c.kind, value: v };
        if (!known.has(idKey(i))) known.set(idKey(i), { ...i, given: false });
      }
    }
    return true;
  };
  const consider = (mt: SubjectTable, g: Got, kind: IdentifierKind, via: string) => {
    if (STRONG.has(kind)) return accept(mt, g, via);
    const strong = strongOf(mt, g.view);
    const mine = strongValues();
    if (strong.length === 0 || strong.some((s) => mine.has(s))) return accept(mt, g, via);
    if (mine.size === 0 && givenAllWeak) {
      pendingWeak.push({ mt, key: keyOf(tableInfo(mt), g.row), got: g, via, strong });
      return false;
    }
    const key = keyOf(tableInfo(mt), g.row);
    notMerged.set(rowKey(mt, key), { source: mt.source, schema: mt.schema, name: mt.name, key, shared: kind, reason: `shares a ${kind} with the subject but holds another ${strong[0]!.split('\0')[0]}` });
    return false;
  };

  // Rows reached down a link that belong to another person (see FindResult.otherPeople): held
  // apart, and accepted once the person they point at turns out to be the subject's.
  // A table of persons: an identity table, or one whose strong identifier is unique (one row per person: users, contacts).
  const personTable = (t: SubjectTable): boolean =>
    t.role === 'identity' ||
    (t.role === 'identified' && t.identifiers.some((i) => STRONG.has(i.kind) && (tableInfo(t).uniqueKeys ?? []).some((u) => u.length === 1 && u[0] === i.column)));
  const persons = new Set(options.map.tables.filter(personTable).map(tableKey));
  const held = new Map<string, { mt: SubjectTable; g: Got; via: string; reason: string }>();
  const otherPerson = (mt: SubjectTable, g: Got, from: SubjectLink): string | null => {
    for (const l of options.map.links) {
      if (!l.used || l.reference || l === from || tableKey(l.child) !== tableKey(mt) || !persons.has(tableKey(l.parent))) continue;
      const tuple = l.child.columns.map((c) => g.row[c]);
      if (tuple.some((v) => v === null || v === undefined)) continue;
      const want = JSON.stringify(tuple.map(String));
      const mine = [...rows.values()].some((r) => tableKey(r.t) === tableKey(l.parent) && JSON.stringify(l.parent.columns.map((c) => String(r.got.row[c]))) === want);
      if (!mine) return `points at a row of ${l.parent.name} (through ${l.child.columns.join(', ')}) that is not the subject's`;
    }
    if (persons.has(tableKey(mt))) {
      const strong = strongOf(mt, g.view);
      const known = strongValues();
      if (strong.length > 0 && !strong.some((x) => known.has(x))) return `is a person of its own: holds another ${strong[0]!.split('\0')[0]}`;
    }
    return null;
  };
  const acceptDown = (mt: SubjectTable, g: Got, l: SubjectLink): boolean => {
    const k = rowKey(mt, keyOf(tableInfo(mt), g.row));
    if (rows.has(k)) return accept(mt, g, linkLabel(l));
    const reason = otherPerson(mt, g, l);
    if (reason) {
      if (!held.has(k)) held.set(k, { mt, g, via: linkLabel(l), reason });
      return false;
    }
    held.delete(k);
    return accept(mt, g, linkLabel(l));
  };
  /** Held rows whose person has since been found: accepted (the closure goes on from them). */
  const release = (): boolean => {
    let any = false;
    for (const [k, h] of held) {
      const l = options.map.links.find((x) => linkLabel(x) === h.via)!;
      if (otherPerson(h.mt, h.g, l)) continue;
      held.delete(k);
      if (accept(h.mt, h.g, h.via)) any = true;
    }
    return any;
  };

  const searchable = options.map.tables.filter((t) => t.role !== 'excluded' && t.identifiers.length > 0 && options.sources.has(t.source));
  const byKey = new Map<string, SubjectTable>();
  for (const m of options.map.tables) if (!byKey.has(tableKey(m))) byKey.set(tableKey(m), m);
  const downLinks = options.map.links.filter((x) => x.used && options.sources.has(x.child.source) && options.sources.has(x.parent.source));
  const upLinks = downLinks.filter((x) => !x.reference);
  /** What accepting a row of `mt` can change: its table's rows and the kinds of identifier it carries. */
  const writesOf = (mt: SubjectTable) => [`rows\0${tableKey(mt)}`, ...mt.identifiers.map((c) => `known\0${c.kind}`)];
  // Queries that do not depend on each other go out together (a wave) and are processed in the
  // order the sequential search would have run them, so the result does not depend on which
  // returns first. A query whose input an earlier one in the wave may change waits for the next.
  const wave = new Wave();
  const flush = async () => {
    await wave.flush();
    startMentions();
  };
  // Mentions depend only on the identifiers: searched for those known as soon as they are known,
  // beside the row queries, and topped up for the ones found later (merged in step 4 below).
  const mentionTables = options.map.tables.filter((t) => t.role !== 'excluded' && t.freeText.length > 0 && options.sources.has(t.source) && tableInfo(t).primaryKey.length > 0);
  const mentionWords = new Set<string>();
  const mentionBatches: Promise<Record<string, unknown>[]>[][][] = []; // batch → table → column → chunk rows (flattened per column)
  const startMentions = () => {
    if (mentionTables.length === 0 || pendingWeak.length > 0) return;
    const words = [...known.values()].filter((i) => i.kind !== 'key' && !mentionWords.has(`${i.kind}\0${i.value}`));
    if (words.length === 0) return;
    for (const w of words) mentionWords.add(`${w.kind}\0${w.value}`);
    const texts = words.flatMap((w) => (w.kind === 'phone' ? phoneSpellings(w.value) : [w.value]));
    if (texts.length === 0) return;
    mentionBatches.push(
      mentionTables.map((mt) => {
        const src = sourceOf(mt);
        return mt.freeText.map(async (column) => {
          const out: Record<string, unknown>[] = [];
          const parts = chunks(texts, 50).map((part) => run(mt, 'search free text in', async () => (await sql<Record<string, unknown>>`select * from ${subjectTableSql(mt, src.kind)} where ${mentionMatch(column, part, src.kind)}`.execute(src.db)).rows));
          for (const p of parts) p.catch(() => {});
          for (const p of parts) out.push(...(await p));
          return out;
        });
      }),
    );
    for (const p of mentionBatches.at(-1)!.flat()) {
      p.catch(() => {});
      inflight.push(p);
    }
  };
  if (!givenAllWeak) startMentions();
  let hops = 0;
  for (; hops < (options.maxHops ?? 8); hops++) {
    let changed = false;
    // 1. Identifier lookups, strong kinds first; the values of a kind are those known when its turn comes.
    const order: Kind3[] = ['email', 'nationalId', 'phone'];
    for (const kind of order) {
      if (wave.writes.has(`known\0${kind}`)) await flush();
      const values = [...known.values()].filter((i) => i.kind === kind).map((i) => i.value);
      if (values.length === 0) continue;
      for (const mt of searchable) {
        for (const col of mt.identifiers.filter((c) => c.kind === kind)) {
          const src = sourceOf(mt);
          // Plain values: a plain column, or an encrypted one whose migration has not finished.
          if (!col.encrypted || col.mixed) {
            const fresh = freshFor(mt, col.column, 'plain', values);
            const compare = kind === 'phone' ? [...new Set(fresh.flatMap((v) => phoneDigitVariants(v, country)))] : fresh;
            for (const part of chunks(compare, chunk)) {
              wave.add(
                run(mt, `find the subject in`, async () => (await sql<Record<string, unknown>>`select * from ${subjectTableSql(mt, src.kind)} where ${identifierMatch(src.kind, kind, col.column, part)}`.execute(src.db)).rows),
                async (found) => {
                  for (const r of found) if (consider(mt, await read(mt, r), kind, kind)) changed = true;
                },
                writesOf(mt),
              );
            }
          }
          if (!col.encrypted) continue;
          // Encrypted: through the blind index, every value's index computed with the keyring.
          if (!col.blindIndex) {
            cannotSearch(mt, col, 'no-blind-index', 'Steward knows of no blind index beside it');
            continue;
          }
          const indexer = await decryptor.indexer(mt, col.column, col.blindIndex);
          if ('unavailable' in indexer) {
            cannotSearch(mt, col, 'keyring-unavailable', indexer.unavailable);
            continue;
          }
          const fresh = freshFor(mt, col.column, 'blind', values);
          if (fresh.length === 0) continue;
          const wanted = new Set(fresh);
          const indexes = [...new Set(fresh.flatMap((v) => blindIndexInputs(kind, col.blindIndex!.normalize, v, country)).map((x) => indexer.index(x)))];
          for (const part of chunks(indexes, chunk)) {
            wave.add(
              run(mt, `find the subject by blind index in`, async () => (await sql<Record<string, unknown>>`select * from ${subjectTableSql(mt, src.kind)} where ${blindIndexMatch(col.blindIndex!.column, part)}`.execute(src.db)).rows),
              async (found) => {
                for (const r of found) {
                  const g = await read(mt, r);
                  // Confirmed by its plaintext when it decrypts (a truncated HMAC may collide); one that does not is reported.
                  const plain = g.decrypted?.[col.column];
                  if (plain !== undefined) {
                    const v = normaliseStored(kind, plain, country);
                    if (v === null || !wanted.has(v)) continue;
                  }
                  if (consider(mt, g, kind, `${kind} (blind index)`)) changed = true;
                }
              },
              writesOf(mt),
            );
          }
        }
      }
    }
    // Keys given as --id TABLE.COLUMN=VALUE (first hop only).
    if (hops === 0) {
      for (const i of options.identifiers.filter((x) => x.kind === 'key')) {
        for (const s of options.schemas.values()) {
          for (const t of tablesNamed(s.tables, i.table!)) {
            const mt = options.map.tables.find((m) => m.source === s.source && m.schema === t.schema && m.name === t.name);
            if (!mt || mt.role === 'excluded' || !t.columns.some((c) => c.name === i.column)) continue;
            const src = sourceOf(mt);
            wave.add(
              run(mt, 'find the subject in', async () => (await sql<Record<string, unknown>>`select * from ${subjectTableSql(mt, src.kind)} where ${sql.id(i.column!)} = ${i.value}`.execute(src.db)).rows),
              async (found) => {
                for (const r of found) if (accept(mt, await read(mt, r), 'key')) changed = true;
              },
              writesOf(mt),
            );
          }
        }
      }
    }
    // 2. Links, parent → child, with every parent key found so far.
    for (const l of downLinks) {
      const childMt = byKey.get(tableKey(l.child));
      if (!childMt || childMt.role === 'excluded') continue;
      if (wave.writes.has(`rows\0${tableKey(l.parent)}`)) await flush();
      // A row reached only upwards (an address the subject's order points at) is not followed down: its other children are other people's.
      const parentRows = [...rows.values()].filter((r) => tableKey(r.t) === tableKey(l.parent) && [...r.via].some((v) => !v.startsWith('ref:')));
      const lk = JSON.stringify([l.parent, l.child]);
      const done = followed.get(lk) ?? new Set<string>();
      const tuples = parentRows
        .map((r) => l.parent.columns.map((c) => r.got.view[c]))
        .filter((tu) => tu.every((v) => v !== null && v !== undefined))
        .filter((tu) => !done.has(JSON.stringify(tu.map(String))));
      if (tuples.length === 0) continue;
      for (const tu of tuples) done.add(JSON.stringify(tu.map(String)));
      followed.set(lk, done);
      const src = sourceOf(childMt);
      for (const part of chunks(tuples, chunk)) {
        const cols = l.child.columns.map((c) => sql.id(c));
        const where =
          cols.length === 1
            ? sql`${cols[0]!} in (${sql.join(part.map((tu) => sql`${tu[0]}`))})`
            : sql`(${sql.join(part.map((tu) => sql`(${sql.join(cols.map((c, i) => sql`${c} = ${tu[i]}`), sql` and `)})`), sql` or `)})`;
        wave.add(
          run(childMt, 'follow a link into', async () => (await sql<Record<string, unknown>>`select * from ${subjectTableSql(childMt, src.kind)} where ${where}`.execute(src.db)).rows),
          async (found) => {
            for (const r of found) {
              if (l.reference) {
                const key = keyOf(tableInfo(childMt), r);
                const k = rowKey(childMt, key);
                if (!rows.has(k)) references.set(k, { source: childMt.source, schema: childMt.schema, name: childMt.name, key, row: r, via: [linkLabel(l)], column: l.child.columns.join(', ') });
                continue;
              }
              if (acceptDown(childMt, await read(childMt, r), l)) changed = true;
            }
          },
          writesOf(childMt),
        );
      }
    }
    // 3. Links upwards, child → parent, into tables that hold personal data and are no person themselves
    // (the shipping address an order points at): the subject's data too, though maybe shared (erase.ts counts the other owners).
    for (const l of upLinks) {
      const parentMt = byKey.get(tableKey(l.parent));
      if (!parentMt || parentMt.role === 'excluded' || parentMt.role === 'identity' || parentMt.role === 'identified' || parentMt.personalColumns.length === 0) continue;
      if (wave.writes.has(`rows\0${tableKey(l.child)}`)) await flush();
      const childRows = [...rows.values()].filter((r) => tableKey(r.t) === tableKey(l.child) && [...r.via].some((v) => !v.startsWith('ref:')));
      const lk = JSON.stringify(['up', l.parent, l.child]);
      const done = followed.get(lk) ?? new Set<string>();
      const tuples = childRows
        .map((r) => l.child.columns.map((c) => r.got.row[c]))
        .filter((tu) => tu.every((v) => v !== null && v !== undefined))
        .filter((tu) => !done.has(JSON.stringify(tu.map(String))));
      if (tuples.length === 0) continue;
      for (const tu of tuples) done.add(JSON.stringify(tu.map(String)));
      followed.set(lk, done);
      const src = sourceOf(parentMt);
      for (const part of chunks(tuples, chunk)) {
        const cols = l.parent.columns.map((c) => sql.id(c));
        const where =
          cols.length === 1
            ? sql`${cols[0]!} in (${sql.join(part.map((tu) => sql`${tu[0]}`))})`
            : sql`(${sql.join(part.map((tu) => sql`(${sql.join(cols.map((c, i) => sql`${c} = ${tu[i]}`), sql` and `)})`), sql` or `)})`;
        wave.add(
          run(parentMt, 'follow a link up into', async () => (await sql<Record<string, unknown>>`select * from ${subjectTableSql(parentMt, src.kind)} where ${where}`.execute(src.db)).rows),
          async (found) => {
            for (const r of found) if (accept(parentMt, await read(parentMt, r), `ref:${linkLabel(l)}`)) changed = true;
          },
          writesOf(parentMt),
        );
      }
    }
    await flush();
    if (!changed && !release()) break;
  }

  // Encrypted identifier columns that could not be searched whatever the identifiers: none
  // without a blind index can be, and none can be without a keyring that opens its blind-index
  // key (the plaintext the closure would have followed is unknown then too).
  for (const mt of searchable) {
    for (const col of mt.identifiers.filter((c) => c.encrypted)) {
      if (!col.blindIndex) cannotSearch(mt, col, 'no-blind-index', 'Steward knows of no blind index beside it');
      else {
        const indexer = await decryptor.indexer(mt, col.column, col.blindIndex);
        if ('unavailable' in indexer) cannotSearch(mt, col, 'keyring-unavailable', indexer.unavailable);
      }
    }
  }

  // Weak-only start: one person, or ambiguous.
  let ambiguous: FindResult['ambiguous'] = null;
  if (pendingWeak.length > 0) {
    const people = new Set(pendingWeak.map((p) => p.strong.sort().join('|')));
    if (people.size > 1) {
      ambiguous = {
        message: `the identifiers given match ${people.size} different people (rows with different emails or national IDs): give one more identifier (--email, --national-id or --id) so that only one person is meant`,
        candidates: pendingWeak.map((p) => ({ source: p.mt.source, schema: p.mt.schema, name: p.mt.name, key: p.key })),
      };
    } else {
      // One person: accept the held-back rows and run the closure again from them.
      for (const p of pendingWeak) accept(p.mt, p.got, p.via);
      pendingWeak.length = 0;
      await Promise.allSettled(mentionBatches.flat(2));
      const again = await findSubject({ ...options, identifiers: [...known.values()].map(({ given: _g, ...i }) => i) });
      return {
        ...again,
        identifiers: [...options.identifiers.map((i) => ({ ...i, given: true })), ...again.identifiers.filter((i) => !options.identifiers.some((g) => idKey(g) === idKey(i))).map((i) => ({ ...i, given: false }))],
        stats: { hops: hops + again.stats.hops, queries: queries + again.stats.queries, durationMs: Date.now() - started },
      };
    }
  }

  // 4. Mentions in free text: every identifier, one query per free-text column and batch of
  // identifiers (most started above, beside the row queries); merged in table, column, batch order.
  const mentions: Mention[] = [];
  if (ambiguous) await Promise.allSettled(mentionBatches.flat(2));
  else {
    startMentions();
    const words = [...known.values()].filter((i) => i.kind !== 'key').map((i) => ({ kind: i.kind, spellings: (i.kind === 'phone' ? phoneSpellings(i.value) : [i.value]).map((x) => x.toLowerCase()) }));
    const settled = await Promise.allSettled(mentionBatches.flat(2));
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    const seen = new Set<string>();
    for (const [ti, mt] of mentionTables.entries()) {
      const info = tableInfo(mt);
      for (const [ci, column] of mt.freeText.entries()) {
        for (const batch of mentionBatches) {
          for (const r of await batch[ti]![ci]!) {
            const key = keyOf(info, r);
            const k = `${rowKey(mt, key)}\0${column}`;
            if (seen.has(k)) continue;
            seen.add(k);
            const text = String(r[column] ?? '').toLowerCase();
            const kinds = [...new Set(words.filter((w) => w.spellings.some((x) => text.includes(x))).map((w) => w.kind))];
            mentions.push({ source: mt.source, schema: mt.schema, name: mt.name, key, column, kinds });
          }
        }
      }
    }
  }

  const out: SubjectRow[] = ambiguous
    ? []
    : [...rows.values()].map((r) => ({ ...r.t, key: r.key, row: r.got.row, via: [...r.via], ...(r.got.decrypted ? { decrypted: r.got.decrypted } : {}), ...(r.got.failed ? { notDecrypted: r.got.failed } : {}) }));
  return {
    identifiers: [...known.values()],
    rows: out,
    mentions,
    references: ambiguous ? [] : [...references.values()].filter((r) => !rows.has(rowKey(r, r.key))),
    notMerged: [...notMerged.values()],
    ...(held.size > 0 && !ambiguous ? { otherPeople: [...held.values()].map((h) => ({ source: h.mt.source, schema: h.mt.schema, name: h.mt.name, key: keyOf(tableInfo(h.mt), h.g.row), reason: h.reason })) } : {}),
    ambiguous,
    unsearched: [...unsearched.values()],
    notDecrypted: notDecryptedSummary(out),
    stats: { hops: hops + 1, queries, durationMs: Date.now() - started },
  };
}

/** A row as read (`row`), and as seen with its ciphertexts decrypted (`view`). */
interface Got {
  readonly row: Record<string, unknown>;
  readonly view: Record<string, unknown>;
  readonly decrypted?: Readonly<Record<string, string>>;
  readonly failed?: Readonly<Record<string, NotDecryptedReason>>;
}

/**
 * The strings whose blind index a stored value of `kind` may have, for one normalised
 * identifier: an index is an HMAC of the value as `steward encrypt` saw it after its own
 * normaliser, so a lookup tries the spellings that normaliser keeps apart. Emails: the
 * address (`email`/`lowercase` fold the rest; `none`/`trim` find only values stored
 * already normalised). Phones: the digit strings a number is stored with under `digits`,
 * its written forms otherwise. National IDs: without separators. Pure.
 */
export function blindIndexInputs(kind: Exclude<IdentifierKind, 'key'>, normalize: string, value: string, defaultCountry?: string): string[] {
  if (kind === 'email') return [value];
  if (kind === 'phone') {
    const digits = phoneDigitVariants(value, defaultCountry as Parameters<typeof phoneDigitVariants>[1]);
    return normalize === 'digits' ? digits : [...new Set([...phoneSpellings(value), ...digits])];
  }
  return normalize === 'digits' ? [value.replace(/\D+/g, '')] : [value];
}

const linkLabel = (l: SubjectLink) => `link:${l.child.name}.${l.child.columns.join(',')} → ${l.parent.name}.${l.parent.columns.join(',')}`;

/** Queries in flight together; their rows are processed in the order they were added, one after another. */
class Wave {
  private readonly items: { readonly rows: Promise<Record<string, unknown>[]>; readonly then: (rows: Record<string, unknown>[]) => Promise<void> }[] = [];
  /** What processing the wave's rows may change (`rows\0<table>`, `known\0<kind>`): a query reading one of them waits for the next wave. */
  readonly writes = new Set<string>();
  add(rows: Promise<Record<string, unknown>[]>, then: (rows: Record<string, unknown>[]) => Promise<void>, writes: readonly string[]): void {
    rows.catch(() => {}); // awaited in flush; a failure is thrown there, not reported as unhandled
    this.items.push({ rows, then });
    for (const w of writes) this.writes.add(w);
  }
  async flush(): Promise<void> {
    const items = this.items.splice(0);
    this.writes.clear();
    try {
      for (const i of items) await i.then(await i.rows);
    } catch (e) {
      // Nothing left running against a source the caller may close next.
      await Promise.allSettled(items.map((i) => i.rows));
      throw e;
    }
  }
}
