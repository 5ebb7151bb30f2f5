/**
 * `steward tls check` against TLS and HTTPS servers this file starts on
 * 127.0.0.1 (OS-picked ports) with certificates made by openssl at test time
 * (test/helpers/tls-certs.ts): real handshakes, exact findings per configuration.
 */
import https from 'node:https';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsError } from '../../src/errors.js';
import { main } from '../../src/interfaces/cli/cli.js';
import type { Io } from '../../src/interfaces/cli/output.js';
import { tlsFindings } from '../../src/transit/tls-findings.js';
import { probeTls, type TrustStore } from '../../src/transit/tls-probe.js';
import { parseTlsTarget } from '../../src/transit/target.js';
import type { TlsProbeResult } from '../../src/transit/types.js';
import { makeTestCerts, opensslPath, type KeyAndCert, type TestCerts } from '../helpers/tls-certs.js';

const HAVE_OPENSSL = opensslPath() !== null;

interface Running {
  readonly port: number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<Running> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const sockets = new Set<net.Socket>();
      server.on('connection', (s: net.Socket) => {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      });
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

function tlsServer(kc: KeyAndCert, extra: tls.TlsOptions = {}): Promise<Running> {
  const server = tls.createServer({ key: kc.key, cert: kc.cert, ...extra }, (socket) => socket.end());
  server.on('tlsClientError', () => undefined);
  return listen(server);
}

function httpsServer(kc: KeyAndCert, hsts: string | null, extra: tls.TlsOptions = {}, onlyForHost?: string): Promise<Running> {
  const server = https.createServer({ key: kc.key, cert: kc.cert, ...extra }, (req, res) => {
    if (hsts !== null && (onlyForHost === undefined || req.headers.host?.startsWith(`${onlyForHost}:`))) res.setHeader('Strict-Transport-Security', hsts);
    res.end('ok');
  });
  server.on('tlsClientError', () => undefined);
  return listen(server);
}

/** An Io capturing stdout and stderr, with a chosen environment. */
function io(env: NodeJS.ProcessEnv = {}): Io & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += String(b)));
  stderr.on('data', (b) => (err += String(b)));
  return { stdout, stderr, env, cwd: process.cwd(), out: () => out, err: () => err };
}

