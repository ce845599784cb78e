/**
 * At most this many of a certificate's OCSP URLs are tried. Certificates are written by their owners
 * (customers, on a hosting platform), and each URL is a host the worker connects to on their
 * behalf, through that host's limiter: 100 URLs must not mean 100 connections (nor 100 limiter
 * entries) per attempt. Real certificates list one, rarely two.
 */
export const MAX_OCSP_URLS = 4;

/** The URLs a job tries, in the certificate's order: duplicates dropped, then the first `max`. */
export function responderUrls(urls: readonly string[], max = MAX_OCSP_URLS): { used: string[]; ignored: number } {
  const distinct = [...new Set(urls)];
  return { used: distinct.slice(0, max), ignored: Math.max(0, distinct.length - max) };
}

/**
 * `host[:port]` of an http(s) responder URL, lowercased (the per-host limit key and the metrics'
 * `responder` label); empty for anything else, which is never sent.
 */
export function responderHostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.host.toLowerCase() : '';
  } catch {
    return '';
  }
}
