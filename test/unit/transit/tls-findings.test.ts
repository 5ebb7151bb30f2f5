import { describe, expect, it } from 'vitest';
import { reachesFailOn, transitFindingId } from '../../../src/transit/findings.js';
import { daysUntil, durationText, parseHsts, tlsFindings } from '../../../src/transit/tls-findings.js';
import type { CertificateInfo, ProtocolProbe, TlsProbeResult } from '../../../src/transit/types.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();

const protocols = (accepted: Partial<Record<ProtocolProbe['version'], boolean | null>>): ProtocolProbe[] =>
  (['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const).map((version) => {
    const a = accepted[version] ?? false;
    return { version, accepted: a, cipher: a ? 'X' : null, error: a ? null : 'tlsv1 alert protocol version' };
  });

const cert = (over: Partial<CertificateInfo> = {}): CertificateInfo => ({
  subject: 'CN=shop.example.com',
  issuer: 'CN=Example CA',
  subjectAltNames: ['DNS:shop.example.com'],
  serialNumber: '1000',
  fingerprint256: 'AA:BB',
  validFrom: at(-10),
  validTo: at(200),
  keyType: 'rsa',
  keyBits: 2048,
  curve: null,
  selfSigned: false,
  chain: [],
  ...over,
});

/** A host with nothing wrong: TLS 1.2 and 1.3, a trusted 2048-bit certificate for its name, HSTS for a year. */
function good(over: Partial<TlsProbeResult> = {}): TlsProbeResult {
  return {
    target: { input: 'https://shop.example.com', host: 'shop.example.com', port: 443, url: 'https://shop.example.com/' },
    servername: 'shop.example.com',
    checkedAt: NOW.toISOString(),
    protocols: protocols({ 'TLSv1.2': true, 'TLSv1.3': true }),
    negotiated: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    defaultHandshakeError: null,
    certificate: cert(),
    trust: { trusted: true, error: null, issuerTrusted: true, caSource: 'the system CA store' },
    hostname: { name: 'shop.example.com', matches: true, error: null },
    hsts: { status: 200, header: 'max-age=31536000; includeSubDomains', maxAge: 31_536_000, includeSubDomains: true, preload: false, error: null },
    ...over,
  };
}

const rules = (p: TlsProbeResult) => tlsFindings(p, NOW).map((f) => [f.rule, f.severity]);

