/**
 * Turns what the TLS probes of a host found (`TlsProbeResult`) into findings,
 * each with a severity and a one-sentence remedy. Pure: no I/O, the clock is a
 * parameter.
 */
import { sortTransitFindings, transitFinding } from './findings.js';
import { targetLabel } from './target.js';
import { OUTDATED_TLS_VERSIONS, type TlsProbeResult, type TransitFinding } from './types.js';

export const DAY_MS = 86_400_000;
/** A certificate expiring within this many days is a finding. */
export const EXPIRY_WARNING_DAYS = 30;
/** RSA and DSA keys below this are weak (NIST SP 800-57: 112-bit security). */
export const MIN_RSA_BITS = 2048;
/** EC keys below this are weak. */
export const MIN_EC_BITS = 256;
/** One year: what HSTS preload lists and most guidance ask for. */
export const MIN_HSTS_MAX_AGE = 31_536_000;

const TRUST_ERRORS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a self-signed root that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the issuer of the certificate is unknown (a missing intermediate, or an untrusted CA)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuing CA is not trusted here',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuing CA is not trusted here',
  CERT_SIGNATURE_FAILURE: 'a signature in the chain does not verify',
  CERT_REVOKED: 'the certificate is revoked',
  INVALID_CA: 'a certificate in the chain is not allowed to act as a CA',
  CERT_UNTRUSTED: 'the root is not trusted for server authentication',
  INVALID_PURPOSE: 'the certificate is not meant for server authentication',
};

const isoDay = (iso: string) => iso.slice(0, 10);

function daysText(days: number): string {
  if (days === 0) return 'less than a day';
  return days === 1 ? '1 day' : `${days} days`;
}

/** Whole days from `now` to `iso` (negative when in the past). */
export function daysUntil(iso: string, now: Date): number {
  const ms = Date.parse(iso) - now.getTime();
  return ms >= 0 ? Math.floor(ms / DAY_MS) : -Math.floor(-ms / DAY_MS);
}

