#!/usr/bin/env node
// `npm run bench -- <name> [args]` runs bench/<name>.ts with tsx against the sources.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// The benchmarks; the other files in bench/ are their helpers (args, fixtures, scoring).
const available = ['accuracy', 'audit', 'crypto', 'detect', 'encrypt-column', 'integrity', 'retention', 'subject'];
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name) || !existsSync(path.join(root, 'bench', `${name}.ts`))) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [args]`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(root, 'bench', `${name}.ts`), ...args], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
