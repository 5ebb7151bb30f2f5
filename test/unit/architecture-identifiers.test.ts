/**
 * Identifiers reach SQL through `sql.id(...)` only: Kysely's `sql.ref('a.b')` and
 * `sql.table('a.b')` split on dots, so a table or column whose name holds a dot
 * (`ops@corp.example`) would address another object. This test fails on any use.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

it('no sql.ref( or sql.table( in src (use sql.id, which never splits a name)', () => {
  const hits = files('src').flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .flatMap((line, i) => (/\bsql\.(ref|table)\(/.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
  );
  expect(hits).toEqual([]);
});
