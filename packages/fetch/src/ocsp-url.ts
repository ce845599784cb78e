import { FetchError } from './errors.js';

/** A responder URL split for undici: the pool key (`origin`) and the request `path`. */
export interface ResponderUrl {
  /** The URL as the certificate lists it. */
  url: string;
  origin: string;
  /** The host name or IP literal (IPv6 in brackets), lowercased: what the address policy judges. */
  hostname: string;
  /** Path and query for a POST. */
  postPath: string;
  /**
   * Path for a GET: RFC 6960 appendix A.1, `{url}/{url-encoding of base-64 of the DER OCSPRequest}`.
   * Undefined when the URL has a query string (there is no sound place to append the request).
   */
  getPath?: string;
  /** Byte length of the full GET URL (origin + getPath), compared with `maxGetUrlBytes`. */
  getUrlBytes: number;
}

/** Parses a responder URL; a non-http(s) or unparsable one is a `bad-url` FetchError (thrown). */
export function parseResponderUrl(url: string, der: Buffer): ResponderUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new FetchError('bad-url', url, `not a URL: ${JSON.stringify(url)}`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new FetchError('bad-url', url, `unsupported scheme ${parsed.protocol} in ${url}`);
  }
  const postPath = `${parsed.pathname}${parsed.search}`;
  const result: ResponderUrl = { url, origin: parsed.origin, hostname: parsed.hostname, postPath, getUrlBytes: Infinity };
  if (parsed.search === '') {
    // encodeURIComponent escapes base64's '+', '/' and '=' (RFC 5019 section 5).
    const encoded = encodeURIComponent(der.toString('base64'));
    const base = parsed.pathname.endsWith('/') ? parsed.pathname : `${parsed.pathname}/`;
    result.getPath = `${base}${encoded}`;
    result.getUrlBytes = Buffer.byteLength(parsed.origin + result.getPath);
  }
  return result;
}
