import { describe, expect, it } from 'vitest';
import { SourceError } from '../../../src/errors.js';
import { classifyDriverError, describeDriverError, DriverError, operatorIdentifiers, redactUrl, scrub, toSourceError, withoutDriverText } from '../../../src/sources/errors.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/shop', 'postgres://app:***@db:5432/shop'],
    ['mysql://root:p%40ss@127.0.0.1:3306/test', 'mysql://root:***@127.0.0.1:3306/test'],
    ['postgres://app@db/shop', 'postgres://app@db/shop'],
    ['postgres://db/shop?user=app&password=hunter2&sslmode=require', 'postgres://db/shop?user=app&password=***&sslmode=require'],
    ['/var/lib/shop.db', '/var/lib/shop.db'],
    ['postgres://app:pa ss@db/shop', 'postgres://app:***@db/shop'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('leaves no trace of the password even in unparseable strings', () => {
    expect(redactUrl('postgres://u:abc:def@[bad')).not.toContain('abc:def');
  });
});

describe('classifyDriverError', () => {
  const err = (props: Record<string, unknown>, message = 'boom') => Object.assign(new Error(message), props);

  it.each([
    [err({ code: 'ECONNREFUSED' }), 'SOURCE_UNREACHABLE'],
    [err({ code: 'ENOTFOUND' }), 'SOURCE_UNREACHABLE'],
    [err({ code: 'ETIMEDOUT' }), 'SOURCE_UNREACHABLE'],
    [new Error('timeout exceeded when trying to connect'), 'SOURCE_UNREACHABLE'],
    [new Error('Connection terminated due to connection timeout'), 'SOURCE_UNREACHABLE'],
    [new AggregateError([err({ code: 'ECONNREFUSED' }), err({ code: 'ECONNREFUSED' })], ''), 'SOURCE_UNREACHABLE'],
    [err({ code: '28P01' }), 'SOURCE_AUTH'],
    [err({ code: '28000' }), 'SOURCE_AUTH'],
    [err({ code: 'ER_ACCESS_DENIED_ERROR', errno: 1045 }), 'SOURCE_AUTH'],
    [err({ code: '3D000' }), 'SOURCE_NOT_FOUND'],
    [err({ code: 'ER_BAD_DB_ERROR', errno: 1049 }), 'SOURCE_NOT_FOUND'],
    [err({ code: '42501' }), 'SOURCE_PERMISSION'],
    [err({ errno: 1142 }), 'SOURCE_PERMISSION'],
    [err({ errno: 1143 }), 'SOURCE_PERMISSION'],
    [err({ code: 'ER_DBACCESS_DENIED_ERROR', errno: 1044 }), 'SOURCE_PERMISSION'],
    [err({ code: 'SQLITE_READONLY' }), 'SOURCE_PERMISSION'],
    [err({ code: '42601' }, 'syntax error at or near "x"'), 'SOURCE_QUERY'],
    ['a string', 'SOURCE_QUERY'],
  ] as const)('%s → %s', (e, code) => {
    expect(classifyDriverError(e, 'postgres').code).toBe(code);
  });

  it('finds the driver error behind a cause chain', () => {
    expect(classifyDriverError(new Error('wrapped', { cause: err({ code: '3D000' }) }), 'postgres').code).toBe('SOURCE_NOT_FOUND');
  });

  it('tells a missing SQLite file from an unreadable one', () => {
    expect(classifyDriverError(err({ code: 'SQLITE_CANTOPEN' }), 'sqlite', '/no/such/dir/x.db')).toMatchObject({ code: 'SOURCE_NOT_FOUND' });
    expect(classifyDriverError(new TypeError('Cannot open database because the directory does not exist'), 'sqlite', '/no/such/dir/x.db').code).toBe('SOURCE_NOT_FOUND');
  });
});

describe('scrub', () => {
  it('removes quoted literals that may be row values', () => {
    expect(scrub("Duplicate entry 'ann@example.com' for key 'email'")).toBe("Duplicate entry '…' for key '…'");
    expect(scrub('invalid input syntax for type integer: "ann@example.com"')).toBe('invalid input syntax for type integer: "…"');
  });

  it('keeps one line', () => {
    expect(scrub('first\nsecond')).toBe('first');
  });
});

describe('toSourceError', () => {
  it('names the source, the action, the table, the reason, and a fix', () => {
    const e = toSourceError(Object.assign(new Error('permission denied for table orders'), { code: '42501' }), {
      source: 'shop',
      kind: 'postgres',
      target: 'postgres://app:hunter2@db/shop',
      user: 'app',
      action: 'sample',
      table: { schema: 'public', name: 'orders' },
    });
    expect(e).toBeInstanceOf(SourceError);
    expect(e.code).toBe('SOURCE_PERMISSION');
    expect(e.source).toBe('shop');
    expect(e.message).toBe('Source "shop" (postgres://app:***@db/shop): cannot sample "public"."orders": permission denied (42501)');
    expect(e.hint).toBe('Grant SELECT on "public"."orders" to the role "app", or exclude the table in steward.yml');
    expect(e.toUserString()).not.toContain('hunter2');
  });

  it('quotes MySQL tables with backticks in the GRANT hint', () => {
    const e = toSourceError(Object.assign(new Error('SELECT command denied'), { errno: 1142 }), {
      source: 'shop',
      kind: 'mysql',
      user: 'app',
      action: 'sample',
      table: { schema: 'shop', name: 'cards' },
    });
    expect(e.hint).toBe("Grant SELECT on `shop`.`cards` to 'app', or exclude the table in steward.yml");
  });

  it('passes SourceErrors through unchanged', () => {
    const original = new SourceError('SOURCE_AUTH', 's', 'm');
    expect(toSourceError(original, { source: 's', kind: 'mysql', action: 'connect' })).toBe(original);
  });

  it('does not leak row values from driver messages', () => {
    const e = toSourceError(Object.assign(new Error("Duplicate entry '4111111111111111' for key 'card'"), { errno: 1062, code: 'ER_DUP_ENTRY' }), {
      source: 'shop',
      kind: 'mysql',
      action: 'write to',
      table: { schema: 'shop', name: 'cards' },
    });
    expect(e.code).toBe('SOURCE_QUERY');
    expect(e.toUserString()).not.toContain('4111111111111111');
    expect(e.message).toContain('ER_DUP_ENTRY');
  });
});

