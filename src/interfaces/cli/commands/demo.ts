import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildDemoDatabase, demoConfigYaml } from '../../../demo/build-demo.js';
import type { ReportFormat } from '../../reports/index.js';
import { audit } from './audit.js';
import { shellQuote } from '../../../shell.js';
import { shown, type Io } from '../output.js';

export interface DemoCommandOptions {
  /** Directory for the demo database, its steward.yml and state (default ./steward-demo). */
  readonly dir?: string;
  readonly customers?: number;
  readonly seed?: number;
  readonly format?: ReportFormat;
  readonly out?: string;
  readonly json?: boolean;
  readonly color?: boolean;
}

/** `steward demo`: builds the demo shop database, writes its steward.yml, audits it. */
export async function demo(options: DemoCommandOptions, io: Io): Promise<number> {
  const dir = path.resolve(io.cwd, options.dir ?? 'steward-demo');
  await mkdir(dir, { recursive: true });
  const dbPath = path.join(dir, 'shop.db');
  const configPath = path.join(dir, 'steward.yml');
  const summary = await buildDemoDatabase(dbPath, {
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.customers !== undefined ? { customers: options.customers } : {}),
  });
  if (!existsSync(configPath)) await writeFile(configPath, demoConfigYaml('shop.db'), 'utf8');
  if (!options.json) {
    const rows = summary.tables.reduce((n, t) => n + t.rows, 0);
    io.stderr.write(`steward: demo shop database ${shown(path.relative(io.cwd, dbPath) || dbPath)} (${summary.tables.length} tables, ${rows} rows) and ${shown(path.relative(io.cwd, configPath))}\n`);
  }
  const code = await audit(
    { config: configPath, format: options.format, out: options.out, json: options.json, color: options.color },
    io,
  );
  if (!options.json && !options.out) {
    const rel = path.relative(io.cwd, configPath) || configPath;
    io.stderr.write(
      `\nNext: open the HTML report with \`npx steward audit --config ${shown(shellQuote(rel))} --format html --out report.html\`,\n` +
        `or point Steward at your own database with \`npx steward init\`.\n`,
    );
  }
  return code;
}
