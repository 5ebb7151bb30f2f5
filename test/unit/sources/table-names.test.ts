import { describe, expect, it } from 'vitest';
import { lastUnquotedDot, tableReadings, tablesNamed, unquoteName } from '../../../src/sources/table-names.js';

const t = (schema: string, name: string) => ({ schema, name });

describe('table spellings', () => {
  it('reads an unquoted dotted spelling every way, the whole name first', () => {
    expect(tableReadings('ops@corp.example')).toEqual([{ name: 'ops@corp.example' }, { schema: 'ops@corp', name: 'example' }]);
    expect(tableReadings('a.b.c')).toEqual([{ name: 'a.b.c' }, { schema: 'a', name: 'b.c' }, { schema: 'a.b', name: 'c' }]);
  });
  it('quotes fix the reading', () => {
    expect(tableReadings('"ops@corp.example"')).toEqual([{ name: 'ops@corp.example' }]);
    expect(tableReadings('public."a.b"')).toEqual([{ name: 'public.a.b' }, { schema: 'public', name: 'a.b' }]);
    expect(tableReadings('"we""ird"')).toEqual([{ name: 'we"ird' }]);
    expect(tableReadings('`db`.`t`')).toEqual([{ name: 'db.t' }, { schema: 'db', name: 't' }]);
  });
  it('finds a table whose name holds a dot, and reports both readings when both exist', () => {
    const tables = [t('public', 'ops@corp.example'), t('public', 'customers'), t('ops@corp', 'example')];
    expect(tablesNamed(tables, 'ops@corp.example')).toEqual([t('public', 'ops@corp.example'), t('ops@corp', 'example')]);
    expect(tablesNamed(tables, '"ops@corp.example"')).toEqual([t('public', 'ops@corp.example')]);
    expect(tablesNamed(tables, 'public.customers')).toEqual([t('public', 'customers')]);
    expect(tablesNamed(tables, 'CUSTOMERS')).toEqual([t('public', 'customers')]);
    expect(tablesNamed(tables, 'nope')).toEqual([]);
  });
  it('splits TABLE.COLUMN at the last dot outside quotes', () => {
    expect(lastUnquotedDot('ops@corp.example.email')).toBe(16);
    expect(lastUnquotedDot('t."a.b"')).toBe(1);
    expect(unquoteName('"a.b"')).toBe('a.b');
    expect(lastUnquotedDot('nodot')).toBe(-1);
  });
});
