import { RESPONDER_ALLOW_SETTING, describeRefusal, type AddressVerdict } from './address-policy.js';

/**
 * Stable error codes of packages/fetch. The queue decides retries from `retryable`.
 * - `http-status`: a non-2xx answer other than 429 (retryable for 5xx and 408, not for other 4xx).
 * - `rate-limited`: 429; `retryAfterMs` holds the parsed `Retry-After`, when the responder sent one.
 * - `timeout`: connecting, or headers + body, took longer than allowed.
 * - `connect`: no connection could be opened (refused, unreachable, DNS failure, TLS handshake).
 * - `network`: an open connection broke (reset, closed mid-response).
 * - `oversize`: the body went over `maxBodyBytes`; reading stopped there.
 * - `content-type`: a 2xx whose content-type is not `application/ocsp-response` (an HTML error page).
 * - `bad-url`: the URL does not parse or is not http(s); nothing was sent.
 * - `address-refused`: the responder's address (an IP literal, or every address its name resolves
 *   to) is refused by the address policy (address-policy.ts); no connection was attempted.
 */
export type FetchErrorCode =
  'http-status' | 'rate-limited' | 'timeout' | 'connect' | 'network' | 'oversize' | 'content-type' | 'bad-url' | 'address-refused';

export interface FetchErrorDetails {
  /** HTTP status, when the responder answered. */
  status?: number;
  /** From `Retry-After` on a 429, in milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class FetchError extends Error {
  override readonly name = 'FetchError';
  readonly code: FetchErrorCode;
  /** The responder URL as given (not the GET URL with the request appended). */
  readonly url: string;
  /** `host[:port]` of the URL (the per-host rate-limit key); empty for an unparsable URL. */
  readonly host: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly retryable: boolean;

  constructor(code: FetchErrorCode, url: string, message: string, details: FetchErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.url = url;
    this.host = hostOf(url);
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    this.retryable = isRetryable(code, details.status);
  }
}

export function isFetchError(err: unknown): err is FetchError {
  return err instanceof FetchError;
}

function isRetryable(code: FetchErrorCode, status: number | undefined): boolean {
  switch (code) {
    case 'http-status':
      return status !== undefined && (status >= 500 || status === 408);
    // A 2xx HTML page (content-type) is usually a CDN or captive proxy having a bad moment.
    case 'rate-limited':
    case 'timeout':
    case 'connect':
    case 'network':
    case 'content-type':
      return true;
    // A responder sending 64 KB for one certificate is misconfigured; retrying will not shrink it.
    // A refused address stays refused until the operator changes the allow-list (and restarts).
    case 'oversize':
    case 'bad-url':
    case 'address-refused':
      return false;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** Node/undici error codes meaning "no connection could be opened". */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/**
 * Raised by the policy connector (connector.ts) instead of connecting: the address is refused.
 * `fromTransportError` turns it into an `address-refused` FetchError. The message names the address
 * and the setting that would allow it, once.
 */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  readonly code = 'ERR_STAPLEWARM_ADDRESS_REFUSED';
  /** The refused address. */
  readonly address: string;
  readonly category: Extract<AddressVerdict, { allowed: false }>['category'];

  /** `hostname` is the URL's host name; it differs from the address when the name was resolved. */
  constructor(hostname: string, verdict: Extract<AddressVerdict, { allowed: false }>) {
    const refused = describeRefusal(verdict);
    const what = hostname === verdict.address ? `${refused} is refused` : `${hostname} resolves to ${refused}, refused`;
    super(`${what} by the responder address policy; to allow it: ${RESPONDER_ALLOW_SETTING}`);
    this.address = verdict.address;
    this.category = verdict.category;
  }
}

/** Maps an error thrown by undici or the socket to a FetchError (the one place that does so). */
export function fromTransportError(err: unknown, url: string): FetchError {
  if (err instanceof AddressRefusedError) {
    return new FetchError('address-refused', url, `${url}: ${err.message}`, { cause: err });
  }
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new FetchError('timeout', url, `${url}: ${message}`, { cause: err });
  }
  if (code !== undefined && CONNECT_CODES.has(code)) {
    return new FetchError('connect', url, `${url}: ${message}`, { cause: err });
  }
  return new FetchError('network', url, `${url}: ${message}`, { cause: err });
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Thrown by `OcspClient.fetch` after `close()`: a programming error, not a responder failure. */
export class OcspClientClosedError extends Error {
  override readonly name = 'OcspClientClosedError';
  readonly code = 'client-closed';

  constructor() {
    super('OcspClient.fetch called after close()');
  }
}
