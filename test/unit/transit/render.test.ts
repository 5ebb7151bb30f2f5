import { describe, expect, it } from 'vitest';
import { renderTlsReport, tlsReportJson } from '../../../src/interfaces/cli/commands/tls.js';
import { tlsFindings } from '../../../src/transit/tls-findings.js';
import type { TlsProbeResult } from '../../../src/transit/types.js';

const probe = (over: Partial<TlsProbeResult> = {}): TlsProbeResult => ({
  target: { input: '10.0.0.5:443', host: '10.0.0.5', port: 443, url: null },
  servername: '10.0.0.5',
  checkedAt: '2026-06-01T12:00:00.000Z',
  protocols: [
    { version: 'TLSv1', accepted: true, cipher: 'ECDHE-RSA-AES256-SHA', error: null },
    { version: 'TLSv1.1', accepted: null, cipher: null, error: 'no protocols available' },
    { version: 'TLSv1.2', accepted: true, cipher: 'X', error: null },
    { version: 'TLSv1.3', accepted: false, cipher: null, error: 'tlsv1 alert protocol version' },
  ],
  negotiated: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' },
  defaultHandshakeError: null,
  certificate: {
    subject: 'CN=evil\u001b[2J\u001b]0;pwned\u0007',
    issuer: 'CN=Evil CA\u009b31m',
    subjectAltNames: ['DNS:a\u001b[31m.example'],
    serialNumber: '01',
    fingerprint256: 'AA',
    validFrom: '2026-01-01T00:00:00.000Z',
    validTo: '2026-06-11T00:00:00.000Z',
    keyType: 'rsa',
    keyBits: 2048,
    curve: null,
    selfSigned: false,
    chain: [],
  },
  trust: { trusted: true, error: null, issuerTrusted: true, caSource: 'the test CA' },
  hostname: { name: '10.0.0.5', matches: false, error: 'x' },
  hsts: null,
  ...over,
});

describe('renderTlsReport', () => {
  it('a hostile certificate cannot write control sequences to the terminal', () => {
    const p = probe();
    const text = renderTlsReport(p, tlsFindings(p), { color: false, width: 100 });
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('CN=evil\\u001b[2J\\u001b]0;pwned\\u0007');
    expect(text).toContain('CN=Evil CA\\u009b31m');
  });

  it('shows each protocol state, the facts and the findings; the verdict is the last line', () => {
    const p = probe();
    const text = renderTlsReport(p, tlsFindings(p), { color: false, width: 100 });
    expect(text).toMatch(/Protocols\s+TLSv1\.3 refused · TLSv1\.2 accepted · TLSv1\.1 untested · TLSv1 accepted/);
    expect(text).toMatch(/Valid\s+2026-01-01 → 2026-06-11 · 9 days left/);
    expect(text).toContain('does NOT match');
    expect(text).toContain('HIGH     TLP-');
    expect(text).toContain('MEDIUM   TLE-');
    expect(text.trimEnd().split('\n').at(-1)).toBe('✖ 10.0.0.5:443: 3 findings (2 high, 1 medium); --fail-on high reached.');
    expect(renderTlsReport(p, tlsFindings(p), { failOn: 'critical' }).trimEnd().split('\n').at(-1)).toBe('! 10.0.0.5:443: 3 findings (2 high, 1 medium), below --fail-on critical.');
  });

  it('fits the width it is given, and colours only when asked', () => {
    const p = probe();
    const narrow = renderTlsReport(p, tlsFindings(p), { color: false, width: 50 });
    for (const line of narrow.split('\n')) expect([...line].length).toBeLessThanOrEqual(50);
    expect(narrow).not.toMatch(/\u001b\[/);
    expect(renderTlsReport(p, tlsFindings(p), { color: true, width: 100 })).toMatch(/\u001b\[/);
  });

  it('a failed default handshake and an unreadable HSTS response are shown as such', () => {
    const p = probe({
      negotiated: null,
      defaultHandshakeError: 'tlsv1 alert protocol version',
      target: { input: 'https://10.0.0.5', host: '10.0.0.5', port: 443, url: 'https://10.0.0.5/' },
      hsts: { status: null, header: null, maxAge: null, includeSubDomains: false, preload: false, error: 'socket hang up' },
    });
    const text = renderTlsReport(p, tlsFindings(p), { color: false });
    expect(text).toMatch(/Negotiated\s+default handshake failed: tlsv1 alert protocol version/);
    expect(text).toMatch(/HSTS\s+no HTTPS response: socket hang up/);
  });
});

describe('tlsReportJson', () => {
  it('carries the probe, findings and a summary that follows --fail-on', () => {
    const p = probe();
    const j = tlsReportJson(p, tlsFindings(p), 'critical');
    expect(j).toMatchObject({ schemaVersion: 1, tool: { name: 'steward' }, target: p.target, summary: { findingsBySeverity: { high: 2, medium: 1 }, failOn: 'critical', failed: false } });
    expect(JSON.parse(JSON.stringify(j)).findings).toHaveLength(3);
  });
});
