/**
 * Architecture rules the type checker cannot see:
 *
 * - No code outside src/sources/ (and the state store's own backends, and config
 *   parsing, which reads `kind:` from steward.yml) asks which database it talks
 *   to: a difference between databases is a capability flag or a method of the
 *   dialect (`source.dialect`, `dialectOf(kind)`), not `kind === 'mysql'`.
 * - No import cycle among the modules of src/, type-only imports included.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(ROOT, 'src');

/** Where a kind comparison belongs. */
const DIALECT_HOMES = [/^src\/sources\//, /^src\/state\/(postgres|sqlite)\.ts$/, /^src\/config\//];

/**
 * Files that still compare kinds, each owned by work in progress elsewhere (the
 * batch engine; data-subject requests). Remove a line when its file is
 * fixed: the test fails while a listed file no longer needs its exception.
 */
const PENDING: Readonly<Record<string, string>> = {};

const KIND_COMPARISON = /[!=]==\s*'(postgres|mysql|sqlite)'|'(postgres|mysql|sqlite)'\s*[!=]==|case\s+'(postgres|mysql|sqlite)'/;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const rel = (p: string) => path.relative(ROOT, p).split(path.sep).join('/');

function kindComparisons(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const name = rel(file);
    if (DIALECT_HOMES.some((re) => re.test(name))) continue;
    const hits = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => (KIND_COMPARISON.test(line) ? [`${name}:${i + 1}: ${line.trim().slice(0, 120)}`] : []));
    if (hits.length) out.set(name, hits);
  }
  return out;
}

describe('no kind switch outside src/sources', () => {
  const found = kindComparisons();

  it('compares a source kind with a database name only in the dialect folders, the state backends and config parsing', () => {
    const unexpected = [...found].filter(([file]) => !(file in PENDING)).flatMap(([, hits]) => hits);
    expect(unexpected, 'ask source.dialect / source.capabilities (or dialectOf(kind)) instead').toEqual([]);
  });

  it('lists as pending only files that still need it', () => {
    const fixed = Object.keys(PENDING).filter((file) => !found.has(file));
    expect(fixed, 'these files no longer compare kinds: remove them from PENDING').toEqual([]);
  });
});

/** Relative module specifiers of a file: imports, re-exports and `import('…')` types, resolved to files under src/. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const specs: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) specs.push(n.moduleSpecifier.text);
    if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) specs.push(n.argument.literal.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts'))
    .map((p) => (fs.existsSync(p) ? p : path.join(p.replace(/\.ts$/, ''), 'index.ts')))
    .filter((p) => fs.existsSync(p));
}

/** Every cycle's modules (strongly connected components of more than one module, or a module importing itself). */
function importCycles(): string[][] {
  const graph = new Map(sourceFiles(SRC).map((f) => [f, importsOf(f)]));
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(rel(w));
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.includes(v)) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return cycles;
}

describe('module graph', () => {
  it('has no import cycle, type-only imports included', () => {
    expect(importCycles(), 'move the shared types into a leaf module (e.g. src/sources/kinds.ts)').toEqual([]);
  });
});
