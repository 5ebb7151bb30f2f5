/**
 * `steward tls check <https-url|host:port>`: real handshakes with the host
 * (src/transit/tls-probe.ts), findings from them (src/transit/tls-findings.ts),
 * printed for a terminal or as JSON. Exit 0, 1 when a finding reaches
 * `--fail-on` (default high), 4 when the host cannot be reached or speaks no TLS.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pc from 'picocolors';
import type { Severity } from '../../../audit/types.js';
import { severityStyle } from '../../reports/terminal.js';
import { UsageError } from '../../../errors.js';
import { countTransitBySeverity, reachesFailOn, sortTransitFindings } from '../../../transit/findings.js';
import { daysUntil, durationText, MIN_HSTS_MAX_AGE, tlsFindings } from '../../../transit/tls-findings.js';
import { probeTls, systemTrustStore, type TrustStore } from '../../../transit/tls-probe.js';
import { parseTlsTarget, targetLabel } from '../../../transit/target.js';
import { OUTDATED_TLS_VERSIONS, type TlsProbeResult, type TransitFinding } from '../../../transit/types.js';
import { VERSION } from '../../../version.js';
import { severityCountsText } from '../../reports/format.js';
import { truncate, wrap } from '../../reports/text.js';
import { shown, stringifyJson, useColor, type Io } from '../output.js';

export interface TlsCheckOptions {
  readonly target: string;
  readonly json?: boolean;
  readonly servername?: string;
  /** Milliseconds per connection. */
  readonly timeout?: number;
  /** PEM file of the CA(s) to trust instead of the system store. */
  readonly ca?: string;
  readonly failOn?: Severity | 'never';
  readonly color?: boolean;
}

const CA_HINT = 'Pass a PEM file holding the CA certificate(s) that issued the server certificate (-----BEGIN CERTIFICATE-----)';

