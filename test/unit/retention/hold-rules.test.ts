/**
 * Legal holds, the pure part: which predicates are refused before reaching a
 * database, `--until` parsing and the expiry boundary, reasons that would put
 * personal data in the log, subject HMACs, driver errors reported without
 * values, and the SQL the retention engine ANDs into its queries.
 * (Against real databases: test/integration/legal-holds.test.ts.)
 */
import { DummyDriver, Kysely, MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql, type RawBuilder } from 'kysely';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  checkPredicate,
  checkReason,
  expiredBeforeRelease,
  holdExclusion,
  holdStatus,
  keyListCondition,
  normalizeSubject,
  parseUntil,
  predicateDigest,
  predicateErrorReason,
  subjectHmac,
} from '../../../src/retention/hold-rules.js';
import type { StoredHold } from '../../../src/state/holds.js';

const pg = new Kysely<any>({
  dialect: { createAdapter: () => new PostgresAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new PostgresIntrospector(db), createQueryCompiler: () => new PostgresQueryCompiler() },
});
const my = new Kysely<any>({
  dialect: { createAdapter: () => new MysqlAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new MysqlIntrospector(db), createQueryCompiler: () => new MysqlQueryCompiler() },
});
const compile = (x: RawBuilder<unknown>, db = pg) => x.compile(db);

function hold(over: Partial<StoredHold>): StoredHold {
  return {
    id: 'h1',
    source: 'shop',
    table: 'customers',
    schema: 'public',
    tableName: 'customers',
    kind: 'where',
    predicate: 'case_id = 42',
    subjectColumn: null,
    subjectHmac: null,
    keys: null,
    heldRows: 1,
    reason: 'case 42',
    createdBy: 'dpo',
    createdAt: '2026-01-01T00:00:00.000Z',
    until: null,
    releasedAt: null,
    releasedBy: null,
    releaseReason: null,
    addedLoggedAt: null,
    releasedLoggedAt: null,
    expiredLoggedAt: null,
    ...over,
  };
}

const refused = (f: () => unknown, message: RegExp) => {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UsageError);
  expect((error as Error).message).toMatch(message);
  expect((error as Error).message).not.toContain('\n');
};

describe('checkPredicate', () => {
  it('accepts ordinary boolean expressions, trimmed, with anything inside string literals', () => {
    expect(checkPredicate('  case_id = 42 ')).toBe('case_id = 42');
    expect(checkPredicate("note = 'a; b -- c /* d */ # e' and (x in (1, 2))", 'postgres')).toBe("note = 'a; b -- c /* d */ # e' and (x in (1, 2))");
    expect(checkPredicate(`"odd;name" = 1 and 'it''s' <> ''`, 'postgres')).toContain('odd;name');
    expect(checkPredicate("name = 'O''Brien; x'", 'mysql')).toBe("name = 'O''Brien; x'");
    expect(checkPredicate("name = E'O\\'Brien; x'", 'postgres')).toBe("name = E'O\\'Brien; x'");
    expect(checkPredicate("tags #> '{a}' is not null", 'postgres')).toContain('#>');
    expect(checkPredicate('id in (select customer_id from cases where open)', 'sqlite')).toContain('select');
  });

  it('refuses a second statement, comments and anything that could end the expression early', () => {
    refused(() => checkPredicate('1 = 1; delete from customers'), /contains ";"/);
    refused(() => checkPredicate('case_id = 42 -- and more'), /comment/);
    refused(() => checkPredicate('case_id = 42 /* x */'), /comment/);
    refused(() => checkPredicate('case_id = 42 */'), /comment/);
    refused(() => checkPredicate('case_id = 42 # x', 'mysql'), /"#"/);
    refused(() => checkPredicate('1 = 1) or (1 = 1'), /closes a parenthesis that was never opened/);
    refused(() => checkPredicate('(case_id = 42'), /1 parenthesis is not closed/);
    refused(() => checkPredicate("note = 'unterminated"), /string opened at character 8 is not closed/);
    refused(() => checkPredicate('"unterminated = 1'), /quoted identifier/);
    // Whether a backslash escapes the quote depends on the server's sql_mode (NO_BACKSLASH_ESCAPES): refused either way.
    refused(() => checkPredicate("name = 'x\\'; drop table t", 'mysql'), /backslash/);
    refused(() => checkPredicate("note = $$a; b$$", 'postgres'), /dollar-quoted/);
    refused(() => checkPredicate('   '), /empty/);
    refused(() => checkPredicate(`x = '${'a'.repeat(5000)}'`), /longer than/);
    refused(() => checkPredicate('x = 1\0'), /NUL/);
  });

  it('digests the predicate, never repeats it', () => {
    expect(predicateDigest("email = 'a@b.co'")).toMatch(/^[0-9a-f]{64}$/);
    expect(predicateDigest('a')).not.toBe(predicateDigest('b'));
  });
});

