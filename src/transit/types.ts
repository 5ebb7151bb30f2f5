/**
 * Encryption in transit: what a TLS check of a host found (`steward tls check`),
 * how a database session is protected, and the findings both turn into. Types
 * only; the probes (I/O) live in tls-probe.ts and src/sources/<dialect>/
 * <dialect>-transport.ts, the rules (pure) in tls-findings.ts and session.ts.
 */
import type { Severity } from '../audit/types.js';
import type { SourceKind } from '../sources/kinds.js';

export type { Severity };

/** Protocol versions as Node's `tls` names them, oldest first. */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** Versions with known weaknesses (RFC 8996 deprecates them). */
export const OUTDATED_TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1'];

/** What `steward tls check` was pointed at. */
export interface TlsTarget {
  /** As the user wrote it. */
  readonly input: string;
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** The `https://` URL whose response headers are read (HSTS); null for `host:port`. */
  readonly url: string | null;
}

/** One handshake with `minVersion = maxVersion = version`. */
export interface ProtocolProbe {
  readonly version: TlsVersion;
  /** true: handshake completed; false: the server refused it; null: this machine's TLS library cannot offer the version. */
  readonly accepted: boolean | null;
  /** The cipher negotiated when accepted. */
  readonly cipher: string | null;
  /** Why it failed, shortened (`tlsv1 alert protocol version`). */
  readonly error: string | null;
}

export interface ChainCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly validTo: string;
}

/** The server's leaf certificate, as read from the handshake. Public information. */
export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltNames: readonly string[];
  readonly serialNumber: string;
  readonly fingerprint256: string;
  /** ISO-8601. */
  readonly validFrom: string;
  readonly validTo: string;
  /** `rsa`, `ec`, `ed25519`, `dsa`, … (Node's `asymmetricKeyType`); null if unknown. */
  readonly keyType: string | null;
  /** Modulus length (RSA, DSA) or curve size (EC, Ed25519); null if unknown. */
  readonly keyBits: number | null;
  /** Named curve for EC keys. */
  readonly curve: string | null;
  /** Issued by itself and signed with its own key. */
  readonly selfSigned: boolean;
  /** The chain the server sent, leaf first. */
  readonly chain: readonly ChainCertificate[];
}

export interface HstsInfo {
  /** HTTP status of the response the header was read from; null when no response was read. */
  readonly status: number | null;
  /** The raw `Strict-Transport-Security` header, or null when absent. */
  readonly header: string | null;
  /** Seconds; null when the header is absent or has no valid max-age. */
  readonly maxAge: number | null;
  readonly includeSubDomains: boolean;
  readonly preload: boolean;
  /** Why no response could be read, when none was. */
  readonly error: string | null;
}

/** Everything the probes of one host found. The input of `tlsFindings`. */
export interface TlsProbeResult {
  readonly target: TlsTarget;
  /** The name used for SNI and the hostname check (`--servername`, else the host). */
  readonly servername: string;
  /** ISO-8601. */
  readonly checkedAt: string;
  readonly protocols: readonly ProtocolProbe[];
  /** What a default handshake (Node's defaults: TLS 1.2 and newer) negotiated; null when it failed. */
  readonly negotiated: { readonly protocol: string; readonly cipher: string } | null;
  readonly defaultHandshakeError: string | null;
  readonly certificate: CertificateInfo | null;
  readonly trust: {
    /** The chain verifies against `caSource`. */
    readonly trusted: boolean;
    /** OpenSSL's verification error code (`DEPTH_ZERO_SELF_SIGNED_CERT`, `CERT_HAS_EXPIRED`, …) or null. */
    readonly error: string | null;
    /**
     * The chain leads to a trusted root when validity periods are left aside.
     * OpenSSL reports one error only: for an expired certificate from an unknown
     * CA it says `CERT_HAS_EXPIRED`; this tells whether the issuer is trusted too.
     */
    readonly issuerTrusted: boolean;
    /** `system (<file>)`, `node (bundled Mozilla roots)`, or `file (<path>)`. */
    readonly caSource: string;
  };
  readonly hostname: { readonly name: string; readonly matches: boolean; readonly error: string | null };
  /** Null for `host:port` targets (not known to speak HTTP). */
  readonly hsts: HstsInfo | null;
}