describe('describeDriverError (a whitelist: never the driver text)', () => {
  const pgErr = (code: string, message: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...fields });

  it('keeps the SQLSTATE and Steward\'s words, drops what a RAISE or SIGNAL quotes', () => {
    const raise = describeDriverError(pgErr('P0001', 'bad row for ann.lee@example.com (Ann Quisling)'), 'postgres');
    expect(raise.reason).toBe('a database function or trigger raised an error (RAISE) (postgres P0001)');
    const signal = describeDriverError(Object.assign(new Error('bad row for ann.lee@example.com'), { code: 'ER_SIGNAL_EXCEPTION', errno: 1644, sqlState: '45000' }), 'mysql');
    expect(signal.reason).toBe('a trigger or procedure raised an error (SIGNAL) (mysql ER_SIGNAL_EXCEPTION, SQLSTATE 45000)');
    const sqlite = describeDriverError(Object.assign(new Error('bad row for ann.lee@example.com'), { code: 'SQLITE_CONSTRAINT_TRIGGER' }), 'sqlite');
    expect(sqlite.reason).toBe('a trigger raised an error (RAISE) (sqlite SQLITE_CONSTRAINT_TRIGGER)');
  });

  it('names what Steward knows, and nothing the message adds', () => {
    const dup = pgErr('23505', 'duplicate key value violates unique constraint "customers_email_key"', { constraint: 'customers_email_key', table: 'customers' });
    expect(describeDriverError(dup, 'postgres', { names: ['customers_email_key'] }).reason).toBe('a unique constraint was violated (a value is already present): "customers_email_key" (postgres 23505)');
    // A name it does not know (a role named after a person, a constraint a RAISE set to a value) is not shown.
    expect(describeDriverError(pgErr('42704', 'role "Quisling" does not exist'), 'postgres').reason).not.toContain('Quisling');
    expect(describeDriverError(pgErr('P0001', 'x', { constraint: 'ann.lee@example.com' }), 'postgres').reason).not.toContain('ann');
    const sqlite = describeDriverError(Object.assign(new Error('UNIQUE constraint failed: customers.email'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }), 'sqlite', { names: ['customers', 'email'] });
    expect(sqlite.reason).toBe('a unique constraint was violated (a value is already present): "customers", "email" (sqlite SQLITE_CONSTRAINT_UNIQUE)');
  });

  it('shows an identifier the operator typed, masked when the detectors see personal data in it; never a literal', () => {
    const e = pgErr('42703', 'column "ann.lee@example.com" does not exist');
    const shown = describeDriverError(e, 'postgres', { operatorNames: operatorIdentifiers('"ann.lee@example.com" = 1', 'postgres') }).reason;
    expect(shown).toMatch(/^column "a\*\*\*@e\*\*\*\.com" does not exist/);
    expect(operatorIdentifiers("email = 'Quisling' and \"x\" > 1", 'postgres')).toEqual(['email', 'and', 'x']);
    expect(operatorIdentifiers('email = "Quisling"', 'mysql')).toEqual(['email']);
  });

  it('keeps the driver text out of the cause and of an escaped error', () => {
    const raw = pgErr('P0001', 'bad row for ann.lee@example.com');
    const e = toSourceError(raw, { source: 's', kind: 'postgres', action: 'sample', table: { schema: 'public', name: 't' } });
    expect(e.cause).toBeInstanceOf(DriverError);
    expect(String((e.cause as Error).message) + String((e.cause as Error).stack)).not.toContain('ann.lee');
    const escaped = withoutDriverText(raw) as Error;
    expect(`${escaped.message}\n${escaped.stack}`).not.toContain('ann.lee');
  });

  it('gives hints that fit the command', () => {
    const raw = pgErr('P0001', 'x');
    const ctx = { source: 's', kind: 'postgres' as const, action: 'encrypt a batch of', table: { schema: 'public', name: 't' } };
    expect(toSourceError(raw, { ...ctx, command: 'audit' }).hint).toMatch(/Exclude the table/);
    expect(toSourceError(raw, { ...ctx, command: 'encrypt' }).hint).not.toMatch(/exclude|audit/i);
    expect(toSourceError(pgErr('42501', 'x'), { ...ctx, command: 'encrypt', user: 'app' }).hint).toBe('Grant SELECT and UPDATE on "public"."t" to the role "app"; nothing of a failed batch is kept, and the same command resumes where it stopped');
  });
});