async function readCa(io: Io, file: string): Promise<TrustStore> {
  let pem: string;
  try {
    pem = await readFile(path.resolve(io.cwd, file), 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the CA file ${file}: ${(e as { code?: string }).code ?? (e instanceof Error ? e.message : String(e))}`, { hint: CA_HINT });
  }
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no certificate');
    new X509Certificate(pem);
  } catch {
    throw new UsageError(`${file} is not a PEM certificate`, { hint: CA_HINT });
  }
  return { ca: pem, label: `the CA file ${file}` };
}

/** The JSON form (`--json`): the probe result, the findings, and the verdict. Fields are added, never renamed. */
export function tlsReportJson(probe: TlsProbeResult, findings: readonly TransitFinding[], failOn: Severity | 'never') {
  return {
    schemaVersion: 1 as const,
    tool: { name: 'steward' as const, version: VERSION },
    ...probe,
    findings,
    summary: { findingsBySeverity: countTransitBySeverity(findings), failOn, failed: reachesFailOn(findings, failOn) },
  };
}


/** What `steward tls check` prints on a terminal; the verdict is the last line. */
export function renderTlsReport(probe: TlsProbeResult, findings: readonly TransitFinding[], options: { color?: boolean; width?: number; failOn?: Severity | 'never' } = {}): string {
  const c = pc.createColors(options.color === true);
  const width = Math.max(40, Math.floor(options.width ?? 100));
  const safe = shown;
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  const label = targetLabel(probe.target);
  const LABEL = 13;
  /** A labelled fact, wrapped under its value. */
  const fact = (name: string, value: string, style: (t: string) => string = (t) => t) => {
    wrap(value, width - 2 - LABEL).forEach((l, i) => line(`  ${i === 0 ? c.dim(name.padEnd(LABEL)) : ' '.repeat(LABEL)}${style(l)}`));
  };

  line(c.bold(truncate(`TLS check · ${safe(label)}${probe.target.url ? ` (${safe(probe.target.url)})` : ''}`, width)));
  line(c.dim(truncate(`${probe.checkedAt.slice(0, 16).replace('T', ' ')}Z · name checked: ${safe(probe.servername)} · steward ${VERSION}`, width)));
  line();

  // One chunk per version, packed into lines by their plain width, then styled.
  const chunks = [...probe.protocols].reverse().map((p) => {
    const old = OUTDATED_TLS_VERSIONS.includes(p.version);
    const state = p.accepted === null ? 'untested' : p.accepted ? 'accepted' : 'refused';
    const style = p.accepted === null ? c.dim : p.accepted ? (old ? c.red : c.green) : old ? c.green : c.dim;
    return { plain: `${p.version} ${state}`, styled: `${p.version} ${style(state)}` };
  });
  const rows: (typeof chunks)[] = [[]];
  let used = 0;
  for (const chunk of chunks) {
    const add = (used ? 3 : 0) + chunk.plain.length;
    if (used && used + add > width - 2 - LABEL) {
      rows.push([]);
      used = 0;
    }
    rows.at(-1)!.push(chunk);
    used += used ? 3 + chunk.plain.length : chunk.plain.length;
  }
  rows.forEach((r, i) => line(`  ${i === 0 ? c.dim('Protocols'.padEnd(LABEL)) : ' '.repeat(LABEL)}${r.map((x) => x.styled).join(' · ')}`));
  fact('Negotiated', probe.negotiated ? `${probe.negotiated.protocol} · ${safe(probe.negotiated.cipher)}` : `default handshake failed: ${safe(probe.defaultHandshakeError ?? 'unknown')}`, probe.negotiated ? undefined : c.red);

  const cert = probe.certificate;
  if (cert) {
    fact('Certificate', `${safe(cert.subject)}, issued by ${safe(cert.issuer)}${cert.selfSigned ? ' (self-signed)' : ''}`);
    fact('Names', `${cert.subjectAltNames.length ? safe(cert.subjectAltNames.join(', ')) : '(no subjectAltName)'} · ${safe(probe.hostname.name)} ${probe.hostname.matches ? 'matches' : 'does NOT match'}`, probe.hostname.matches ? undefined : c.red);
    const left = daysUntil(cert.validTo, new Date(probe.checkedAt));
    const expired = Date.parse(cert.validTo) <= Date.parse(probe.checkedAt);
    fact('Valid', `${cert.validFrom.slice(0, 10)} → ${cert.validTo.slice(0, 10)} · ${expired ? `EXPIRED ${-left} days ago` : `${left} days left`}`, expired ? c.red : left <= 30 ? c.yellow : undefined);
    fact('Key', `${(cert.keyType ?? 'unknown').toUpperCase()}${cert.keyBits ? ` ${cert.keyBits} bits` : ''}${cert.curve ? ` (${safe(cert.curve)})` : ''}`);
  }
  fact('Trust', probe.trust.trusted ? `chain verifies against ${safe(probe.trust.caSource)}` : `does NOT verify against ${safe(probe.trust.caSource)} (${safe(probe.trust.error ?? 'unknown')})`, probe.trust.trusted ? undefined : c.red);
  if (probe.hsts) {
    const h = probe.hsts;
    const text =
      h.status === null
        ? `no HTTPS response: ${safe(h.error ?? 'unknown')}`
        : h.header === null
          ? `none (HTTP ${h.status})`
          : `${safe(h.header)}${h.maxAge === null ? ' (invalid)' : durationText(h.maxAge) === `${h.maxAge} s` ? '' : ` (${durationText(h.maxAge)})`}`;
    fact('HSTS', text, h.maxAge !== null && h.maxAge >= MIN_HSTS_MAX_AGE ? undefined : h.maxAge ? c.yellow : c.red);
  }

  line();
  const sorted = sortTransitFindings(findings);
  if (sorted.length === 0) {
    line(`${c.bold('Findings')}  ${c.green('none')}`);
  } else {
    line(c.bold(`Findings (${sorted.length})`));
    for (const f of sorted) {
      line(`  ${severityStyle(c, f.severity)(f.severity.toUpperCase().padEnd(8))} ${truncate(`${f.id}  ${safe(f.title)}`, width - 11)}`);
      for (const l of wrap(safe(f.message), width - 4)) line(`    ${l}`);
      wrap(safe(f.remedy), width - 6).forEach((l, i) => line(`    ${i === 0 ? c.green('→') : ' '} ${l}`));
    }
  }
  line();
  const counts = severityCountsText(countTransitBySeverity(sorted));
  const failOn = options.failOn ?? 'high';
  const n = `${sorted.length} finding${sorted.length === 1 ? '' : 's'} (${counts})`;
  const [verdictText, verdictStyle] =
    sorted.length === 0
      ? [`✔ ${label}: no findings.`, c.green]
      : reachesFailOn(sorted, failOn)
        ? [`✖ ${label}: ${n}; --fail-on ${failOn} reached.`, c.red]
        : [`! ${label}: ${n}, below --fail-on ${failOn}.`, c.yellow];
  for (const l of wrap(safe(verdictText), width)) line(c.bold(verdictStyle(l)));
  return `${out.join('\n')}\n`;
}

/** `steward tls check`. Resolves to the exit code; throws `TlsError` (exit 4) or `UsageError` (exit 2). */
export async function tlsCheck(options: TlsCheckOptions, io: Io): Promise<number> {
  const target = parseTlsTarget(options.target);
  const failOn = options.failOn ?? 'high';
  const trust = options.ca ? await readCa(io, options.ca) : systemTrustStore(io.env);
  const servername = options.servername?.trim();
  if (options.servername !== undefined && !servername) throw new UsageError('--servername is empty', { hint: 'Pass the host name the certificate should be for, e.g. --servername shop.example.com' });
  const probe = await probeTls(target, { trust, ...(servername ? { servername } : {}), ...(options.timeout ? { timeoutMs: options.timeout } : {}) });
  const findings = tlsFindings(probe);
  if (options.json) io.stdout.write(`${stringifyJson(tlsReportJson(probe, findings, failOn), 2)}\n`);
  else io.stdout.write(renderTlsReport(probe, findings, { color: useColor(io, options.color), width: io.stdout.columns ?? 100, failOn }));
  return reachesFailOn(findings, failOn) ? 1 : 0;
}