describe('tlsFindings', () => {
  it('finds nothing wrong with a good configuration', () => {
    expect(tlsFindings(good(), NOW)).toEqual([]);
  });

  it('TLS 1.0 and 1.1 accepted: one high finding naming both; says so when nothing newer is accepted', () => {
    const both = tlsFindings(good({ protocols: protocols({ TLSv1: true, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': true }) }), NOW);
    expect(both.map((f) => [f.rule, f.severity, f.title])).toEqual([['tls.protocol-outdated', 'high', 'TLSv1 and TLSv1.1 accepted']]);
    expect(both[0]!.message).not.toContain('accepts nothing newer');
    const onlyOld = tlsFindings(good({ protocols: protocols({ 'TLSv1.1': true }), negotiated: null }), NOW);
    expect(onlyOld[0]!.title).toBe('TLSv1.1 accepted');
    expect(onlyOld[0]!.message).toContain('accepts nothing newer');
  });

  it('a version the client could not test (accepted: null) is not a finding', () => {
    expect(rules(good({ protocols: protocols({ TLSv1: null, 'TLSv1.1': null, 'TLSv1.2': true, 'TLSv1.3': true }) }))).toEqual([]);
  });

  it('expired certificate: critical, with the date and how long ago; exactly at validTo counts as expired', () => {
    const f = tlsFindings(good({ certificate: cert({ validTo: at(-3) }), trust: { trusted: false, error: 'CERT_HAS_EXPIRED', issuerTrusted: true, caSource: 's' } }), NOW);
    expect(f.map((x) => [x.rule, x.severity])).toEqual([['tls.cert-expired', 'critical']]);
    expect(f[0]!.message).toContain('expired on 2026-05-29 (3 days ago)');
    expect(rules(good({ certificate: cert({ validTo: NOW.toISOString() }) }))).toEqual([['tls.cert-expired', 'critical']]);
  });

  it('expiry within 30 days: medium; 30 days exactly is in, 30 days and a minute is out', () => {
    expect(rules(good({ certificate: cert({ validTo: at(10) }) }))).toEqual([['tls.cert-expiring', 'medium']]);
    expect(tlsFindings(good({ certificate: cert({ validTo: at(10) }) }), NOW)[0]!.title).toBe('Certificate expires in 10 days');
    expect(rules(good({ certificate: cert({ validTo: at(30) }) }))).toEqual([['tls.cert-expiring', 'medium']]);
    expect(rules(good({ certificate: cert({ validTo: new Date(NOW.getTime() + 30 * DAY + 60_000).toISOString() }) }))).toEqual([]);
    expect(tlsFindings(good({ certificate: cert({ validTo: new Date(NOW.getTime() + 3_600_000).toISOString() }) }), NOW)[0]!.title).toBe('Certificate expires in less than a day');
  });

  it('not yet valid: high', () => {
    expect(rules(good({ certificate: cert({ validFrom: at(2) }), trust: { trusted: false, error: 'CERT_NOT_YET_VALID', issuerTrusted: true, caSource: 's' } }))).toEqual([['tls.cert-not-yet-valid', 'high']]);
  });

  it('self-signed or unknown issuer: high, with a remedy that fits the cause', () => {
    const self = tlsFindings(good({ certificate: cert({ selfSigned: true }), trust: { trusted: false, error: 'DEPTH_ZERO_SELF_SIGNED_CERT', issuerTrusted: false, caSource: 'the system CA store' } }), NOW);
    expect(self.map((f) => [f.rule, f.severity, f.title])).toEqual([['tls.cert-untrusted', 'high', 'Self-signed certificate']]);
    expect(self[0]!.message).toContain('(DEPTH_ZERO_SELF_SIGNED_CERT)');
    const chain = tlsFindings(good({ trust: { trusted: false, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', issuerTrusted: false, caSource: 'the system CA store' } }), NOW);
    expect(chain.map((f) => f.title)).toEqual(['Certificate chain not trusted']);
    expect(chain[0]!.remedy).toMatch(/intermediates/);
  });

  it('an expired certificate from a trusted CA is one finding (expired), not two; an expired self-signed one is both', () => {
    expect(rules(good({ certificate: cert({ validTo: at(-1) }), trust: { trusted: false, error: 'CERT_HAS_EXPIRED', issuerTrusted: true, caSource: 's' } }))).toEqual([['tls.cert-expired', 'critical']]);
    expect(rules(good({ certificate: cert({ validTo: at(-1), selfSigned: true }), trust: { trusted: false, error: 'CERT_HAS_EXPIRED', issuerTrusted: false, caSource: 's' } }))).toEqual([
      ['tls.cert-expired', 'critical'],
      ['tls.cert-untrusted', 'high'],
    ]);
  });

  it('hostname mismatch: high, naming the names the certificate covers', () => {
    const f = tlsFindings(good({ hostname: { name: 'shop.example.com', matches: false, error: 'x' }, certificate: cert({ subjectAltNames: ['DNS:other.example.com'] }) }), NOW);
    expect(f.map((x) => [x.rule, x.severity])).toEqual([['tls.hostname-mismatch', 'high']]);
    expect(f[0]!.message).toContain('is for DNS:other.example.com, not for shop.example.com');
  });

  it('RSA below 2048 bits and EC below 256 bits: high; 2048 RSA, P-256, Ed25519 are fine', () => {
    expect(rules(good({ certificate: cert({ keyBits: 1024 }) }))).toEqual([['tls.weak-key', 'high']]);
    expect(rules(good({ certificate: cert({ keyBits: 2047 }) }))).toEqual([['tls.weak-key', 'high']]);
    expect(rules(good({ certificate: cert({ keyType: 'ec', keyBits: 224, curve: 'secp224r1' }) }))).toEqual([['tls.weak-key', 'high']]);
    expect(rules(good({ certificate: cert({ keyType: 'ec', keyBits: 256, curve: 'prime256v1' }) }))).toEqual([]);
    expect(rules(good({ certificate: cert({ keyType: 'ed25519', keyBits: 256 }) }))).toEqual([]);
    expect(tlsFindings(good({ certificate: cert({ keyBits: 1024 }) }), NOW)[0]!.title).toBe('RSA key of 1024 bits');
  });

  it('HSTS: absent, max-age=0, invalid → medium; under a year → low; host:port targets have no HSTS check', () => {
    const hsts = (header: string | null) => ({ status: 200, header, ...(header === null ? { maxAge: null, includeSubDomains: false, preload: false } : parseHsts(header)), error: null });
    expect(rules(good({ hsts: hsts(null) }))).toEqual([['tls.hsts-missing', 'medium']]);
    expect(rules(good({ hsts: hsts('max-age=0') }))).toEqual([['tls.hsts-missing', 'medium']]);
    expect(rules(good({ hsts: hsts('includeSubDomains') }))).toEqual([['tls.hsts-missing', 'medium']]);
    expect(rules(good({ hsts: hsts('max-age=31535999') }))).toEqual([['tls.hsts-short', 'low']]);
    expect(tlsFindings(good({ hsts: hsts('max-age=86400') }), NOW)[0]!.message).toContain('86400 s (1 day)');
    expect(rules(good({ hsts: hsts('max-age=63072000; preload') }))).toEqual([]);
    expect(rules(good({ hsts: null, target: { input: 'h:443', host: 'h', port: 443, url: null } }))).toEqual([]);
    const unread = tlsFindings(good({ hsts: { status: null, header: null, maxAge: null, includeSubDomains: false, preload: false, error: 'connection reset by the server (ECONNRESET)' } }), NOW);
    expect(unread[0]!.message).toContain('no HTTPS response could be read (connection reset by the server (ECONNRESET))');
  });

  it('several problems: sorted worst first, every finding has a one-sentence remedy and a stable id', () => {
    const bad = good({
      protocols: protocols({ TLSv1: true, 'TLSv1.2': true }),
      certificate: cert({ validTo: at(-1), keyBits: 1024, selfSigned: true }),
      trust: { trusted: false, error: 'DEPTH_ZERO_SELF_SIGNED_CERT', issuerTrusted: false, caSource: 's' },
      hostname: { name: 'shop.example.com', matches: false, error: 'x' },
      hsts: { status: 200, header: null, maxAge: null, includeSubDomains: false, preload: false, error: null },
    });
    const f = tlsFindings(bad, NOW);
    expect(f.map((x) => x.severity)).toEqual(['critical', 'high', 'high', 'high', 'high', 'medium']);
    for (const x of f) {
      expect(x.remedy).toMatch(/^[A-Z].*\.$/);
      expect(x.remedy.replaceAll('e.g. ', '').split(/\.\s+[A-Z]/).length).toBe(1);
      expect(x.subject).toBe('shop.example.com:443');
      expect(x.id).toBe(transitFindingId(x.rule, 'shop.example.com:443'));
    }
    expect(tlsFindings(bad, NOW).map((x) => x.id)).toEqual(f.map((x) => x.id));
    expect(new Set(f.map((x) => x.id)).size).toBe(f.length);
  });

  it('--fail-on: high fails on high and critical, not medium; never never fails', () => {
    const medium = tlsFindings(good({ certificate: cert({ validTo: at(5) }) }), NOW);
    expect(reachesFailOn(medium, 'high')).toBe(false);
    expect(reachesFailOn(medium, 'medium')).toBe(true);
    expect(reachesFailOn(medium, 'never')).toBe(false);
    expect(reachesFailOn([], 'info')).toBe(false);
    expect(reachesFailOn(tlsFindings(good({ certificate: cert({ validTo: at(-5) }) }), NOW), 'high')).toBe(true);
  });
});

describe('parseHsts', () => {
  it('reads max-age, includeSubDomains and preload, case-insensitively, with a quoted max-age', () => {
    expect(parseHsts('max-age=31536000; includeSubDomains; preload')).toEqual({ maxAge: 31_536_000, includeSubDomains: true, preload: true });
    expect(parseHsts('MAX-AGE="600";INCLUDESUBDOMAINS')).toEqual({ maxAge: 600, includeSubDomains: true, preload: false });
  });

  it('a repeated directive, a non-numeric or missing max-age make the header invalid', () => {
    expect(parseHsts('max-age=1; max-age=2').maxAge).toBeNull();
    expect(parseHsts('max-age=-5').maxAge).toBeNull();
    expect(parseHsts('max-age=1e9').maxAge).toBeNull();
    expect(parseHsts('max-age').maxAge).toBeNull();
    expect(parseHsts('').maxAge).toBeNull();
  });

  it('an absurdly large max-age is capped, not turned into Infinity', () => {
    expect(parseHsts(`max-age=${'9'.repeat(400)}`).maxAge).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('helpers', () => {
  it('daysUntil counts whole days either way', () => {
    expect(daysUntil(at(10.5), NOW)).toBe(10);
    expect(daysUntil(at(-2.5), NOW)).toBe(-2);
  });
  it('durationText', () => {
    expect(durationText(31_536_000)).toBe('1 year');
    expect(durationText(63_072_000)).toBe('2 years');
    expect(durationText(172_800)).toBe('2 days');
    expect(durationText(300)).toBe('300 s');
  });
});
