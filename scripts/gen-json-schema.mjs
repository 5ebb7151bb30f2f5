#!/usr/bin/env node
// Writes schema/steward.schema.json from the zod schema that the CLI validates
// steward.yml with, so editors (YAML language server) check the same rules.
// Reads the BUILT schema (dist/config/schema.js): run after `tsc -p tsconfig.build.json`.
// `io: 'input'` describes what a user may write (defaults make keys optional).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'dist/config/schema.js');
const { configSchema } = await import(pathToFileURL(built).href).catch((e) => {
  console.error(`gen-json-schema: cannot import ${path.relative(root, built)} (run \`tsc -p tsconfig.build.json\` first): ${e.message}`);
  process.exit(1);
});

const json = z.toJSONSchema(configSchema, {
  io: 'input',
  target: 'draft-07', // the draft the YAML language server understands best
  unrepresentable: 'any',
});
const schema = {
  $schema: json.$schema,
  title: 'steward.yml',
  description: 'Configuration of Steward: the databases it audits, why the data is kept, and detection and audit settings.',
  ...Object.fromEntries(Object.entries(json).filter(([k]) => k !== '$schema')),
};
// `--out <file>` writes elsewhere (tests); default: the committed schema/steward.schema.json.
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 && process.argv[outArg + 1] ? path.resolve(process.argv[outArg + 1]) : path.join(root, 'schema/steward.schema.json');
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(schema, null, 2)}\n`, 'utf8');
console.log(`gen-json-schema: wrote ${path.relative(root, out) || out}`);
