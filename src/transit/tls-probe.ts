/**
 * The I/O of `steward tls check`: real handshakes with node:tls against one
 * host. A TCP connection first (unreachable → `TlsError` TLS_UNREACHABLE), then
 * one default handshake and one per protocol version (minVersion = maxVersion),
 * in parallel; the certificate read from the first that succeeded; for https://
 * URLs, one real HTTPS request for the Strict-Transport-Security header. Never
 * sends anything but a handshake and a GET of the given URL. Turning the result
 * into findings is `tlsFindings` (pure).
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { TlsError } from '../errors.js';
import { VERSION } from '../version.js';
import { parseHsts } from './tls-findings.js';
import { targetLabel } from './target.js';
import { TLS_VERSIONS, type CertificateInfo, type ChainCertificate, type HstsInfo, type ProtocolProbe, type TlsProbeResult, type TlsTarget, type TlsVersion } from './types.js';
import { NETWORK_REASONS } from '../sources/errors.js';

export interface TrustStore {
  /** PEM certificates; undefined = Node's bundled Mozilla roots. */
  readonly ca: string | readonly string[] | undefined;
  /** Where they come from, for the report: `system (/etc/ssl/certs/ca-certificates.crt)`, `file (ca.pem)`. */
  readonly label: string;
}

export interface TlsProbeOptions {
  /** SNI and the name the certificate must match; default the target's host. */
  readonly servername?: string;
  /** Default: `systemTrustStore()`. */
  readonly trust?: TrustStore;
  /** Per connection; default 10 s. */
  readonly timeoutMs?: number;
  readonly now?: () => Date;
}

/** Where Linux distributions and macOS keep the system's CA bundle. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine
  '/etc/pki/tls/certs/ca-bundle.crt', // RHEL, Fedora
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/ssl/cert.pem', // macOS, BSD
];

/**
 * The system CA store: `SSL_CERT_FILE`, else the distribution's bundle (where
 * internal CAs get installed), together with Node's bundled roots. Node's
 * bundled roots alone when no bundle is found.
 */
export function systemTrustStore(env: NodeJS.ProcessEnv = process.env): TrustStore {
  const candidates = env.SSL_CERT_FILE ? [env.SSL_CERT_FILE, ...SYSTEM_BUNDLES] : SYSTEM_BUNDLES;
  for (const file of candidates) {
    try {
      const pem = fs.readFileSync(file, 'utf8');
      if (pem.includes('-----BEGIN CERTIFICATE-----')) return { ca: [...tls.rootCertificates, pem], label: `the system CA store (${file})` };
    } catch {
      // Not there or unreadable: try the next one.
    }
  }
  return { ca: undefined, label: "Node's bundled CA roots" };
}


/** One line for a TLS or socket error: OpenSSL's reason (`tlsv1 alert protocol version`), else the message, with the code. */
export function shortTlsError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (message.startsWith('no answer within')) return message;
  if (code && NETWORK_REASONS[code]) return `${NETWORK_REASONS[code]} (${code})`;
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(message);
  if (openssl) return openssl[1]!.trim();
  if (/socket hang up|Client network socket disconnected/i.test(message)) return 'the server closed the connection during the handshake';
  const line = message.split('\n')[0]!.trim();
  return code && !line.includes(code) ? `${line} (${code})` : line;
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' });
}

/** A hard deadline (not an idle timeout, which a server dripping bytes could keep alive): destroys `target` when it passes. */
function deadline(target: { destroy(error?: Error): unknown; once(event: 'close', listener: () => void): unknown }, ms: number): void {
  const timer = setTimeout(() => target.destroy(timeoutError(ms)), ms);
  timer.unref();
  target.once('close', () => clearTimeout(timer));
}

/** Opens and closes a TCP connection; rejects with the socket error. */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    deadline(socket, timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

interface HandshakeOk {
  readonly ok: true;
  readonly protocol: string;
  readonly cipher: string;
  readonly peer: tls.DetailedPeerCertificate | null;
  readonly authorized: boolean;
  readonly authorizationError: string | null;
}
type Handshake = HandshakeOk | { readonly ok: false; readonly error: string; readonly code: string | undefined };

/** Old protocols need OpenSSL 3's security level 0 on this side to be offered at all. */
const LEGACY_CIPHERS = 'DEFAULT@SECLEVEL=0';

function versionOptions(version: TlsVersion | null): tls.ConnectionOptions {
  if (version === null) return {};
  return { minVersion: version, maxVersion: version, ...(version === 'TLSv1.3' ? {} : { ciphers: LEGACY_CIPHERS }) };
}

function handshake(target: TlsTarget, servername: string, trust: TrustStore, timeoutMs: number, extra: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    let socket: tls.TLSSocket;
    try {
      socket = tls.connect({
        host: target.host,
        port: target.port,
        ...(net.isIP(servername) ? {} : { servername }),
        ...(trust.ca ? { ca: trust.ca as string[] } : {}),
        // Verify the chain but do not refuse it: the report says what is wrong with it.
        rejectUnauthorized: false,
        // The hostname is checked separately, so `authorized` is about the chain only.
        checkServerIdentity: () => undefined,
        ...extra,
      });
    } catch (e) {
      resolve({ ok: false, error: shortTlsError(e), code: (e as { code?: string }).code });
      return;
    }
    deadline(socket, timeoutMs);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(true);
      const cipher = socket.getCipher();
      const authError = socket.authorizationError as unknown;
      resolve({
        ok: true,
        protocol: socket.getProtocol() ?? 'unknown',
        cipher: cipher?.name ?? 'unknown',
        peer: cert && Object.keys(cert).length ? cert : null,
        authorized: socket.authorized,
        authorizationError: authError === null || authError === undefined ? null : typeof authError === 'string' ? authError : ((authError as { code?: string }).code ?? String(authError)),
      });
      socket.destroy();
    });
    socket.once('error', (e) => resolve({ ok: false, error: shortTlsError(e), code: (e as { code?: string }).code }));
  });
}

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  secp256r1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp224r1: 224,
  prime192v1: 192,
  secp192r1: 192,
  brainpoolP256r1: 256,
  brainpoolP384r1: 384,
  brainpoolP512r1: 512,
};