describe('parseUntil and expiry', () => {
  const now = new Date('2026-03-10T12:00:00Z');
  it('a date holds through that whole day (UTC); an instant needs a time zone', () => {
    expect(parseUntil('2027-06-30', now)).toBe('2027-07-01T00:00:00.000Z');
    expect(parseUntil('2026-03-10T13:00:00Z', now)).toBe('2026-03-10T13:00:00.000Z');
    expect(parseUntil('2026-03-10T15:00:00+02:00', now)).toBe('2026-03-10T13:00:00.000Z');
    // Today, as a date, still lies ahead until midnight.
    expect(parseUntil('2026-03-10', now)).toBe('2026-03-11T00:00:00.000Z');
  });
  it('refuses non-dates, impossible dates, times without a zone, the past and now', () => {
    refused(() => parseUntil('next year', now), /is not a date/);
    refused(() => parseUntil('2027-02-30', now), /is not a date/);
    refused(() => parseUntil('2027-06-30T10:00', now), /is not a date/);
    refused(() => parseUntil('2026-03-09', now), /not in the future/);
    refused(() => parseUntil('2026-03-10T12:00:00Z', now), /not in the future/);
  });
  it('a hold is in force until `until` exclusive; released wins; expiry before release is told apart', () => {
    const h = hold({ until: '2026-03-10T12:00:00.000Z' });
    expect(holdStatus(h, new Date('2026-03-10T11:59:59.999Z'))).toBe('active');
    expect(holdStatus(h, now)).toBe('expired'); // until = now exactly
    expect(holdStatus(hold({}), new Date('2100-01-01T00:00:00Z'))).toBe('active');
    expect(holdStatus(hold({ releasedAt: '2026-01-02T00:00:00.000Z' }), now)).toBe('released');
    expect(expiredBeforeRelease(hold({ until: '2026-02-01T00:00:00.000Z', releasedAt: '2026-01-02T00:00:00.000Z' }), now)).toBe(false);
    expect(expiredBeforeRelease(hold({ until: '2026-01-01T00:00:00.000Z', releasedAt: '2026-01-02T00:00:00.000Z' }), now)).toBe(true);
    expect(expiredBeforeRelease(h, now)).toBe(true);
    expect(expiredBeforeRelease(hold({}), now)).toBe(false);
  });
});

