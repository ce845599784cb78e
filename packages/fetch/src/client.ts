import { isIP } from 'node:net';
import { Pool } from 'undici';
import { AddressPolicy } from './address-policy.js';
import { policyConnector } from './connector.js';
import { AddressRefusedError, FetchError, OcspClientClosedError } from './errors.js';
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

/** One responder origin's pool and what this client knows about it. */
interface OriginEntry {
  pool: Pool;
  /** Last time a request started on it (the client's clock). */
  lastUsed: number;
  inFlight: number;
  /** It rejected a GET: POST from then on (forgotten with the pool). */
  postOnly: boolean;
}

/**
 * Fetches OCSP responses over HTTP: one keep-alive undici `Pool` per responder origin (created on
 * first use, closed when idle or least recently used past `maxPools`), GET or POST per RFC 5019,
 * failover across a certificate's first `maxUrls` URLs, the address policy on every connection,
 * and typed failures. It never throws for a responder's behaviour; it throws only for a caller
 * abort or use after `close()`.
 */
export class OcspClient {
  private readonly opts: ResolvedOcspClientOptions;
  private readonly policy: AddressPolicy;
  private readonly connector: ReturnType<typeof policyConnector>;
  /** Least recently used first (an entry moves to the end on each use). */
  private readonly origins = new Map<string, OriginEntry>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  /** Throws AddressPolicyError for a bad `responderAllow` entry. */
  constructor(opts?: OcspClientOptions) {
    this.opts = resolveOptions(opts);
    this.policy = new AddressPolicy(this.opts.responderAllow);
    this.connector = policyConnector(this.policy, this.opts.connectTimeoutMs);
    // Idle pools also close while no fetch comes to notice them.
    this.sweeper = setInterval(() => this.prune(), Math.min(this.opts.poolIdleMs, 60_000)).unref();
  }

  async fetch(req: OcspFetchRequest): Promise<OcspFetchResult> {
    if (this.closed) throw new OcspClientClosedError();
    const attempts: FetchError[] = [];
    let primary: FetchError | undefined;
    for (const url of req.urls.slice(0, this.opts.maxUrls)) {
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
    clearInterval(this.sweeper);
    const pools = [...this.origins.values()].map((entry) => entry.pool);
    this.origins.clear();
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
    // An IP literal is judged here, before a pool exists for it (the connector judges again, and
    // judges resolved names): a refused responder costs no pool and no connection.
    const literal = refusedLiteral(this.policy, target);
    if (literal !== undefined) {
      attempts.push(new FetchError('address-refused', url, `${url}: ${literal.message}`, { cause: literal }));
      return undefined;
    }
    const origin = this.use(target.origin);
    const method = this.methodFor(target, origin);
    try {
      return await this.send(origin, target, method, req);
    } catch (err) {
      const failure = asFetchError(err);
      attempts.push(failure);
      if (method === 'POST' || failure.code !== 'http-status' || !GET_REJECTED.has(failure.status ?? 0)) {
        return undefined;
      }
      origin.postOnly = true;
    }
    try {
      return await this.send(origin, target, 'POST', req);
    } catch (err) {
      attempts.push(asFetchError(err));
      return undefined;
    }
  }

  private async send(origin: OriginEntry, target: ResponderUrl, method: HttpMethod, req: OcspFetchRequest): Promise<OcspHttpResponse> {
    const input = { pool: origin.pool, target, method, der: req.der, opts: this.opts };
    origin.inFlight++;
    try {
      return await exchange(req.signal === undefined ? input : { ...input, signal: req.signal });
    } finally {
      origin.inFlight--;
      origin.lastUsed = this.opts.now();
    }
  }

  private methodFor(target: ResponderUrl, origin: OriginEntry): HttpMethod {
    if (origin.postOnly) return 'POST';
    return target.getPath !== undefined && target.getUrlBytes < this.opts.maxGetUrlBytes ? 'GET' : 'POST';
  }

  /**
   * The origin's entry, moved to the most recently used end; created on first use, and anew when it
   * had been idle long enough to be closed (pruning comes first).
   */
  private use(origin: string): OriginEntry {
    this.prune();
    const now = this.opts.now();
    let entry = this.origins.get(origin);
    if (entry === undefined) {
      const pool = new Pool(origin, {
        connections: this.opts.connectionsPerOrigin,
        connect: this.connector,
        headersTimeout: this.opts.responseTimeoutMs,
        bodyTimeout: this.opts.responseTimeoutMs,
      });
      entry = { pool, lastUsed: now, inFlight: 0, postOnly: false };
    } else {
      this.origins.delete(origin);
      entry.lastUsed = now;
    }
    this.origins.set(origin, entry);
    if (this.origins.size > this.opts.maxPools) this.prune();
    return entry;
  }

  /**
   * Closes the pools idle for `poolIdleMs` and, past `maxPools`, the least recently used ones
   * (their requests in flight finish first: undici's close is graceful). Certificates choose the
   * origins, so their number has no natural bound.
   */
  private prune(): void {
    const now = this.opts.now();
    for (const [origin, entry] of this.origins) {
      const idle = entry.inFlight === 0 && now - entry.lastUsed >= this.opts.poolIdleMs;
      if (!idle && this.origins.size <= this.opts.maxPools) break;
      this.origins.delete(origin);
      entry.pool.close().catch(() => {});
    }
  }
}

/** The refusal of a responder whose host is an IP literal the policy refuses, else undefined. */
function refusedLiteral(policy: AddressPolicy, target: ResponderUrl): AddressRefusedError | undefined {
  const hostname = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(hostname) === 0) return undefined;
  const verdict = policy.check(hostname);
  return verdict.allowed ? undefined : new AddressRefusedError(hostname, verdict);
}

/** Anything but a FetchError (a caller abort) propagates. */
function asFetchError(err: unknown): FetchError {
  if (err instanceof FetchError) return err;
  throw err;
}
