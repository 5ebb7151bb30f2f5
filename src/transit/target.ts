/**
 * Parses what `steward tls check` is pointed at: `https://host[:port][/path]`,
 * `host:port`, `host` (port 443), `[v6addr]:port`. Pure.
 */
import net from 'node:net';
import { UsageError } from '../errors.js';
import type { TlsTarget } from './types.js';

const HINT = 'Pass an https:// URL (https://shop.example.com) or host:port (db.example.com:5432, [2001:db8::1]:443)';
const HOST = /^[A-Za-z0-9._-]+$/;

function port(text: string, input: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < 1 || n > 65_535) throw new UsageError(`"${input}": the port must be a number from 1 to 65535`, { hint: HINT });
  return n;
}

export function parseTlsTarget(input: string): TlsTarget {
  const text = input.trim();
  if (!text) throw new UsageError('no host to check', { hint: HINT });
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 'https') {
      throw new UsageError(`"${text}": ${scheme[1]}:// is not checked over TLS`, { hint: `${HINT}; for a plain http:// site, its https:// address is what clients should use` });
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`"${text}" is not a valid URL`, { hint: HINT });
    }
    if (url.username || url.password) throw new UsageError('the URL must not contain a user name or password', { hint: HINT });
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host) throw new UsageError(`"${text}" has no host`, { hint: HINT });
    return { input: text, host, port: url.port ? port(url.port, text) : 443, url: url.toString() };
  }
  if (/[/?#@\s]/.test(text)) throw new UsageError(`"${text}" is neither an https:// URL nor host:port`, { hint: HINT });
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    if (!net.isIPv6(bracketed[1]!)) throw new UsageError(`"${text}": ${bracketed[1]} is not an IPv6 address`, { hint: HINT });
    return { input: text, host: bracketed[1]!, port: bracketed[2] === undefined ? 443 : port(bracketed[2], text), url: null };
  }
  if (net.isIPv6(text)) return { input: text, host: text, port: 443, url: null };
  const parts = text.split(':');
  if (parts.length > 2) throw new UsageError(`"${text}": write an IPv6 address in brackets, [${text}]:443`, { hint: HINT });
  const host = parts[0]!;
  if (!HOST.test(host)) throw new UsageError(`"${text}": "${host}" is not a host name or address`, { hint: HINT });
  return { input: text, host, port: parts[1] === undefined ? 443 : port(parts[1], text), url: null };
}

/** `host:port`, with brackets around an IPv6 address. */
export function targetLabel(t: Pick<TlsTarget, 'host' | 'port'>): string {
  return `${net.isIPv6(t.host) ? `[${t.host}]` : t.host}:${t.port}`;
}