/** `max-age=31536000` → 1 year, `86400` → 1 day. */
export function durationText(seconds: number): string {
  if (seconds >= MIN_HSTS_MAX_AGE && seconds % MIN_HSTS_MAX_AGE === 0) return seconds === MIN_HSTS_MAX_AGE ? '1 year' : `${seconds / MIN_HSTS_MAX_AGE} years`;
  if (seconds >= 86_400) return `${Math.floor(seconds / 86_400)} day${Math.floor(seconds / 86_400) === 1 ? '' : 's'}`;
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h`;
  return `${seconds} s`;
}

/**
 * Parses a `Strict-Transport-Security` header (RFC 6797 §6.1): directives split
 * by `;`, names case-insensitive, max-age digits (optionally quoted). A header
 * with a repeated directive or without a valid max-age is invalid: browsers
 * ignore it, so `maxAge` is null.
 */
export function parseHsts(header: string): { maxAge: number | null; includeSubDomains: boolean; preload: boolean } {
  const seen = new Set<string>();
  let maxAge: number | null = null;
  let valid = true;
  for (const part of header.split(';')) {
    const directive = part.trim();
    if (!directive) continue;
    const eq = directive.indexOf('=');
    const name = (eq < 0 ? directive : directive.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? null : directive.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (seen.has(name)) valid = false;
    seen.add(name);
    if (name === 'max-age') {
      if (value === null || !/^\d+$/.test(value)) valid = false;
      else maxAge = Math.min(Number(value), Number.MAX_SAFE_INTEGER);
    }
  }
  return { maxAge: valid ? maxAge : null, includeSubDomains: seen.has('includesubdomains'), preload: seen.has('preload') };
}

/** Every problem the probes of one host show, worst first. The good configuration has none. */
export function tlsFindings(probe: TlsProbeResult, now: Date = new Date(probe.checkedAt)): TransitFinding[] {
  const subject = targetLabel(probe.target);
  const out: TransitFinding[] = [];
  const add = (rule: Parameters<typeof transitFinding>[0], fields: Parameters<typeof transitFinding>[2]) => out.push(transitFinding(rule, subject, fields));

  // Protocol versions.
  const old = probe.protocols.filter((p) => p.accepted === true && OUTDATED_TLS_VERSIONS.includes(p.version)).map((p) => p.version);
  if (old.length) {
    const modern = probe.protocols.some((p) => p.accepted === true && !OUTDATED_TLS_VERSIONS.includes(p.version));
    add('tls.protocol-outdated', {
      severity: 'high',
      title: `${old.join(' and ')} accepted`,
      message: `${subject} completes handshakes with ${old.join(' and ')}, deprecated since 2021 (RFC 8996) for weaknesses that let an attacker in the path weaken or read the connection${modern ? '' : '; it accepts nothing newer, so up-to-date clients cannot connect at all'}.`,
      remedy: 'Set the server\'s minimum protocol to TLS 1.2 (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`, Node: `minVersion: \'TLSv1.2\'`).',
    });
  }

  const cert = probe.certificate;
  if (cert) {
    // Validity period.
    const left = daysUntil(cert.validTo, now);
    if (Date.parse(cert.validTo) <= now.getTime()) {
      add('tls.cert-expired', {
        severity: 'critical',
        title: 'Certificate expired',
        message: `The certificate of ${subject} expired on ${isoDay(cert.validTo)} (${daysText(-left)} ago); clients that verify certificates refuse to connect.`,
        remedy: 'Renew the certificate now and automate renewal (ACME, e.g. Let\'s Encrypt with certbot) so it cannot lapse again.',
      });
    } else if (Date.parse(cert.validTo) - now.getTime() <= EXPIRY_WARNING_DAYS * DAY_MS) {
      add('tls.cert-expiring', {
        severity: 'medium',
        title: `Certificate expires in ${daysText(left)}`,
        message: `The certificate of ${subject} expires on ${isoDay(cert.validTo)}, in ${daysText(left)}.`,
        remedy: `Renew the certificate before ${isoDay(cert.validTo)} and automate renewal (ACME, e.g. Let's Encrypt with certbot).`,
      });
    }
    if (Date.parse(cert.validFrom) > now.getTime()) {
      add('tls.cert-not-yet-valid', {
        severity: 'high',
        title: 'Certificate not yet valid',
        message: `The certificate of ${subject} is valid only from ${cert.validFrom}; clients refuse it until then.`,
        remedy: 'Check the clocks of the server and of the machine that issued the certificate, or serve the certificate that is valid now.',
      });
    }

    // Chain of trust.
    // Validity-period errors have their own rules above; `issuerTrusted` says whether the chain is trusted apart from them.
    const trustError = probe.trust.error;
    if (!probe.trust.trusted && !probe.trust.issuerTrusted) {
      const why = cert.selfSigned ? TRUST_ERRORS.DEPTH_ZERO_SELF_SIGNED_CERT! : (trustError && TRUST_ERRORS[trustError]) ?? 'the issuer is not trusted';
      add('tls.cert-untrusted', {
        severity: 'high',
        title: cert.selfSigned ? 'Self-signed certificate' : 'Certificate chain not trusted',
        message: `The certificate chain of ${subject} does not verify against ${probe.trust.caSource}: ${why}${trustError ? ` (${trustError})` : ''}; clients cannot tell the server from an impostor.`,
        remedy: cert.selfSigned
          ? 'Replace it with a certificate from a CA the clients trust (a public CA, or your internal CA installed on every client and passed to this check with --ca).'
          : 'Serve the full chain (certificate and intermediates) issued by a CA the clients trust; for an internal CA, pass its certificate with --ca.',
      });
    }

    // Hostname.
    if (!probe.hostname.matches) {
      const names = cert.subjectAltNames.length ? cert.subjectAltNames.join(', ') : cert.subject;
      add('tls.hostname-mismatch', {
        severity: 'high',
        title: 'Certificate does not match the host name',
        message: `The certificate of ${subject} is for ${names}, not for ${probe.hostname.name}; clients that check names refuse it, and those that do not can be fooled.`,
        remedy: `Issue a certificate whose subjectAltName includes ${probe.hostname.name}, or connect by a name the certificate covers (--servername).`,
      });
    }

    // Key strength.
    const type = cert.keyType;
    const bits = cert.keyBits;
    if (bits !== null && (((type === 'rsa' || type === 'rsa-pss' || type === 'dsa') && bits < MIN_RSA_BITS) || (type === 'ec' && bits < MIN_EC_BITS))) {
      add('tls.weak-key', {
        severity: 'high',
        title: `${type.toUpperCase()} key of ${bits} bits`,
        message: `The certificate of ${subject} has a ${bits}-bit ${type.toUpperCase()} key; below ${type === 'ec' ? MIN_EC_BITS : MIN_RSA_BITS} bits it can be broken with affordable computing.`,
        remedy: `Reissue the certificate with an RSA key of at least ${MIN_RSA_BITS} bits (3072 for use beyond 2030) or an ECDSA P-256 key.`,
      });
    }
  }

  // HSTS, for https:// targets.
  const hsts = probe.hsts;
  if (hsts) {
    if (hsts.header === null || hsts.maxAge === null || hsts.maxAge === 0) {
      const why =
        hsts.status === null
          ? `no HTTPS response could be read (${hsts.error ?? 'unknown error'})`
          : hsts.header === null
            ? `the HTTPS response (status ${hsts.status}) has no Strict-Transport-Security header`
            : hsts.maxAge === 0
              ? 'its Strict-Transport-Security header has max-age=0, which tells browsers to forget HSTS'
              : 'its Strict-Transport-Security header has no valid max-age, so browsers ignore it';
      add('tls.hsts-missing', {
        severity: 'medium',
        title: 'No HSTS',
        message: `For ${probe.target.url ?? subject}, ${why}: a visitor's first request over http:// can be intercepted and kept on plaintext.`,
        remedy: 'Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every HTTPS response.',
      });
    } else if (hsts.maxAge < MIN_HSTS_MAX_AGE) {
      add('tls.hsts-short', {
        severity: 'low',
        title: 'HSTS max-age under a year',
        message: `For ${probe.target.url ?? subject}, HSTS max-age is ${hsts.maxAge} s${durationText(hsts.maxAge) === `${hsts.maxAge} s` ? '' : ` (${durationText(hsts.maxAge)})`}; browsers forget it after that and the next http:// visit can be downgraded.`,
        remedy: `Raise max-age to at least ${MIN_HSTS_MAX_AGE} (one year)${hsts.includeSubDomains ? '' : ' and add includeSubDomains'}.`,
      });
    }
  }

  return sortTransitFindings(out);
}
