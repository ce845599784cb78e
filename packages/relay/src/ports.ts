/**
 * What the relay needs from the outside, as small interfaces: where staples are read (Redis, through
 * the CertID index), who fetches a missing one (the shared queue), who watches (metrics), and a
 * logger. The app wires the real ones; tests pass fakes. Nothing here knows BullMQ or prom-client.
 */
import type { CertIdHash, StapleTarget } from '@staplewarm/ocsp';
import type { IndexedCertificate, IndexedIssuer } from '@staplewarm/store';

/** The CertID index and the staples behind it (`CertIdIndex` from @staplewarm/store fits as is). */
export interface StapleSource {
  issuer(hash: CertIdHash, issuerNameHash: string, issuerKeyHash: string): Promise<IndexedIssuer | null>;
  certificate(issuerId: string, serialNumber: string): Promise<IndexedCertificate | null>;
}

/**
 * Asks the shared, rate-limited pipeline (the workers, in any process) to fetch one certificate's
 * staple soon. Idempotent per fingerprint: asking again while a fetch is pending adds nothing.
 * The relay never fetches itself and never passes on a URL taken from a request: `target` is built
 * from what the scanners stored.
 */
export interface MissFetcher {
  request(target: StapleTarget): Promise<void>;
}

/** How a request ended (the `result` label of `staplewarm_relay_requests_total`). */
export const RELAY_RESULTS = [
  /** A staple from the relay's memory. */
  'memory',
  /** A staple read from Redis. */
  'redis',
  /** A staple that arrived while the request waited for the fetch it asked for. */
  'fetched',
  /** 304 to a conditional GET. */
  'not_modified',
  /** 503: a known certificate without a staple, none arrived in time (a fetch is queued). */
  'unavailable',
  /** 503: the issuer is known, the certificate is not (yet: the next scan may index it). */
  'unknown_certificate',
  /** OCSP unauthorized: an issuer staplewarm does not know, or a CertID hash it does not index. */
  'unauthorized',
  /** OCSP unauthorized: the certificate is known, its staple answers the other CertID hash. */
  'other_hash',
  /** OCSP malformedRequest: not an OCSP request, or more than one CertID. */
  'malformed',
  /** 503: Redis or the queue failed. */
  'error',
  /** HTTP-level refusal: 405, 413, 400. */
  'http_error',
] as const;
export type RelayResult = (typeof RELAY_RESULTS)[number];

/** Metrics without prom-client: the app adapts its registry to this. */
export interface RelayObserver {
  /** Every request, once, with its result and the time from its first byte to its answer. */
  answered(result: RelayResult, seconds: number): void;
  /** The relay asked the pipeline for a fetch (a miss of a known certificate). */
  fetchRequested(): void;
}

/** Logger shape (pino's call signature). */
export interface RelayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentRelayObserver: RelayObserver = { answered() {}, fetchRequested() {} };
export const silentRelayLogger: RelayLogger = { info() {}, warn() {}, error() {} };
