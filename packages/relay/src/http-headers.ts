/**
 * The HTTP caching headers of an OCSP response (RFC 5019 section 6.2, kept by RFC 9919): pure
 * functions of the response's times and the clock, so a cache in front of the relay (or a CDN)
 * never keeps a response past its nextUpdate, and revalidates it cheaply with the ETag.
 */

/** The times of one stored response, epoch ms, and its strong ETag (quoted). */
export interface ResponseTimes {
  thisUpdate: number;
  nextUpdate: number;
  /** When the relay stops serving it: Redis's expiry of the staple (nextUpdate, or earlier). */
  expiresAt: number;
  etag: string;
}

/** IMF-fixdate (RFC 9110 5.6.7), as HTTP dates are written. */
export function httpDate(epochMs: number): string {
  return new Date(epochMs).toUTCString();
}

/**
 * `Cache-Control: max-age=<n>, public, no-transform, must-revalidate`, where n is the seconds left
 * until the response stops being served (never past nextUpdate, RFC 5019 6.2), at most
 * `maxAgeCapSeconds`: a cache asks again that often, so a revocation or an early refresh reaches it.
 */
export function cacheControl(times: ResponseTimes, now: number, maxAgeCapSeconds: number): string {
  const left = Math.floor((Math.min(times.nextUpdate, times.expiresAt) - now) / 1000);
  const maxAge = Math.max(0, Math.min(left, maxAgeCapSeconds));
  return `max-age=${maxAge}, public, no-transform, must-revalidate`;
}

/** ResponseTimes with its two HTTP dates formatted once (a staple is served many times). */
export interface ServedTimes extends ResponseTimes {
  /** httpDate(thisUpdate) */
  lastModified: string;
  /** httpDate(nextUpdate) */
  expires: string;
}

/** The dates of `times`, formatted once. */
export function servedTimes(times: ResponseTimes): ServedTimes {
  return { ...times, lastModified: httpDate(times.thisUpdate), expires: httpDate(times.nextUpdate) };
}

/**
 * Headers of a successful answer: Content-Type, Last-Modified = thisUpdate, Expires = nextUpdate,
 * Cache-Control, ETag (RFC 5019 6.2). Content-Length and Date are the server's.
 */
export function stapleHeaders(times: ServedTimes, now: number, maxAgeCapSeconds: number): Record<string, string> {
  return {
    'Content-Type': 'application/ocsp-response',
    'Last-Modified': times.lastModified,
    Expires: times.expires,
    'Cache-Control': cacheControl(times, now, maxAgeCapSeconds),
    ETag: times.etag,
  };
}

/**
 * Whether a conditional GET can be answered 304 (RFC 9110 13.1): If-None-Match wins when present
 * (weak comparison, `*` matches); otherwise If-Modified-Since at or after thisUpdate (whole seconds,
 * the precision of HTTP dates).
 */
export function notModified(times: ResponseTimes, ifNoneMatch: string | undefined, ifModifiedSince: string | undefined): boolean {
  if (ifNoneMatch !== undefined) {
    const ours = opaque(times.etag);
    return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag.trim()) === ours);
  }
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return Number.isFinite(since) && Math.floor(times.thisUpdate / 1000) * 1000 <= since;
}

/** The opaque part of an entity tag: `W/"x"` and `"x"` compare equal (weak comparison). */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