/** Stable rule ids of transit findings. */
export type TransitRule =
  | 'tls.protocol-outdated'
  | 'tls.cert-expired'
  | 'tls.cert-expiring'
  | 'tls.cert-not-yet-valid'
  | 'tls.cert-untrusted'
  | 'tls.hostname-mismatch'
  | 'tls.weak-key'
  | 'tls.hsts-missing'
  | 'tls.hsts-short'
  | 'transit.url-accepts-plaintext'
  | 'transit.url-unverified-tls'
  | 'transit.session-unencrypted'
  | 'transit.server-tls-not-required';

export interface TransitFinding {
  /** Stable: rule code + a hash of rule and subject. Same problem, same id. */
  readonly id: string;
  readonly rule: TransitRule;
  readonly severity: Severity;
  readonly title: string;
  /** What was found. Never a password or a row value. */
  readonly message: string;
  /** One sentence: what to do about it. */
  readonly remedy: string;
  /** What it is about: `host:port` for a TLS check, the source name for a database session. */
  readonly subject: string;
}

/** How the current connection of a source is protected, as the database itself reports it. */
export interface SessionTransport {
  readonly kind: SourceKind;
  /** False for SQLite: a local file, no connection to protect. */
  readonly applicable: boolean;
  /** The current session uses TLS; null when not applicable or unknown. */
  readonly encrypted: boolean | null;
  /** `TLSv1.3`, when encrypted. */
  readonly protocol: string | null;
  readonly cipher: string | null;
  /** The server has TLS turned on at all (Postgres `ssl`, MySQL `have_ssl`); null when unknown. */
  readonly serverSupportsTls: boolean | null;
  /**
   * The server refuses plaintext connections (MySQL `require_secure_transport`;
   * Postgres: every `host` line of pg_hba.conf is `hostssl`, readable by superusers only); null when unknown.
   */
  readonly serverRequiresTls: boolean | null;
}

/** What a connection string asks for, read without connecting. */
export interface ConnectionStringTransport {
  readonly kind: SourceKind;
  readonly applicable: boolean;
  /** `tcp` (a host name or address), `socket` (a Unix socket: never leaves the machine), or `file` (SQLite). */
  readonly via: 'tcp' | 'socket' | 'file';
  /** The host, when `via` is `tcp`. Never the password. */
  readonly host: string | null;
  /** The host is a loopback address or `localhost`: the traffic does not leave this machine. */
  readonly loopback: boolean;
  /**
   * - `plaintext`: TLS is never used (`sslmode=disable`, no `ssl` for mysql2)
   * - `opportunistic`: TLS if the server offers it, plaintext otherwise (`prefer`, `allow`, no sslmode)
   * - `unverified`: TLS required, server certificate not checked (`require`, `no-verify`, `rejectUnauthorized: false`)
   * - `verified`: TLS required and the certificate checked (`verify-ca`, `verify-full`, mysql2 `ssl={…}`)
   * - `none`: not applicable (SQLite)
   */
  readonly mode: 'plaintext' | 'opportunistic' | 'unverified' | 'verified' | 'none';
  /** The setting that decided `mode`, as written (`sslmode=prefer`, `ssl-mode=REQUIRED`, `(no sslmode)`). */
  readonly setting: string;
}

/**
 * What to tell a user about one database's encryption in transit: the texts of
 * the findings in connection.ts and session.ts, supplied by the dialect
 * (src/sources/<dialect>/<dialect>-transport.ts).
 */
export interface TransitAdvice {
  /** Why a connection string without a TLS setting is plaintext: the driver's default. */
  readonly driverDefault: string;
  /** Remedy: a connection string that requires TLS and verifies the server. */
  readonly verifyInUrl: string;
  /** Remedy: the server has TLS off. */
  readonly serverTlsOn: string;
  /** Remedy: the client did not ask for TLS. */
  readonly clientTlsOn: string;
  /** Remedy: the server accepts plaintext connections. */
  readonly requireTls: string;
  /** How the server lets plaintext in, after "The <kind> server of source "x" ". */
  serverAcceptsPlaintext(session: SessionTransport): string;
}

