import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../../src/config/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const file = path.join(root, 'schema/steward.schema.json');

interface JsonSchema {
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
  additionalProperties?: boolean;
}

describe('schema/steward.schema.json', () => {
  it('is committed, describes sources, and carries descriptions', () => {
    expect(existsSync(file)).toBe(true);
    const schema = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
    expect(schema.properties?.sources).toBeDefined();
    expect(schema.required).toEqual(['sources']);
    expect(schema.additionalProperties).toBe(false);
    const source = schema.properties?.sources?.items;
    expect(source?.required).toEqual(['name', 'kind', 'url', 'owner']);
    expect(source?.properties?.url?.description).toEqual(expect.stringContaining('${ENV_VAR}'));
    expect(schema.properties?.audit?.description).toBeTruthy();
  });

  it('matches what the zod schema generates now (regenerate with `npm run build`)', () => {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const fresh = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-07', unrepresentable: 'any' }) as Record<string, unknown>;
    expect(schema.properties).toEqual(fresh.properties);
  });

  it('the generator script writes a schema with sources from the build', () => {
    if (!existsSync(path.join(root, 'dist/config/schema.js'))) return; // not built yet
    const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-schema-'));
    try {
      const target = path.join(dir, 'out.json');
      const log = execFileSync(process.execPath, [path.join(root, 'scripts/gen-json-schema.mjs'), '--out', target], { encoding: 'utf8' });
      expect(log).toEqual(expect.stringContaining('gen-json-schema: wrote'));
      const generated = JSON.parse(readFileSync(target, 'utf8')) as JsonSchema;
      expect(generated.properties?.sources?.items?.properties?.kind).toBeDefined();
      expect(generated.description).toEqual(expect.stringContaining('Steward'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
