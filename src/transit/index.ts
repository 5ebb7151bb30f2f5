/**
 * Encryption in transit: `steward tls check` (probes and findings) and the
 * transit state of database sources (connection strings and live sessions).
 * The per-dialect session queries are in src/sources/<dialect>/<dialect>-transport.ts.
 */
export * from './types.js';
export { transitFindingId, sortTransitFindings, reachesFailOn, countTransitBySeverity } from './findings.js';
export { parseTlsTarget, targetLabel } from './target.js';
export { tlsFindings, parseHsts, daysUntil, EXPIRY_WARNING_DAYS, MIN_RSA_BITS, MIN_EC_BITS, MIN_HSTS_MAX_AGE } from './tls-findings.js';
export { probeTls, systemTrustStore, certificateInfo, chainLeadsToStore, shortTlsError, type TlsProbeOptions, type TrustStore } from './tls-probe.js';
export { connectionStringTransport, connectionStringFindings, isLoopbackHost } from './connection.js';
export { sessionFindings, sourceTransitFindings, SQLITE_SESSION_TRANSPORT } from './session.js';
