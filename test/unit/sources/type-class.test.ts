import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mysqlTypeClass } from '../../../src/sources/mysql/mysql-introspector.js';
import { postgresTypeClass } from '../../../src/sources/postgres/postgres-introspector.js';
import { sqliteTypeClass } from '../../../src/sources/sqlite/sqlite-introspector.js';
import { sqliteFilePath } from '../../../src/sources/sqlite/sqlite-source.js';

describe('postgresTypeClass', () => {
  it.each([
    ['varchar', 'S', 'text'],
    ['bpchar', 'S', 'text'],
    ['citext', 'S', 'text'],
    ['int8', 'N', 'integer'],
    ['numeric', 'N', 'decimal'],
    ['float8', 'N', 'decimal'],
    ['bool', 'B', 'boolean'],
    ['date', 'D', 'date'],
    ['timestamptz', 'D', 'timestamp'],
    ['time', 'D', 'other'],
    ['bytea', 'U', 'binary'],
    ['jsonb', 'U', 'json'],
    ['uuid', 'U', 'uuid'],
    ['_text', 'A', 'other'],
    ['inet', 'I', 'other'],
    ['mood', 'E', 'other'],
  ] as const)('%s (%s) → %s', (t, cat, expected) => {
    expect(postgresTypeClass(t, cat)).toBe(expected);
  });
});

describe('mysqlTypeClass', () => {
  it.each([
    ['varchar', 'varchar(255)', 'text'],
    ['longtext', 'longtext', 'text'],
    ['tinyint', 'tinyint(1)', 'boolean'],
    ['tinyint', 'tinyint(4)', 'integer'],
    ['bigint', 'bigint(20) unsigned', 'integer'],
    ['decimal', 'decimal(10,2)', 'decimal'],
    ['double', 'double', 'decimal'],
    ['datetime', 'datetime', 'timestamp'],
    ['date', 'date', 'date'],
    ['varbinary', 'varbinary(16)', 'binary'],
    ['json', 'json', 'json'],
    ['uuid', 'uuid', 'uuid'],
    ['enum', "enum('a','b')", 'other'],
    ['year', 'year(4)', 'other'],
  ] as const)('%s / %s → %s', (dt, ct, expected) => {
    expect(mysqlTypeClass(dt, ct)).toBe(expected);
  });
});

describe('sqliteTypeClass', () => {
  it.each([
    ['INTEGER', 'integer'],
    ['bigint', 'integer'],
    ['VARCHAR(40)', 'text'],
    ['NVARCHAR', 'text'],
    ['CLOB', 'text'],
    ['TEXT', 'text'],
    ['BLOB', 'binary'],
    ['REAL', 'decimal'],
    ['DOUBLE PRECISION', 'decimal'],
    ['NUMERIC', 'decimal'],
    ['DECIMAL(10,2)', 'decimal'],
    ['BOOLEAN', 'boolean'],
    ['DATE', 'date'],
    ['DATETIME', 'timestamp'],
    ['timestamp', 'timestamp'],
    ['JSON', 'json'],
    ['UUID', 'uuid'],
    ['', 'other'],
  ] as const)('%j → %s', (t, expected) => {
    expect(sqliteTypeClass(t)).toBe(expected);
  });
});

describe('sqliteFilePath', () => {
  const cwd = '/srv/app';
  it.each([
    ['shop.db', '/srv/app/shop.db'],
    ['/data/shop.db', '/data/shop.db'],
    ['sqlite:shop.db', '/srv/app/shop.db'],
    ['sqlite:/data/shop.db', '/data/shop.db'],
    ['sqlite:///data/shop.db', '/data/shop.db'],
    ['file:shop.db', '/srv/app/shop.db'],
    ['file:///data/shop%20v2.db', '/data/shop v2.db'],
    ['file:/data/shop.db?mode=ro', '/data/shop.db'],
    [':memory:', ':memory:'],
  ])('%s → %s', (url, expected) => {
    expect(sqliteFilePath(url, cwd)).toBe(path.normalize(expected));
  });
});
