/**
 * From an HTTP request to the OCSPRequest it carries (RFC 6960 A.1, RFC 5019 5): the DER body of a
 * POST, or for a GET `<any path prefix>/<base64 of the DER, URL-escaped>`. Clients differ in what
 * they escape (nginx escapes `+`, `/` and `=`; others leave them), so the path is unescaped once and
 * every suffix after a `/` is tried, longest first: unescaped base64 may itself contain `/`, and only
 * the suffix that is a complete DER OCSPRequest parses. Pure; nothing here looks at the Host header
 * or any URL as a place to go.
 */
import { isOcspRequestError, parseOcspRequest, type OcspRequestFields } from '@staplewarm/ocsp';

/** How the request arrived. `target` is the HTTP request-target as sent (origin or absolute form). */
export type RequestForm = { method: 'GET'; target: string } | { method: 'POST'; body: Buffer };

export type RequestReading = { ok: true; request: OcspRequestFields } | { ok: false; reason: string };

/** Bounds the work a path with many slashes can cause (a request-target is at most 16 KiB in Node). */
const MAX_CANDIDATES = 16;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Reads the OCSPRequest of a GET or POST; `ok: false` is a malformedRequest answer, with the reason. */
export function readRequestForm(form: RequestForm): RequestReading {
  if (form.method === 'POST') return parse(form.body);
  let last = 'no base64 OCSP request in the path';
  for (const der of derCandidates(form.target)) {
    const reading = parse(der);
    if (reading.ok) return reading;
    last = reading.reason;
  }
  return { ok: false, reason: last };
}

/**
 * The byte strings a GET request-target may carry, most likely first: every suffix following a `/`
 * of the unescaped path that is base64 (or base64url) and starts with `M` (a DER SEQUENCE, 0x30).
 */
export function derCandidates(target: string): Buffer[] {
  const path = unescapePath(pathOf(target));
  const out: Buffer[] = [];
  for (let slash = path.indexOf('/'); slash !== -1 && out.length < MAX_CANDIDATES; slash = path.indexOf('/', slash + 1)) {
    const encoded = path.slice(slash + 1);
    if (encoded.startsWith('M') && BASE64.test(encoded)) out.push(Buffer.from(encoded, 'base64'));
  }
  return out;
}

function parse(der: Buffer): RequestReading {
  try {
    return { ok: true, request: parseOcspRequest(der) };
  } catch (err) {
    if (isOcspRequestError(err)) return { ok: false, reason: err.message };
    throw err;
  }
}

/**
 * The request-target without its query. An absolute form (`http://host/...`, as sent to a proxy)
 * needs no special case: its scheme and authority are suffixes that are not base64 DER.
 */
function pathOf(target: string): string {
  const query = target.search(/[?#]/);
  return query === -1 ? target : target.slice(0, query);
}

/**
 * Percent-decodes every `%XX` once (a lone `%` stays), and reads a space as `+`: a client that
 * form-encodes turns the base64 `+` into a space. Never throws, unlike decodeURIComponent.
 */
function unescapePath(path: string): string {
  const decoded = path.includes('%')
    ? path.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    : path;
  return decoded.includes(' ') ? decoded.replaceAll(' ', '+') : decoded;
}
