import { Pool } from 'undici';
import { FetchError, OcspClientClosedError } from './errors.js';
import { exchange, type HttpMethod, type OcspHttpResponse } from './exchange.js';
import { parseResponderUrl, type ResponderUrl } from './ocsp-url.js';
import { resolveOptions, type OcspClientOptions, type ResolvedOcspClientOptions } from './options.js';

export interface OcspFetchRequest {
  /** The certificate's OCSP URLs, in its order: the first is the primary, the rest are failover. */
  urls: string[];
  /** The DER OCSPRequest. */
  der: Buffer;
  /** Aborting rejects `fetch` with the signal's reason and tries no further URL. */
  signal?: AbortSignal;
}

/**
 * `attempts` holds every failed exchange in order (including a GET rejected before its POST retry and
 * `bad-url` entries for skipped URLs). On total failure `error` is the primary URL's final error.
 */
export type OcspFetchResult =
  { ok: true; response: OcspHttpResponse; attempts: FetchError[] } | { ok: false; error: FetchError; attempts: FetchError[] };

/**
 * Statuses with which responders say "no GET here". RFC 5019 section 5 lets a client use GET, but
 * some responders only take POST; one POST retry settles it, and the origin is remembered.
 */
const GET_REJECTED: ReadonlySet<number> = new Set([400, 404, 405, 414, 501]);

/**
 * Fetches OCSP responses over HTTP: one keep-alive undici `Pool` per responder origin (created on first
 * use), GET or POST per RFC 5019, failover across a certificate's URLs, and typed failures.
 * It never throws for a responder's behaviour; it throws only for a caller abort or use after `close()`.
 */
export class OcspClient {
  private readonly opts: ResolvedOcspClientOptions;
  private readonly pools = new Map<string, Pool>();
  /** Origins that rejected a GET: POST from then on. */
  private readonly postOrigins = new Set<string>();
  private closed = false;

  constructor(opts?: OcspClientOptions) {
    this.opts = resolveOptions(opts);
  }

  async fetch(req: OcspFetchRequest): Promise<OcspFetchResult> {
    if (this.closed) throw new OcspClientClosedError();
    const attempts: FetchError[] = [];
    let primary: FetchError | undefined;
    for (const url of req.urls) {
      const response = await this.fetchFrom(url, req, attempts);
      if (response !== undefined) return { ok: true, response, attempts };
      primary ??= attempts.at(-1);
    }
    const error = primary ?? new FetchError('bad-url', '', 'the certificate lists no OCSP URL');
    if (attempts.length === 0) attempts.push(error);
    return { ok: false, error, attempts };
  }

  /** Closes every pool, waiting for requests in flight. `fetch` throws afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  /** One URL: GET or POST, and a single POST retry when the GET is rejected. Failures go to `attempts`. */
  private async fetchFrom(url: string, req: OcspFetchRequest, attempts: FetchError[]): Promise<OcspHttpResponse | undefined> {
    let target: ResponderUrl;
    try {
      target = parseResponderUrl(url, req.der);
    } catch (err) {
      attempts.push(asFetchError(err));
      return undefined;
    }
    const method = this.methodFor(target);
    try {
      return await this.send(target, method, req);
    } catch (err) {
      const failure = asFetchError(err);
      attempts.push(failure);
      if (method === 'POST' || failure.code !== 'http-status' || !GET_REJECTED.has(failure.status ?? 0)) {
        return undefined;
      }
      this.postOrigins.add(target.origin);
    }
    try {
      return await this.send(target, 'POST', req);
    } catch (err) {
      attempts.push(asFetchError(err));
      return undefined;
    }
  }

  private send(target: ResponderUrl, method: HttpMethod, req: OcspFetchRequest): Promise<OcspHttpResponse> {
    const input = { pool: this.poolFor(target.origin), target, method, der: req.der, opts: this.opts };
    return exchange(req.signal === undefined ? input : { ...input, signal: req.signal });
  }

  private methodFor(target: ResponderUrl): HttpMethod {
    if (this.postOrigins.has(target.origin)) return 'POST';
    return target.getPath !== undefined && target.getUrlBytes < this.opts.maxGetUrlBytes ? 'GET' : 'POST';
  }

  private poolFor(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections: this.opts.connectionsPerOrigin,
        connectTimeout: this.opts.connectTimeoutMs,
        headersTimeout: this.opts.responseTimeoutMs,
        bodyTimeout: this.opts.responseTimeoutMs,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

/** Anything but a FetchError (a caller abort) propagates. */
function asFetchError(err: unknown): FetchError {
  if (err instanceof FetchError) return err;
  throw err;
}
