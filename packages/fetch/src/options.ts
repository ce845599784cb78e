/** Options of {@link OcspClient}. Every field has a documented default. */
export interface OcspClientOptions {
  /**
   * Time allowed to open a TCP (and TLS) connection to a responder.
   * @defaultValue 3000
   */
  connectTimeoutMs?: number;
  /**
   * Time allowed for the response headers once the request is on a connection (time queued for a
   * free pool connection does not count), and then again for the whole body once headers arrived.
   * @defaultValue 5000
   */
  responseTimeoutMs?: number;
  /**
   * Largest body accepted. A real OCSP response for one certificate is 300 B - 2 KB; reading stops
   * as soon as a body goes over the cap and the attempt fails with `oversize`.
   * @defaultValue 65536
   */
  maxBodyBytes?: number;
  /**
   * Keep-alive connections per responder origin (undici `Pool` `connections`).
   * @defaultValue 32
   */
  connectionsPerOrigin?: number;
  /**
   * `User-Agent` header sent with every request (the staplewarm CLI sends `staplewarm/<its version>`).
   * @defaultValue 'staplewarm'
   */
  userAgent?: string;
  /**
   * RFC 5019 section 5: use GET when the full GET URL is shorter than this many bytes, POST otherwise.
   * @defaultValue 255
   */
  maxGetUrlBytes?: number;
  /**
   * What the address policy lets through although it is not public (loopback, private, link-local...):
   * CIDRs, addresses, host names or `*.domain` (see address-policy.ts). Checked on the resolved
   * address when connecting. An entry that is none of these throws AddressPolicyError.
   * @defaultValue [] (only public addresses)
   */
  responderAllow?: readonly string[];
  /**
   * `fetch` tries at most this many of a certificate's URLs; the rest are ignored (a certificate may
   * list any number, and each one is a connection made on its writer's behalf).
   * @defaultValue 4
   */
  maxUrls?: number;
  /**
   * Responder origins with an open pool, at most: past it, the least recently used pool is closed
   * (gracefully: its requests in flight finish). What an origin taught (POST only) goes with it.
   * @defaultValue 256
   */
  maxPools?: number;
  /**
   * A pool unused for this long is closed (checked on every fetch and every minute).
   * @defaultValue 300000 (5 minutes)
   */
  poolIdleMs?: number;
  /**
   * The clock for pool idleness, epoch ms.
   * @defaultValue Date.now
   */
  now?: () => number;
}

export type ResolvedOcspClientOptions = Required<OcspClientOptions>;

/** At most this many OCSP URLs of one certificate are tried (the default of `maxUrls`). */
export const MAX_OCSP_URLS = 4;

export const DEFAULT_OCSP_CLIENT_OPTIONS: Readonly<ResolvedOcspClientOptions> = Object.freeze({
  connectTimeoutMs: 3000,
  responseTimeoutMs: 5000,
  maxBodyBytes: 65_536,
  connectionsPerOrigin: 32,
  userAgent: 'staplewarm',
  maxGetUrlBytes: 255,
  responderAllow: Object.freeze([]) as readonly string[],
  maxUrls: MAX_OCSP_URLS,
  maxPools: 256,
  poolIdleMs: 300_000,
  now: Date.now,
});

/** Spreads the defaults under the caller's options; `undefined` fields keep their default. */
export function resolveOptions(opts: OcspClientOptions = {}): ResolvedOcspClientOptions {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_OCSP_CLIENT_OPTIONS, ...defined };
}
