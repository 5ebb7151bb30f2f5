import { describe, expect, it } from 'vitest';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import { UsageError } from '../../../src/errors.js';
import { allOf, checkPredicate, predicateSql } from '../../../src/sources/predicate.js';
import type { SourceKind } from '../../../src/sources/types.js';

const refusal = (text: string, kind?: SourceKind): string => {
  try {
    checkPredicate(text, kind);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${text}`);
};

const KINDS: SourceKind[] = ['postgres', 'mysql', 'sqlite'];

describe('operator predicates', () => {
  it('accepts the expressions operators write, per dialect', () => {
    const ok: Record<SourceKind, string[]> = {
      postgres: ["created_at < now() - interval '30 days'", "status::text = 'closed'", "email ilike '%@example.com'", "data->>'k' = 'v'", 'id = any(array[1, 2])', "tags @> array['a']", 'a is distinct from b', "x = E'tab\\there'", 'not exists (select 1 from cases c where c.customer_id = id)'],
      mysql: ['created_at < now() - interval 30 day', "status = 'closed' and region in ('eu', 'uk')", "name = 'O''Brien'", '@@session.time_zone is not null'],
      sqlite: ["created_at < datetime('now', '-30 days')", "status = 'closed'", 'id in (select customer_id from cases where open)'],
    };
    for (const kind of KINDS) for (const p of ok[kind]) expect(checkPredicate(`  ${p} `, kind)).toBe(p);
  });

  it('refuses text that ends Steward\'s parentheses early, in every dialect', () => {
    for (const kind of [...KINDS, undefined]) {
      expect(refusal('id > 0) or (1=1', kind)).toMatch(/closes a parenthesis that was never opened/);
      expect(refusal('1=1) or (1=1', kind)).toMatch(/never opened/);
      expect(refusal('(id > 0', kind)).toMatch(/not closed/);
      expect(refusal('id > 0; delete from t', kind)).toMatch(/";"/);
      expect(refusal('id > 0 -- rest', kind)).toMatch(/comment/);
      expect(refusal('id > 0 /* x */', kind)).toMatch(/comment/);
    }
    expect(refusal('id > 0 # x', 'mysql')).toMatch(/"#"/);
    expect(refusal('x = $$a) or (1=1$$', 'postgres')).toMatch(/dollar-quoted/);
  });

  it('refuses string literals a server could end elsewhere than the lexer does (backslashes)', () => {
    // With NO_BACKSLASH_ESCAPES (MySQL) or standard_conforming_strings off (Postgres), one of the two readings
    // ends the string at \' and the rest — ") or (1=1" — would be SQL.
    expect(refusal("name = 'a\\' ) or (1=1 or name = '", 'mysql')).toMatch(/backslash/);
    expect(refusal("name = 'a\\' or name = ') or (1=1 or '", 'postgres')).toMatch(/backslash/);
    expect(refusal('name = "a\\" or 1=1', 'mysql')).toMatch(/backslash/);
    // SQLite never reads a backslash as an escape: nothing to refuse.
    expect(checkPredicate("path = 'C:\\dir'", 'sqlite')).toBe("path = 'C:\\dir'");
  });

  it('refuses bind placeholders, which would take the values of Steward\'s own parameters', () => {
    expect(refusal('id = $1', 'postgres')).toMatch(/bind parameter/);
    expect(refusal('id = ?', 'mysql')).toMatch(/bind parameter/);
    expect(refusal('id = ?', 'sqlite')).toMatch(/bind parameter/);
    expect(refusal('id = :id', 'sqlite')).toMatch(/bind parameter/);
    expect(refusal('id = @id', 'sqlite')).toMatch(/bind parameter/);
    // Postgres jsonb's ? operator is an operator there, not a placeholder.
    expect(checkPredicate("data ? 'key'", 'postgres')).toBe("data ? 'key'");
  });

  it('refuses what the dialect\'s parser does not read as one boolean expression, naming the dialect and position', () => {
    expect(refusal('id > > 0', 'postgres')).toMatch(/does not parse as one PostgreSQL boolean expression near character \d+/);
    expect(refusal("created_at < now() - interval '30 days'", 'mysql')).toMatch(/MySQL\/MariaDB/);
    expect(refusal('id = = 1', 'sqlite')).toMatch(/SQLite/);
  });

  it('never repeats the predicate text in the refusal (it may hold personal values)', () => {
    const m = refusal("email = 'alice@example.com') or (1=1", 'postgres');
    expect(m).not.toContain('alice');
  });

  it('predicateSql and allOf parenthesise each condition', () => {
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: {} as never }) });
    const compiled = (r: ReturnType<typeof sql>) => r.compile(db).sql;
    const p = predicateSql(checkPredicate('a = 1 or b = 2', 'postgres'));
    expect(compiled(allOf([sql`due`, sql`not held`, p]))).toBe('(due) and (not held) and ((a = 1 or b = 2))');
    expect(compiled(allOf([]))).toBe('(1 = 1)');
    void CompiledQuery;
  });
});
