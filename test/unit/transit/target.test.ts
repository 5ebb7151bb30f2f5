import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { parseTlsTarget, targetLabel } from '../../../src/transit/target.js';

describe('parseTlsTarget', () => {
  it('https:// URLs: host, port (443 by default), the URL kept for the HSTS request', () => {
    expect(parseTlsTarget('https://shop.example.com')).toEqual({ input: 'https://shop.example.com', host: 'shop.example.com', port: 443, url: 'https://shop.example.com/' });
    expect(parseTlsTarget('HTTPS://Shop.Example.com:8443/health?x=1')).toMatchObject({ host: 'shop.example.com', port: 8443, url: 'https://shop.example.com:8443/health?x=1' });
    expect(parseTlsTarget('https://[::1]:9443/')).toMatchObject({ host: '::1', port: 9443 });
  });

  it('host:port, bare host (443), bracketed and bare IPv6', () => {
    expect(parseTlsTarget('db.example.com:5432')).toEqual({ input: 'db.example.com:5432', host: 'db.example.com', port: 5432, url: null });
    expect(parseTlsTarget('127.0.0.1')).toMatchObject({ host: '127.0.0.1', port: 443, url: null });
    expect(parseTlsTarget('[2001:db8::1]:8443')).toMatchObject({ host: '2001:db8::1', port: 8443 });
    expect(parseTlsTarget('[2001:db8::1]')).toMatchObject({ host: '2001:db8::1', port: 443 });
    expect(parseTlsTarget('2001:db8::1')).toMatchObject({ host: '2001:db8::1', port: 443 });
  });

  it.each([
    ['', /no host/],
    ['http://shop.example.com', /http:\/\/ is not checked over TLS/],
    ['ftp://x', /ftp:\/\//],
    ['https://user:secret@shop.example.com', /user name or password/],
    ['host:0', /port must be/],
    ['host:65536', /port must be/],
    ['host:12ab', /port must be/],
    ['host:', /port must be/],
    ['a:b:c', /IPv6 address in brackets/],
    ['[nothex]:443', /not an IPv6 address/],
    ['shop.example.com/path', /neither an https:\/\/ URL nor host:port/],
    ['sh op:443', /neither/],
    ['x$y:443', /not a host name/],
  ])('rejects %j with a usage error (exit 2)', (input, message) => {
    let error: unknown;
    try {
      parseTlsTarget(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(message);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).hint).toMatch(/https:\/\//);
  });

  it('never echoes a password from a URL', () => {
    try {
      parseTlsTarget('https://user:hunter2@shop.example.com');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});

describe('targetLabel', () => {
  it('brackets IPv6', () => {
    expect(targetLabel({ host: '::1', port: 443 })).toBe('[::1]:443');
    expect(targetLabel({ host: 'a.b', port: 1 })).toBe('a.b:1');
  });
});
