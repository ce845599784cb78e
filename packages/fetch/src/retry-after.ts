/**
 * Parses an HTTP `Retry-After` header (RFC 9110 section 10.2.3) into a delay in milliseconds.
 *
 * - delta-seconds (`120`) -> 120000
 * - HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`) -> the time from `now` until then, clamped to >= 0
 *
 * Returns `undefined` when the header is absent or neither form parses, so the caller falls back
 * to its own exponential backoff.
 *
 * @param now - the current time, epoch milliseconds (the clock is an argument so this stays pure)
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only date forms: Date.parse alone would accept things like "-5" or "1.5".
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