describe.skipIf(!HAVE_OPENSSL)('steward tls check against local servers', () => {
  let certs: TestCerts;
  let trust: TrustStore;
  const servers: Record<string, Running> = {};
  let closedPort: number;

  beforeAll(async () => {
    certs = makeTestCerts();
    trust = { ca: certs.caPem, label: 'the test CA' };
    const entries: [string, Promise<Running>][] = [
      ['good', tlsServer(certs.good)],
      ['ec', tlsServer(certs.ec)],
      ['expired', tlsServer(certs.expired)],
      ['expiring', tlsServer(certs.expiring)],
      ['selfSigned', tlsServer(certs.selfSigned)],
      ['wrongHost', tlsServer(certs.wrongHost)],
      ['weakRsa', tlsServer(certs.weakRsa)],
      ['oldOnly', tlsServer(certs.good, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })],
      ['oldToo', tlsServer(certs.good, { minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' })],
      ['httpsHsts', httpsServer(certs.good, 'max-age=31536000; includeSubDomains')],
      ['httpsNoHsts', httpsServer(certs.good, null)],
      ['httpsShortHsts', httpsServer(certs.good, 'max-age=86400')],
      ['httpsVhost', httpsServer(certs.good, 'max-age=31536000', {}, 'localhost')],
      ['httpsOldOnly', httpsServer(certs.good, 'max-age=31536000', { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })],
      // TLS, then an HTTP response whose headers never end: one header line every 50 ms.
      [
        'drip',
        (() => {
          const server = tls.createServer({ key: certs.good.key, cert: certs.good.cert }, (socket) => {
            socket.on('error', () => undefined);
            socket.once('data', () => {
              socket.write('HTTP/1.1 200 OK\r\n');
              const timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 50);
              socket.on('close', () => clearInterval(timer));
            });
          });
          server.on('tlsClientError', () => undefined);
          return listen(server);
        })(),
      ],
      // Speaks plain text, not TLS.
      ['plain', listen(net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')))],
      // Accepts the connection and never says a word.
      ['silent', listen(net.createServer(() => undefined))],
    ];
    for (const [name, p] of entries) servers[name] = await p;
    const probe = await listen(net.createServer());
    closedPort = probe.port;
    await probe.close();
  });

  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
    certs?.cleanup();
  });

  const hostPort = (name: string) => `127.0.0.1:${servers[name]!.port}`;
  const probe = (target: string, options: { servername?: string; trust?: TrustStore; timeoutMs?: number } = {}) =>
    probeTls(parseTlsTarget(target), { trust, timeoutMs: 5000, ...options });
  const rules = (p: TlsProbeResult) => tlsFindings(p).map((f) => [f.rule, f.severity]);
  const accepted = (p: TlsProbeResult) => Object.fromEntries(p.protocols.map((x) => [x.version, x.accepted]));

  it('good certificate signed by the test CA: no findings, TLS 1.2 and 1.3 only, everything reported', async () => {
    const p = await probe(hostPort('good'));
    expect(tlsFindings(p)).toEqual([]);
    expect(accepted(p)).toEqual({ TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true });
    expect(p.negotiated).toEqual({ protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' });
    expect(p.trust).toEqual({ trusted: true, error: null, issuerTrusted: true, caSource: 'the test CA' });
    expect(p.hostname).toEqual({ name: '127.0.0.1', matches: true, error: null });
    expect(p.certificate).toMatchObject({ subject: 'CN=localhost', issuer: 'CN=Steward Test CA', keyType: 'rsa', keyBits: 2048, selfSigned: false, subjectAltNames: ['DNS:localhost', 'IP Address:127.0.0.1'] });
    expect(p.certificate!.chain.map((c) => c.subject)).toEqual(['CN=localhost', 'CN=Steward Test CA']);
    expect(p.hsts).toBeNull();
    const days = (Date.parse(p.certificate!.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(363);
    expect(days).toBeLessThan(366);
  });

  it('good EC P-256 certificate: no findings, key reported as EC 256', async () => {
    const p = await probe(hostPort('ec'));
    expect(tlsFindings(p)).toEqual([]);
    expect(p.certificate).toMatchObject({ keyType: 'ec', keyBits: 256, curve: 'prime256v1' });
  });

  it('--servername: SNI and the name check use it (DNS SAN localhost matches, another name does not)', async () => {
    expect(rules(await probe(hostPort('good'), { servername: 'localhost' }))).toEqual([]);
    const other = await probe(hostPort('good'), { servername: 'shop.example.com' });
    expect(rules(other)).toEqual([['tls.hostname-mismatch', 'high']]);
    expect(other.hostname.name).toBe('shop.example.com');
  });

  it('the same good certificate without the test CA (system store): untrusted chain, high', async () => {
    const p = await probe(hostPort('good'), { trust: { ca: undefined, label: "Node's bundled CA roots" } });
    expect(rules(p)).toEqual([['tls.cert-untrusted', 'high']]);
    expect(p.trust.trusted).toBe(false);
    expect(p.trust.error).toMatch(/^UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)$/);
  });

  it('expired certificate: exactly one critical finding', async () => {
    const p = await probe(hostPort('expired'));
    expect(rules(p)).toEqual([['tls.cert-expired', 'critical']]);
    expect(p.trust.error).toBe('CERT_HAS_EXPIRED');
    expect(p.certificate!.validTo).toBe('2024-02-01T00:00:00.000Z');
    expect(tlsFindings(p)[0]!.message).toContain('expired on 2024-02-01');
  });

  it('expired certificate from a CA this machine does not trust: expired and untrusted (OpenSSL reports only the first)', async () => {
    const p = await probe(hostPort('expired'), { trust: { ca: undefined, label: "Node's bundled CA roots" } });
    expect(p.trust).toMatchObject({ trusted: false, issuerTrusted: false });
    expect(rules(p)).toEqual([
      ['tls.cert-expired', 'critical'],
      ['tls.cert-untrusted', 'high'],
    ]);
    expect((await probe(hostPort('expired'))).trust).toMatchObject({ trusted: false, error: 'CERT_HAS_EXPIRED', issuerTrusted: true });
  });

  it('certificate expiring in 10 days: exactly one medium finding', async () => {
    const p = await probe(hostPort('expiring'));
    expect(rules(p)).toEqual([['tls.cert-expiring', 'medium']]);
    expect(tlsFindings(p)[0]!.title).toMatch(/^Certificate expires in (9|10) days$/);
  });

  it('self-signed certificate: exactly one high finding', async () => {
    const p = await probe(hostPort('selfSigned'));
    expect(rules(p)).toEqual([['tls.cert-untrusted', 'high']]);
    expect(p.certificate!.selfSigned).toBe(true);
    expect(p.trust.error).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(tlsFindings(p)[0]!.title).toBe('Self-signed certificate');
  });

  it('self-signed certificate passed as the CA (pinned): trusted, no findings', async () => {
    expect(rules(await probe(hostPort('selfSigned'), { trust: { ca: certs.selfSigned.cert, label: 'pinned' } }))).toEqual([]);
  });

  it('wrong-host certificate: exactly one high finding naming both names', async () => {
    const p = await probe(hostPort('wrongHost'));
    expect(rules(p)).toEqual([['tls.hostname-mismatch', 'high']]);
    expect(tlsFindings(p)[0]!.message).toContain('is for DNS:wrong.example.com, not for 127.0.0.1');
  });

  it('RSA 1024 key: exactly one high finding', async () => {
    const p = await probe(hostPort('weakRsa'));
    expect(rules(p)).toEqual([['tls.weak-key', 'high']]);
    expect(p.certificate).toMatchObject({ keyType: 'rsa', keyBits: 1024 });
  });

  it('server that only accepts TLS 1.0/1.1: one high finding; the default handshake fails, the certificate is still read', async () => {
    const p = await probe(hostPort('oldOnly'));
    expect(accepted(p)).toEqual({ TLSv1: true, 'TLSv1.1': true, 'TLSv1.2': false, 'TLSv1.3': false });
    expect(rules(p)).toEqual([['tls.protocol-outdated', 'high']]);
    expect(p.negotiated).toBeNull();
    expect(p.defaultHandshakeError).toMatch(/protocol version/);
    expect(p.certificate!.subject).toBe('CN=localhost');
    expect(p.trust.trusted).toBe(true);
    expect(tlsFindings(p)[0]!.message).toContain('accepts nothing newer');
  });

  it('server that accepts TLS 1.0 through 1.3: the outdated ones are the finding', async () => {
    const p = await probe(hostPort('oldToo'));
    expect(accepted(p)).toEqual({ TLSv1: true, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': true });
    expect(rules(p)).toEqual([['tls.protocol-outdated', 'high']]);
    expect(tlsFindings(p)[0]!.title).toBe('TLSv1 and TLSv1.1 accepted');
  });

  it('HTTPS with HSTS for a year: no findings; the header is read from a real response', async () => {
    const p = await probe(`https://127.0.0.1:${servers.httpsHsts!.port}/`);
    expect(tlsFindings(p)).toEqual([]);
    expect(p.hsts).toEqual({ status: 200, header: 'max-age=31536000; includeSubDomains', maxAge: 31_536_000, includeSubDomains: true, preload: false, error: null });
  });

  it('--servername with an address: the HTTPS request asks that virtual host (Host header), as a browser would', async () => {
    expect(rules(await probe(`https://127.0.0.1:${servers.httpsVhost!.port}/`, { servername: 'localhost' }))).toEqual([]);
    expect(rules(await probe(`https://127.0.0.1:${servers.httpsVhost!.port}/`))).toEqual([['tls.hsts-missing', 'medium']]);
  });

  it('HTTPS without HSTS: exactly one medium finding', async () => {
    const p = await probe(`https://127.0.0.1:${servers.httpsNoHsts!.port}/`);
    expect(rules(p)).toEqual([['tls.hsts-missing', 'medium']]);
    expect(p.hsts).toMatchObject({ status: 200, header: null });
  });

  it('HTTPS with HSTS max-age of a day: exactly one low finding', async () => {
    const p = await probe(`https://127.0.0.1:${servers.httpsShortHsts!.port}/`);
    expect(rules(p)).toEqual([['tls.hsts-short', 'low']]);
  });

  it('HTTPS server on TLS 1.0/1.1 only: HSTS is still read (over the old protocol); the protocol is the one finding', async () => {
    const p = await probe(`https://127.0.0.1:${servers.httpsOldOnly!.port}/`);
    expect(rules(p)).toEqual([['tls.protocol-outdated', 'high']]);
    expect(p.hsts).toMatchObject({ status: 200, maxAge: 31_536_000 });
  });

  it('https:// URL to a TLS server that does not speak HTTP: no HSTS readable is the medium finding', async () => {
    const p = await probe(`https://127.0.0.1:${servers.good!.port}/`);
    expect(rules(p)).toEqual([['tls.hsts-missing', 'medium']]);
    expect(p.hsts!.status).toBeNull();
    expect(p.hsts!.error).toBeTruthy();
  });

  it('closed port: TlsError TLS_UNREACHABLE, exit 4, naming host and reason', async () => {
    const error = await probe(`127.0.0.1:${closedPort}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TlsError);
    expect(error).toMatchObject({ code: 'TLS_UNREACHABLE', exitCode: 4, target: `127.0.0.1:${closedPort}` });
    expect((error as TlsError).message).toBe(`cannot reach 127.0.0.1:${closedPort}: connection refused (ECONNREFUSED)`);
  });

  it('a server that drips its HTTP headers forever is cut off at the deadline (not an idle timeout)', async () => {
    const started = Date.now();
    const p = await probe(`https://127.0.0.1:${servers.drip!.port}/`, { timeoutMs: 600 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(p.hsts).toMatchObject({ status: null, error: 'no answer within 600 ms' });
    expect(rules(p)).toEqual([['tls.hsts-missing', 'medium']]);
  });

  it('a host name that does not resolve: TLS_UNREACHABLE naming the name', async () => {
    const error = await probe('steward-test.invalid:443').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TLS_UNREACHABLE', exitCode: 4 });
    expect((error as Error).message).toMatch(/^cannot reach steward-test\.invalid:443: host name (not found|lookup failed)/);
  });

  it('a port that answers in plain text, or not at all: TLS_HANDSHAKE, exit 4', async () => {
    const plain = await probe(hostPort('plain')).catch((e: unknown) => e);
    expect(plain).toMatchObject({ code: 'TLS_HANDSHAKE', exitCode: 4 });
    expect((plain as Error).message).toMatch(/^127\.0\.0\.1:\d+ accepts connections but no TLS handshake with it succeeded: /);
    const started = Date.now();
    const silent = await probe(hostPort('silent'), { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(silent).toMatchObject({ code: 'TLS_HANDSHAKE' });
    expect((silent as Error).message).toContain('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  describe('through the CLI (main)', () => {
    it('good: exit 0, human report with every fact and the verdict last; no colour codes with NO_COLOR', async () => {
      const o = io({ NO_COLOR: '1', FORCE_COLOR: '1' });
      const code = await main(['tls', 'check', hostPort('good'), '--ca', certs.caFile], o);
      expect(code).toBe(0);
      const text = o.out();
      expect(text).not.toMatch(/\x1b\[/);
      expect(text).toContain(`TLS check · ${hostPort('good')}`);
      expect(text).toMatch(/Protocols\s+TLSv1\.3 accepted · TLSv1\.2 accepted · TLSv1\.1 refused · TLSv1 refused/);
      expect(text).toMatch(/Negotiated\s+TLSv1\.3 · TLS_AES_256_GCM_SHA384/);
      expect(text).toMatch(/Certificate\s+CN=localhost, issued by CN=Steward Test CA/);
      expect(text).toMatch(/Key\s+RSA 2048 bits/);
      expect(text).toMatch(/Trust\s+chain verifies against the CA file /);
      expect(text).toContain('Findings  none');
      expect(text.trimEnd().split('\n').at(-1)).toBe(`✔ ${hostPort('good')}: no findings.`);
    });

    it('colour when forced and NO_COLOR is unset; --no-color turns it off', async () => {
      const coloured = io({ FORCE_COLOR: '1' });
      await main(['tls', 'check', hostPort('expired'), '--ca', certs.caFile], coloured);
      expect(coloured.out()).toMatch(/\x1b\[/);
      const plain = io({ FORCE_COLOR: '1' });
      await main(['--no-color', 'tls', 'check', hostPort('expired'), '--ca', certs.caFile], plain);
      expect(plain.out()).not.toMatch(/\x1b\[/);
    });

    it('expired: exit 1 (critical reaches the default --fail-on high); --fail-on never: exit 0', async () => {
      const o = io();
      expect(await main(['tls', 'check', hostPort('expired'), '--ca', certs.caFile], o)).toBe(1);
      expect(o.out()).toContain('CRITICAL');
      expect(o.out()).toContain('→ Renew the certificate now');
      expect(o.out().trimEnd().split('\n').at(-1)).toBe(`✖ ${hostPort('expired')}: 1 finding (1 critical); --fail-on high reached.`);
      expect(await main(['tls', 'check', hostPort('expired'), '--ca', certs.caFile, '--fail-on', 'never'], io())).toBe(0);
    });

    it('expiring (medium): exit 0 by default, 1 with --fail-on medium', async () => {
      expect(await main(['tls', 'check', hostPort('expiring'), '--ca', certs.caFile], io())).toBe(0);
      expect(await main(['tls', 'check', hostPort('expiring'), '--ca', certs.caFile, '--fail-on', 'medium'], io())).toBe(1);
    });

    it('--json: probe facts, findings and summary; exit code follows --fail-on', async () => {
      const o = io();
      const code = await main(['tls', 'check', `https://127.0.0.1:${servers.httpsNoHsts!.port}/`, '--ca', certs.caFile, '--servername', 'localhost', '--json'], o);
      expect(code).toBe(0);
      const j = JSON.parse(o.out());
      expect(j).toMatchObject({
        schemaVersion: 1,
        tool: { name: 'steward' },
        target: { host: '127.0.0.1', port: servers.httpsNoHsts!.port, url: `https://127.0.0.1:${servers.httpsNoHsts!.port}/` },
        servername: 'localhost',
        negotiated: { protocol: 'TLSv1.3' },
        hostname: { name: 'localhost', matches: true },
        hsts: { status: 200, header: null },
        summary: { findingsBySeverity: { critical: 0, high: 0, medium: 1, low: 0, info: 0 }, failOn: 'high', failed: false },
      });
      expect(j.findings.map((f: { rule: string }) => f.rule)).toEqual(['tls.hsts-missing']);
      expect(j.findings[0]).toMatchObject({ severity: 'medium', subject: `127.0.0.1:${servers.httpsNoHsts!.port}` });
      expect(j.findings[0].id).toMatch(/^HST-[0-9a-f]{10}$/);
    });

    it('unreachable: exit 4, one line naming host, reason and what to do; no stack trace', async () => {
      const o = io();
      expect(await main(['tls', 'check', `127.0.0.1:${closedPort}`], o)).toBe(4);
      expect(o.out()).toBe('');
      const lines = o.err().trimEnd().split('\n');
      expect(lines).toEqual([`steward: error: cannot reach 127.0.0.1:${closedPort}: connection refused (ECONNREFUSED). Check the host name and port, and that no firewall, VPN or proxy blocks connections from this machine`]);
      const j = io();
      expect(await main(['tls', 'check', `127.0.0.1:${closedPort}`, '--json'], j)).toBe(4);
      expect(JSON.parse(j.out())).toMatchObject({ error: { code: 'TLS_UNREACHABLE' } });
    });

    it('bad usage: exit 2 (bad target, unreadable or non-PEM --ca, bad --timeout)', async () => {
      const bad = io();
      expect(await main(['tls', 'check', 'http://127.0.0.1:1'], bad)).toBe(2);
      expect(bad.err()).toContain('http:// is not checked over TLS');
      const missing = io();
      expect(await main(['tls', 'check', hostPort('good'), '--ca', '/nonexistent/ca.pem'], missing)).toBe(2);
      expect(missing.err()).toContain('cannot read the CA file /nonexistent/ca.pem: ENOENT');
      const notPem = io();
      expect(await main(['tls', 'check', hostPort('good'), '--ca', certs.good.certFile.replace(/good\.crt$/, 'req.cnf')], notPem)).toBe(2);
      expect(notPem.err()).toContain('is not a PEM certificate');
      expect(await main(['tls', 'check', hostPort('good'), '--timeout', '5'], io())).toBe(2);
      expect(await main(['tls', 'check'], io())).toBe(2);
    });

    it('--help lists the options and examples', async () => {
      const o = io();
      expect(await main(['tls', 'check', '--help'], o)).toBe(0);
      for (const s of ['--servername', '--ca', '--timeout', '--fail-on', '--json', 'Examples:', 'steward tls check https://shop.example.com']) expect(o.out()).toContain(s);
    });
  });
});
