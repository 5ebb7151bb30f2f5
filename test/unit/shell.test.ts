import { parse } from 'shell-quote';
import { describe, expect, it } from 'vitest';
import { shellCommand } from '../../src/shell.js';

describe('shellCommand', () => {
  it('round-trips every argument through a shell parser, with no operator or expansion', () => {
    const hostile = ['t;touch X;#.card_number', '$(id)', '`id`', "it's", 'a b', 'a\nb', 'x && y', '>out', '*', '~root', 'emails[public.leads]', '\u001b[2J', ''];
    for (const h of hostile) {
      const line = shellCommand('steward', '--column', h);
      expect(parse(line), line).toEqual(['steward', '--column', h]);
    }
    expect(shellCommand('steward', 'encrypt', '--source', 'shop', '--column', 'customers.email')).toBe('steward encrypt --source shop --column customers.email');
    expect(shellCommand('--policy', 'emails[public.leads]')).toBe("--policy 'emails[public.leads]'");
  });
});
