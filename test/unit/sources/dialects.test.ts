/**
 * The dialect objects (src/sources/<dialect>/<dialect>-dialect.ts): what callers
 * outside src/sources ask instead of comparing kinds. Expected values are typed
 * `Record<SourceKind, …>`, so a new dialect must say what it expects here.
 */
import { DummyDriver, Kysely, MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { SOURCE_DIALECTS, dialectOf } from '../../../src/sources/dialects.js';
import { SOURCE_KINDS, type SourceCapabilities, type SourceKind } from '../../../src/sources/types.js';
import { keyListIn } from '../../../src/sources/column-writer.js';
import { POSTGRES_WRITER } from '../../../src/sources/postgres/postgres-writer.js';
import { MYSQL_WRITER } from '../../../src/sources/mysql/mysql-writer.js';
import { sqliteWriter } from '../../../src/sources/sqlite/sqlite-writer.js';
import { createIndexSql } from '../../../src/subjects/map.js';
import { NATIONAL_ID_LOOKUP, PHONE_LOOKUP } from '../../../src/sources/lookup-expressions.js';
import { identifierMatch, mentionMatch } from '../../../src/sources/subject-queries.js';
import type { TableInfo } from '../../../src/sources/types.js';

const compilers: Record<SourceKind, Kysely<any>> = {
  postgres: new Kysely<any>({ dialect: { createAdapter: () => new PostgresAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new PostgresIntrospector(db), createQueryCompiler: () => new PostgresQueryCompiler() } }),
  mysql: new Kysely<any>({ dialect: { createAdapter: () => new MysqlAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new MysqlIntrospector(db), createQueryCompiler: () => new MysqlQueryCompiler() } }),
  sqlite: new Kysely<any>({ dialect: { createAdapter: () => new SqliteAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new SqliteIntrospector(db), createQueryCompiler: () => new SqliteQueryCompiler() } }),
};

describe('dialects', () => {
  it('one per kind, found by kind', () => {
    expect(SOURCE_DIALECTS.map((d) => d.kind)).toEqual([...SOURCE_KINDS]);
    for (const k of SOURCE_KINDS) expect(dialectOf(k).kind).toBe(k);
    expect(() => dialectOf('oracle' as SourceKind)).toThrow(/unknown source kind "oracle"/);
  });

  it('say what differs as capability flags', () => {
    const expected: Record<SourceKind, Pick<SourceCapabilities, 'maxBindParameters' | 'textEqualityFoldsCase'> & { restoresIntoSchema: boolean }> = {
      postgres: { maxBindParameters: 60_000, textEqualityFoldsCase: false, restoresIntoSchema: true },
      mysql: { maxBindParameters: 60_000, textEqualityFoldsCase: true, restoresIntoSchema: false },
      sqlite: { maxBindParameters: 30_000, textEqualityFoldsCase: false, restoresIntoSchema: false },
    };
    for (const k of SOURCE_KINDS) {
      const { restoresIntoSchema, ...caps } = expected[k];
      expect(dialectOf(k).capabilities).toMatchObject(caps);
      expect(dialectOf(k).archive.restoresIntoSchema).toBe(restoresIntoSchema);
    }
    // Below the databases' own limits (SQLite 32,766; MySQL and Postgres 65,535).
    for (const d of SOURCE_DIALECTS) expect(d.capabilities.maxBindParameters).toBeLessThan(d.kind === 'sqlite' ? 32_766 : 65_535);
  });

  it('quote identifiers the way each database reads them, doubling the quote inside', () => {
    const expected: Record<SourceKind, string> = { postgres: '"we""ird`name"', mysql: '`we"ird``name`', sqlite: '"we""ird`name"' };
    for (const k of SOURCE_KINDS) expect(dialectOf(k).quoteIdentifier('we"ird`name')).toBe(expected[k]);
  });

  it('have transit advice only where something travels', () => {
    expect(SOURCE_DIALECTS.map((d) => [d.kind, d.transit !== null])).toEqual([
      ['postgres', true],
      ['mysql', true],
      ['sqlite', false],
    ]);
    expect(dialectOf('sqlite').connectionTransport('/data/shop.db', {})).toMatchObject({ applicable: false, via: 'file', mode: 'none' });
  });

  it('write the index statement the subject map suggests, for every dialect and lookup', () => {
    const t = { schema: 'public', name: 'cust"omers' };
    for (const k of SOURCE_KINDS) {
      for (const kind of ['email', 'key'] as const) {
        const column = 'e`mail';
        expect(dialectOf(k).indexStatement(t, column, { caseInsensitive: kind === 'email' && !dialectOf(k).capabilities.textEqualityFoldsCase, name: `${t.name}_${column}_subject` }), `${k} ${kind}`).toBe(createIndexSql(k, t, { column, kind }));
      }
    }
  });

  it('index phones and national IDs on exactly the expression the lookup compares (separators as literals), or say there is none', () => {
    const t = { schema: 'public', name: 'cust"omers' };
    const column = 'ph`o"ne';
    const expected: Record<SourceKind, boolean> = { postgres: true, mysql: false, sqlite: true };
    for (const k of SOURCE_KINDS) {
      for (const [kind, e] of [['phone', PHONE_LOOKUP], ['nationalId', NATIONAL_ID_LOOKUP]] as const) {
        const compiled = compilers[k].selectFrom('t').selectAll().where(identifierMatch(k, kind, column, ['442079460001', '4420']) as never).compile();
        // The values are bound; the separators are not.
        expect(compiled.parameters, `${k} ${kind}`).toEqual(['442079460001', '4420']);
        const statement = createIndexSql(k, t, { column, kind });
        const expression = dialectOf(k).lookupExpression(column, e);
        expect(statement !== null, `${k} ${kind}`).toBe(expected[k]);
        expect(expression !== null, `${k} ${kind}`).toBe(expected[k]);
        if (!statement || !expression) continue;
        expect(statement).toContain(expression);
        expect(compiled.sql, `${k} ${kind}`).toContain(`where ${expression} in (`);
      }
    }
    expect(createIndexSql('postgres', { schema: 'shop', name: 'customers' }, { column: 'phone', kind: 'phone' })).toBe(
      `CREATE INDEX ON "shop"."customers" ((replace(replace(replace(replace(replace(replace(replace("phone"::text, ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '+', ''), '/', '')));`,
    );
    expect(createIndexSql('sqlite', { schema: 'main', name: 'contacts' }, { column: 'phone', kind: 'phone' })).toBe(
      `CREATE INDEX "contacts_phone_subject" ON "contacts" (replace(replace(replace(replace(replace(replace(replace(cast("phone" as text), ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '+', ''), '/', ''));`,
    );
  });

  it('suggest a trigram index for free-text mentions only where one serves them', () => {
    expect(SOURCE_DIALECTS.map((d) => [d.kind, d.freeTextIndex !== null])).toEqual([
      ['postgres', true],
      ['mysql', false],
      ['sqlite', false],
    ]);
    expect(dialectOf('postgres').freeTextIndex!.statement({ schema: 'shop', name: 'tickets' }, 'body')).toBe('CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX ON "shop"."tickets" USING gin (lower("body") gin_trgm_ops);');
    const compiled = compilers.postgres.selectFrom('t').selectAll().where(mentionMatch('body', ['alice@example.com']) as never).compile();
    expect(compiled.sql).toContain('lower("body") like $1');
  });
});

describe('writers: bind parameters per key', () => {
  const table = (pk: string[]): TableInfo => ({ schema: 'public', name: 't', kind: 'table', columns: pk.map((name) => ({ name, dataType: 'integer', typeClass: 'integer', nullable: false, maxLength: null, comment: null })), primaryKey: pk, foreignKeys: [], rowEstimate: -1, comment: null });
  const params = (k: SourceKind, t: TableInfo, keys: unknown[][]) => {
    const w = k === 'postgres' ? POSTGRES_WRITER : k === 'mysql' ? MYSQL_WRITER : sqliteWriter(undefined);
    return compilers[k].selectFrom('t').selectAll().where(sql<boolean>`${w.keysIn(t, keys)}`).compile().parameters.length;
  };

  it('match what keysIn binds: one array on Postgres single keys, one per key column elsewhere', () => {
    const keys1 = [[1], [2], [3]];
    const keys2 = [
      [1, 1],
      [2, 2],
    ];
    for (const k of SOURCE_KINDS) {
      const w = k === 'postgres' ? POSTGRES_WRITER : k === 'mysql' ? MYSQL_WRITER : sqliteWriter(undefined);
      const single = table(['id']);
      const pair = table(['a', 'b']);
      expect(params(k, single, keys1), k).toBe(w.keyParameters(single) === 0 ? 1 : w.keyParameters(single) * keys1.length);
      expect(params(k, pair, keys2), k).toBe(w.keyParameters(pair) * keys2.length);
    }
    expect(POSTGRES_WRITER.keyParameters(table(['id']))).toBe(0);
    expect(MYSQL_WRITER.keyParameters(table(['id']))).toBe(1);
    expect(compilers.mysql.selectFrom('t').selectAll().where(sql<boolean>`${keyListIn(table(["a", "b"]), keys2)}`).compile().parameters).toEqual([1, 1, 2, 2]);
  });
});
