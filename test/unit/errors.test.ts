import { describe, expect, it } from 'vitest';
import { ConfigError, ExitCode, StewardError, isStewardError } from '../../src/errors.js';

describe('StewardError', () => {
  it('carries code, exit code and hint into one user line', () => {
    const e = new ConfigError('CONFIG_INVALID', 'steward.yml: sources[0].url: expected a string', { hint: 'Set url' });
    expect(isStewardError(e)).toBe(true);
    expect(e).toBeInstanceOf(StewardError);
    expect(e.exitCode).toBe(ExitCode.Config);
    expect(e.toUserString()).toBe('steward.yml: sources[0].url: expected a string. Set url');
    expect(e.name).toBe('ConfigError');
  });
});
