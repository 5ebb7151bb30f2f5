/** The built package's public entry points load and work (what a library user imports). */
import { describe, expect, it } from 'vitest';

describe('built package exports', () => {
  it('steward, steward/detection, steward/config and steward/sources resolve to working modules', async () => {
    const root = await import('../../dist/index.js');
    const detection = await import('../../dist/detection/index.js');
    const config = await import('../../dist/config/index.js');
    const sources = await import('../../dist/sources/index.js');
    expect(typeof root.runAudit).toBe('function');
    expect(root.VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(detection.createClassifier().classifyValue('4111 1111 1111 1111')).toEqual({ detector: 'card', category: 'financial.card' });
    expect(typeof config.loadConfig).toBe('function');
    expect(sources.redactUrl('postgres://u:secret@h/db')).not.toContain('secret');
    const e = new root.ConfigError('CONFIG_INVALID', 'x');
    expect(e.exitCode).toBe(root.ExitCode.Config);
  });
});
