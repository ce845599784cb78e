import { RelayError } from './errors.js';

/** Tuning of the relay; every field has a default (DEFAULT_RELAY_OPTIONS), resolved once here. */
export interface RelayOptions {
  /**
   * How long a staple read from Redis is served from memory before Redis is asked again, ms. Bounds
   * how late a refreshed or newly revoked staple reaches clients of this process. @defaultValue 10000
   */
  memoryTtlMs?: number;
  /** CertIDs remembered in memory (staples and negative answers). @defaultValue 10000 */
  memoryEntries?: number;
  /** How long an issuer looked up in Redis is remembered, ms. @defaultValue 60000 */
  issuerTtlMs?: number;
  /** How long "unknown issuer / certificate" and "other hash" answers are remembered, ms. @defaultValue 5000 */
  unknownTtlMs?: number;
  /**
   * How long a request for a known certificate without a staple waits for the fetch it asked for,
   * ms; then 503. Below the servers' own timeouts (Apache's SSLStaplingResponderTimeout is 10 s).
   * @defaultValue 3000
   */
  missWaitMs?: number;
  /** After asking the pipeline for a certificate's fetch, how long this process does not ask again, ms. @defaultValue 30000 */
  refetchAfterMs?: number;
  /** `Retry-After` of a 503 while a fetch is pending or Redis failed, s. @defaultValue 10 */
  retryAfterSeconds?: number;
  /** `Retry-After` of a 503 for a certificate the index does not know (the next scan may), s. @defaultValue 60 */
  unknownRetryAfterSeconds?: number;
  /** Cap of `Cache-Control: max-age`, s: a cache in front asks again at least this often. @defaultValue 3600 */
  maxAgeSeconds?: number;
}

export type ResolvedRelayOptions = Required<RelayOptions>;

export const DEFAULT_RELAY_OPTIONS: Readonly<ResolvedRelayOptions> = {
  memoryTtlMs: 10_000,
  memoryEntries: 10_000,
  issuerTtlMs: 60_000,
  unknownTtlMs: 5_000,
  missWaitMs: 3_000,
  refetchAfterMs: 30_000,
  retryAfterSeconds: 10,
  unknownRetryAfterSeconds: 60,
  maxAgeSeconds: 3_600,
};

/** Spreads the defaults and checks every value is a whole number in range. @throws RelayError `invalid-option` */
export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  const resolved = { ...DEFAULT_RELAY_OPTIONS, ...stripUndefined(options) };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 0 || value > 86_400_000) {
      throw new RelayError('invalid-option', `${name} must be a whole number from 0 to 86400000, got ${String(value)}`);
    }
  }
  return resolved;
}

function stripUndefined(options: RelayOptions): RelayOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as RelayOptions;
}
