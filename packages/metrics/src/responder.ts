import { MetricsError } from './errors.js';

/**
 * The `responder` label for a responder URL: its host (and port when not the default), lowercased.
 * A handful of values per deployment, unlike URLs with paths, which would not stay low-cardinality.
 */
export function responderHost(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch (err) {
    throw new MetricsError('invalid-label', `not a responder URL: ${String(url)}`, { cause: err });
  }
  if (parsed.host === '') throw new MetricsError('invalid-label', `responder URL has no host: ${parsed.href}`);
  return parsed.host.toLowerCase();
}

// host[:port], IPv6 in brackets; no scheme, path, query or whitespace.
const HOST_LABEL = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(:\d{1,5})?$/i;

/** Throws `invalid-label` unless `host` looks like a host (what `responderHost` returns). */
export function assertResponderHost(host: string): void {
  if (!HOST_LABEL.test(host)) {
    throw new MetricsError(
      'invalid-label',
      `responder label must be a host such as "ocsp.example.com", got ${JSON.stringify(host)} (use responderHost(url))`,
    );
  }
}
