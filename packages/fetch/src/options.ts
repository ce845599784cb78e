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
   * `User-Agent` header sent with every request.
   * @defaultValue 'staplewarm/0.1'
   */
  userAgent?: string;
  /**
   * RFC 5019 section 5: use GET when the full GET URL is shorter than this many bytes, POST otherwise.
   * @defaultValue 255
   */
  maxGetUrlBytes?: number;
}

export type ResolvedOcspClientOptions = Required<OcspClientOptions>;

export const DEFAULT_OCSP_CLIENT_OPTIONS: Readonly<ResolvedOcspClientOptions> = Object.freeze({
  connectTimeoutMs: 3000,
  responseTimeoutMs: 5000,
  maxBodyBytes: 65_536,
  connectionsPerOrigin: 32,
  userAgent: 'staplewarm/0.1',
  maxGetUrlBytes: 255,
});

/** Spreads the defaults under the caller's options; `undefined` fields keep their default. */
export function resolveOptions(opts: OcspClientOptions = {}): ResolvedOcspClientOptions {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_OCSP_CLIENT_OPTIONS, ...defined };
}