describe('subjects and reasons', () => {
  it('HMACs the normalised identifier under the store secret', () => {
    const secret = Buffer.alloc(32, 7);
    expect(normalizeSubject('  Jane.Doe@Example.COM\n')).toBe('jane.doe@example.com');
    const mac = subjectHmac(secret, 'jane.doe@example.com');
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    expect(subjectHmac(secret, ' JANE.DOE@example.com ')).toBe(mac);
    expect(subjectHmac(Buffer.alloc(32, 8), 'jane.doe@example.com')).not.toBe(mac);
    expect(mac).not.toContain('jane');
  });
  it('refuses reasons that would put personal data in the activity log, naming it masked', () => {
    expect(checkReason('  Litigation hold, case 2026-CV-118 (Smith v. Shop) ')).toBe('Litigation hold, case 2026-CV-118 (Smith v. Shop)');
    refused(() => checkReason('claim by jane.doe@example.com'), /looks like personal data \(contact\.email/);
    let message = '';
    try {
      checkReason('claim by jane.doe@example.com');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain('jane.doe@example.com');
    refused(() => checkReason('card 4111 1111 1111 1111 disputed'), /personal data/);
    refused(() => checkReason(''), /--reason is required/);
    refused(() => checkReason('x'.repeat(501)), /longer than 500/);
  });
  it('reports driver errors about a predicate in one line, without values', () => {
    expect(predicateErrorReason(Object.assign(new Error('column "nope" does not exist'), { code: '42703' }), 'postgres', { predicate: 'nope = 1' })).toBe('column "nope" does not exist (postgres 42703)');
    expect(predicateErrorReason(Object.assign(new Error('column "jane.doe@example.com" does not exist'), { code: '42703' }), 'postgres', { predicate: '"jane.doe@example.com" = 1' })).not.toContain('jane.doe@example.com');
    expect(predicateErrorReason(Object.assign(new Error("Unknown column 'nope' in 'where clause'"), { code: 'ER_BAD_FIELD_ERROR', errno: 1054 }), 'mysql', { predicate: 'nope = 1' })).toContain('Unknown column "nope"');
    expect(predicateErrorReason(Object.assign(new Error("invalid input syntax for type integer: \"jane@x.io\"\nLINE 1"), { code: '22P02' }), 'postgres')).not.toMatch(/jane|\n/);
  });
});

describe('holdExclusion', () => {
  it('is null with no hold in force; released and (given now) expired holds are left out', () => {
    expect(holdExclusion([])).toEqual({ exclude: null, held: null, wholeTable: false, holdIds: [] });
    const x = holdExclusion([hold({ releasedAt: '2026-01-02T00:00:00.000Z' }), hold({ id: 'h2', until: '2026-02-01T00:00:00.000Z' })], { now: new Date('2026-02-01T00:00:00Z') });
    expect(x.exclude).toBeNull();
    expect(holdExclusion([hold({ id: 'h2', until: '2026-02-01T00:00:00.000Z' })], { now: new Date('2026-01-31T23:59:59Z') }).holdIds).toEqual(['h2']);
  });

  it('builds exact complements: held = p1 or p2, exclude = case when p1 then 0 when p2 then 0 else 1 end = 1', () => {
    const x = holdExclusion([hold({}), hold({ id: 'h2', predicate: "status = 'disputed'" })], { kind: 'postgres' });
    expect(compile(x.exclude!).sql).toBe(`(case when (case_id = 42) then 0 when (status = 'disputed') then 0 else 1 end) = 1`);
    expect(compile(x.held!).sql).toBe(`(case_id = 42) or (status = 'disputed')`);
    expect(x.wholeTable).toBe(false);
    expect(x.holdIds).toEqual(['h1', 'h2']);
  });

  it('a whole-table hold excludes everything', () => {
    const x = holdExclusion([hold({}), hold({ id: 't', kind: 'table', predicate: null })]);
    expect(x.wholeTable).toBe(true);
    expect(compile(x.exclude!).sql).toBe('1 = 0');
  });

  it('re-checks stored predicates (a store edited to hold a second statement is refused)', () => {
    refused(() => holdExclusion([hold({ predicate: '1 = 1); delete from customers; select (1' })]), /not accepted/);
  });

  it('subject holds become key lists: integers and plain text as literals, anything else as parameters', () => {
    const one = keyListCondition({ columns: ['id'], types: ['integer'], values: [[1], ['9007199254740993'], [3]] });
    expect(compile(one)).toMatchObject({ sql: '("id" in (1, 9007199254740993, 3))', parameters: [] });
    const mixed = keyListCondition({ columns: ['org', 'code'], types: ['text', 'text'], values: [['acme', 'A-1'], ["o'hara", 'x\\y']] });
    expect(compile(mixed)).toMatchObject({ sql: `(("org", "code") in (('acme', 'A-1'), ($1, $2)))`, parameters: ["o'hara", 'x\\y'] });
    expect(compile(mixed, my).sql).toBe("((`org`, `code`) in (('acme', 'A-1'), (?, ?)))");
    // A digit string in a text key stays text; a non-integer in an integer key is bound.
    expect(compile(keyListCondition({ columns: ['k'], types: ['text'], values: [['00123']] })).sql).toBe(`("k" in ('00123'))`);
    expect(compile(keyListCondition({ columns: ['k'], types: ['integer'], values: [['1 or 1=1']] })).parameters).toEqual(['1 or 1=1']);
    expect(compile(keyListCondition({ columns: ['id'], types: ['integer'], values: [] })).sql).toBe('(1 = 0)');
    const x = holdExclusion([hold({ kind: 'subject', predicate: null, subjectColumn: 'email', subjectHmac: 'ab', keys: { columns: ['id'], types: ['integer'], values: [[5], [6]] } })]);
    expect(compile(sql`delete from t where due and ${x.exclude!}`).sql).toBe('delete from t where due and (case when ("id" in (5, 6)) then 0 else 1 end) = 1');
  });
});
