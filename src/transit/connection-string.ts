/**
 * Reading a connection string without connecting: the parts every dialect's
 * reader (src/sources/<dialect>/<dialect>-transport.ts) shares. Pure.
 */
import net from 'node:net';
import type { ConnectionStringTransport } from './types.js';

/** `localhost`, 127.0.0.0/8, `::1` (and its IPv4-mapped form): traffic that does not leave the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/** `key=value key2='quoted value'` (libpq's keyword/value form). */
function keywordValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/g;
  for (const m of text.matchAll(re)) out.set(m[1]!.toLowerCase(), (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
  return out;
}

/** A connection string taken apart: its host and its parameters (names lower-cased, first one wins). */
export interface ParsedConnectionString {
  readonly host: string;
  readonly params: Map<string, string>;
}

/** A URL (`scheme://…`) or libpq keyword/value string taken apart; null when it is neither. */
export function parseConnectionString(url: string): ParsedConnectionString | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const u = new URL(url);
      const params = new Map<string, string>();
      for (const [k, v] of u.searchParams) if (!params.has(k.toLowerCase())) params.set(k.toLowerCase(), v);
      return { host: decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1'), params };
    } catch {
      return null;
    }
  }
  if (/\w+\s*=/.test(url)) {
    const params = keywordValues(url);
    return { host: params.get('host') ?? '', params };
  }
  return null;
}

/**
 * Where a parsed string points: a Unix socket (a path, or what `socketParam`
 * names), else TCP to its host (node-postgres and mysql2 use localhost when no
 * host is given). `abstractSocket`: an `@name` host is a Linux abstract socket (libpq).
 */
export function connectionPlace(parsed: ParsedConnectionString, socketParam: string | undefined, abstractSocket: boolean): Pick<ConnectionStringTransport, 'via' | 'host' | 'loopback'> {
  const host = socketParam ?? parsed.host;
  if (host.startsWith('/') || (abstractSocket && host.startsWith('@'))) return { via: 'socket', host: null, loopback: true };
  const h = host || 'localhost';
  return { via: 'tcp', host: h, loopback: isLoopbackHost(h) };
}

/** Unparseable (the driver will refuse it anyway): not assumed to be local. */
export const UNREADABLE_CONNECTION_STRING: ParsedConnectionString = Object.freeze({ host: '(unreadable host)', params: new Map<string, string>() });