const dn = (s: string) => s.split('\n').filter(Boolean).join(', ');
const iso = (s: string) => {
  const t = Date.parse(s);
  return Number.isNaN(t) ? s : new Date(t).toISOString();
};

/** The certificates the server sent (and, when verified, the root), leaf first, without repeats. */
function peerChain(peer: tls.DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: tls.DetailedPeerCertificate | undefined = peer; c && c.raw && !seen.has(c.fingerprint256) && out.length < 10; c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
  }
  return out;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function storeCertificates(trust: TrustStore): X509Certificate[] {
  const bundles = trust.ca === undefined ? tls.rootCertificates : typeof trust.ca === 'string' ? [trust.ca] : trust.ca;
  const out: X509Certificate[] = [];
  for (const bundle of bundles) {
    for (const m of bundle.matchAll(PEM_CERTIFICATE)) {
      try {
        out.push(new X509Certificate(m[0]));
      } catch {
        // A malformed entry in a bundle: skip it, as OpenSSL does.
      }
    }
  }
  return out;
}

/**
 * Whether `chain` (leaf first) leads to a certificate of `store`, checking
 * issuer names and signatures but not validity periods. Used when OpenSSL's
 * one reported error is about time and so hides whether the issuer is trusted.
 */
export function chainLeadsToStore(chain: readonly X509Certificate[], store: readonly X509Certificate[]): boolean {
  const trusted = new Set(store.map((c) => c.fingerprint256));
  const issuedBy = (c: X509Certificate, issuer: X509Certificate) => {
    try {
      return c.checkIssued(issuer) && c.verify(issuer.publicKey);
    } catch {
      return false;
    }
  };
  let current = chain[0];
  for (let depth = 0; current && depth < 10; depth++) {
    const cert: X509Certificate = current;
    if (trusted.has(cert.fingerprint256)) return true;
    if (store.some((ca) => issuedBy(cert, ca))) return true;
    const next = chain.find((c) => c.fingerprint256 !== cert.fingerprint256 && issuedBy(cert, c));
    if (!next) return false;
    current = next;
  }
  return false;
}

const TIME_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** Public facts of the leaf certificate and the chain behind it. */
export function certificateInfo(peer: tls.DetailedPeerCertificate): CertificateInfo {
  const x = new X509Certificate(peer.raw);
  const key = x.publicKey;
  const type = key.asymmetricKeyType ?? null;
  const details = key.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve ?? null;
  const bits = details.modulusLength ?? (curve ? (CURVE_BITS[curve] ?? null) : type === 'ed25519' ? 256 : type === 'ed448' ? 456 : null);
  let selfSigned = false;
  try {
    // Not checkIssued(): OpenSSL's issuer check also wants keyCertSign, which a self-signed leaf lacks.
    selfSigned = x.subject === x.issuer && x.verify(x.publicKey);
  } catch {
    selfSigned = false;
  }
  const chain: ChainCertificate[] = peerChain(peer).map((cx) => ({ subject: dn(cx.subject), issuer: dn(cx.issuer), validTo: iso(cx.validTo) }));
  return {
    subject: dn(x.subject),
    issuer: dn(x.issuer),
    subjectAltNames: x.subjectAltName ? x.subjectAltName.split(', ').filter(Boolean) : [],
    serialNumber: x.serialNumber,
    fingerprint256: x.fingerprint256,
    validFrom: iso(x.validFrom),
    validTo: iso(x.validTo),
    keyType: type,
    keyBits: bits,
    curve,
    selfSigned,
    chain,
  };
}

