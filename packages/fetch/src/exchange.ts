import { performance } from 'node:perf_hooks';
import type { Dispatcher, Pool } from 'undici';
import { FetchError, fromTransportError } from './errors.js';
import type { ResponderUrl } from './ocsp-url.js';
import type { ResolvedOcspClientOptions } from './options.js';
import { parseRetryAfter } from './retry-after.js';

export type HttpMethod = 'GET' | 'POST';

/** A 2xx OCSP answer: the body is still unverified bytes; packages/ocsp decides what they mean. */
export interface OcspHttpResponse {
  body: Buffer;
  /** The responder URL as given (without the GET suffix). */
  url: string;
  method: HttpMethod;
  status: number;
  /** Duration of this one exchange, from sending to the last body byte. */
  elapsedMs: number;
}

export interface ExchangeInput {
  pool: Pool;
  target: ResponderUrl;
  method: HttpMethod;
  der: Buffer;
  opts: ResolvedOcspClientOptions;
  signal?: AbortSignal;
}

const OCSP_RESPONSE_TYPE = 'application/ocsp-response';

/**
 * One HTTP exchange with one responder. Resolves with the body of a 2xx `application/ocsp-response`;
 * throws a FetchError for everything else, or the caller's abort reason when `signal` aborts.
 *
 * Timeouts: the pool's `connectTimeout` bounds connecting; `headersTimeout` bounds the wait for the
 * headers once the request is on a connection (time queued for a free connection does not count);
 * then the body must arrive completely within `responseTimeoutMs` of the headers.
 */
export async function exchange(input: ExchangeInput): Promise<OcspHttpResponse> {
  const { pool, target, method, opts, signal } = input;
  signal?.throwIfAborted();
  const controller = new AbortController();
  const onCallerAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  let bodyTimer: NodeJS.Timeout | undefined;
  let bodyTimedOut = false;
  const started = performance.now();
  try {
    const res = await pool.request(requestOptions(input, controller.signal));
    bodyTimer = setTimeout(() => {
      bodyTimedOut = true;
      controller.abort();
    }, opts.responseTimeoutMs);
    await rejectUnusable(res, target.url);
    // A declared length over the cap fails at once, without reading a byte.
    const declared = Number(headerValue(res, 'content-length'));
    const body = declared > opts.maxBodyBytes ? destroyed(res) : await readCapped(res.body, opts.maxBodyBytes);
    if (body === undefined) {
      throw new FetchError('oversize', target.url, `${target.url}: body over ${opts.maxBodyBytes} bytes`, {
        status: res.statusCode,
      });
    }
    return { body, url: target.url, method, status: res.statusCode, elapsedMs: performance.now() - started };
  } catch (err) {
    if (err instanceof FetchError) throw err;
    if (signal?.aborted) throw signal.reason;
    if (bodyTimedOut) {
      throw new FetchError('timeout', target.url, `${target.url}: body not complete within ${opts.responseTimeoutMs} ms`, {
        cause: err,
      });
    }
    throw fromTransportError(err, target.url);
  } finally {
    clearTimeout(bodyTimer);
    signal?.removeEventListener('abort', onCallerAbort);
  }
}

function requestOptions(input: ExchangeInput, signal: AbortSignal): Dispatcher.RequestOptions {
  const { target, method, der, opts } = input;
  const headers: Record<string, string> = { 'user-agent': opts.userAgent, accept: OCSP_RESPONSE_TYPE };
  if (method === 'GET') {
    if (target.getPath === undefined) throw new FetchError('bad-url', target.url, `${target.url}: no GET form`);
    return { path: target.getPath, method, headers, signal, headersTimeout: opts.responseTimeoutMs };
  }
  headers['content-type'] = 'application/ocsp-request';
  return { path: target.postPath, method, headers, body: der, signal, headersTimeout: opts.responseTimeoutMs };
}

/** Throws (after discarding the body, so the connection stays reusable) unless the answer can hold a response. */
async function rejectUnusable(res: Dispatcher.ResponseData, url: string): Promise<void> {
  const status = res.statusCode;
  if (status === 429) {
    await discard(res);
    const retryAfterMs = parseRetryAfter(headerValue(res, 'retry-after'), Date.now());
    const message = `${url}: 429 Too Many Requests${retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`}`;
    throw new FetchError('rate-limited', url, message, retryAfterMs === undefined ? { status } : { status, retryAfterMs });
  }
  if (status < 200 || status >= 300) {
    await discard(res);
    throw new FetchError('http-status', url, `${url}: HTTP ${status}`, { status });
  }
  // A missing content-type is accepted: some responders omit it, and packages/ocsp parses the body anyway.
  // A present but different one (text/html from a CDN or proxy) is not an OCSP response.
  const type = headerValue(res, 'content-type');
  if (type !== undefined && mediaType(type) !== OCSP_RESPONSE_TYPE) {
    await discard(res);
    throw new FetchError('content-type', url, `${url}: content-type ${type}, expected ${OCSP_RESPONSE_TYPE}`, { status });
  }
}

/**
 * Reads the body up to `cap` bytes. Returns undefined, having destroyed the stream (and with it the
 * connection), as soon as the received length goes over the cap: nothing more is buffered.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], cap: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > cap) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function destroyed(res: Dispatcher.ResponseData): undefined {
  res.body.destroy();
  return undefined;
}

async function discard(res: Dispatcher.ResponseData): Promise<void> {
  try {
    // dump() reads a bounded amount so a small error body leaves the keep-alive connection usable.
    await res.body.dump({ limit: 8192 });
  } catch {
    // The status is what matters; a broken error body changes nothing.
  }
}

function headerValue(res: Dispatcher.ResponseData, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `Application/OCSP-Response; charset=binary` -> `application/ocsp-response`. */
function mediaType(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}