/** GETs the URL once and reads its first Strict-Transport-Security header. */
function readHsts(url: string, servername: string, trust: TrustStore, timeoutMs: number, extra: tls.ConnectionOptions, hostHeader: string | null): Promise<HstsInfo> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (info: HstsInfo) => {
      if (done) return;
      done = true;
      resolve(info);
    };
    const failed = (e: unknown) => finish({ status: null, header: null, maxAge: null, includeSubDomains: false, preload: false, error: shortTlsError(e) });
    let req: ReturnType<typeof https.request>;
    try {
      req = https.request(url, {
        method: 'GET',
        agent: false,
        ...(net.isIP(servername) ? {} : { servername }),
        ...(trust.ca ? { ca: trust.ca as string[] } : {}),
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        headers: {
          'user-agent': `steward/${VERSION} (tls check)`,
          accept: '*/*',
          // Checking an address for a name (--servername): ask that virtual host, as a browser would.
          ...(hostHeader ? { host: hostHeader } : {}),
        },
        ...extra,
      });
    } catch (e) {
      failed(e);
      return;
    }
    deadline(req, timeoutMs);
    req.once('error', failed);
    req.once('response', (res) => {
      let header: string | null = null;
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        if (res.rawHeaders[i]!.toLowerCase() === 'strict-transport-security') {
          header = res.rawHeaders[i + 1]!;
          break;
        }
      }
      const parsed = header === null ? { maxAge: null, includeSubDomains: false, preload: false } : parseHsts(header);
      finish({ status: res.statusCode ?? null, header, ...parsed, error: null });
      res.destroy();
      req.destroy();
    });
    req.end();
  });
}

/**
 * Probes one host. Throws `TlsError` (exit 4) when it cannot be reached
 * (TLS_UNREACHABLE) or when no handshake of any version succeeds (TLS_HANDSHAKE).
 */
export async function probeTls(target: TlsTarget, options: TlsProbeOptions = {}): Promise<TlsProbeResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const trust = options.trust ?? systemTrustStore();
  const servername = options.servername ?? target.host;
  const label = targetLabel(target);
  const checkedAt = (options.now ?? (() => new Date()))();

  try {
    await tcpConnect(target.host, target.port, timeoutMs);
  } catch (e) {
    throw new TlsError('TLS_UNREACHABLE', label, `cannot reach ${label}: ${shortTlsError(e)}`, {
      hint: 'Check the host name and port, and that no firewall, VPN or proxy blocks connections from this machine',
      cause: e,
    });
  }

  const [first, ...perVersion] = await Promise.all([
    handshake(target, servername, trust, timeoutMs, {}),
    ...TLS_VERSIONS.map((v) => handshake(target, servername, trust, timeoutMs, versionOptions(v))),
  ]);
  const byVersion = new Map(TLS_VERSIONS.map((v, i) => [v, perVersion[i]!]));
  const protocols: ProtocolProbe[] = TLS_VERSIONS.map((version) => {
    const h = byVersion.get(version)!;
    if (h.ok) return { version, accepted: true, cipher: h.cipher, error: null };
    const clientCannot = h.code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE' || /no protocols available/i.test(h.error);
    return { version, accepted: clientCannot ? null : false, cipher: null, error: h.error };
  });

  // The certificate: from the default handshake, else the newest version that worked.
  const newestFirst = [...TLS_VERSIONS].reverse();
  const usedVersion = first!.ok ? null : (newestFirst.find((v) => byVersion.get(v)!.ok) ?? undefined);
  if (usedVersion === undefined) {
    throw new TlsError('TLS_HANDSHAKE', label, `${label} accepts connections but no TLS handshake with it succeeded: ${first!.ok ? 'unknown error' : first!.error}`, {
      hint: 'Check that this port serves TLS directly (not plain HTTP, nor a database such as PostgreSQL that starts TLS inside its own protocol: `steward audit` checks those sessions)',
    });
  }
  const source = (usedVersion === null ? first : byVersion.get(usedVersion)) as HandshakeOk;
  const certificate = source.peer ? certificateInfo(source.peer) : null;
  const identityError = source.peer ? tls.checkServerIdentity(servername, source.peer) : new Error('the server sent no certificate');

  const trusted = source.authorized && source.peer !== null;
  const trustError = trusted ? null : (source.authorizationError ?? 'NO_CERTIFICATE');
  const issuerTrusted = trusted || (source.peer !== null && trustError !== null && TIME_ERRORS.has(trustError) && chainLeadsToStore(peerChain(source.peer), storeCertificates(trust)));

  const hostHeader = servername !== target.host && !net.isIP(servername) ? `${servername}${target.port === 443 ? '' : `:${target.port}`}` : null;
  const hsts = target.url ? await readHsts(target.url, servername, trust, timeoutMs, versionOptions(usedVersion), hostHeader) : null;

  return {
    target,
    servername,
    checkedAt: checkedAt.toISOString(),
    protocols,
    negotiated: first!.ok ? { protocol: first!.protocol, cipher: first!.cipher } : null,
    defaultHandshakeError: first!.ok ? null : first!.error,
    certificate,
    trust: { trusted, error: trustError, issuerTrusted, caSource: trust.label },
    hostname: { name: servername, matches: identityError === undefined, error: identityError ? identityError.message : null },
    hsts,
  };
}
