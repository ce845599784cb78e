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

/** Distinct `responder` label values a registry keeps by default; later hosts are counted as `other`. */
export const DEFAULT_MAX_RESPONDERS = 100;

/** The `responder` label of every host past the cap. */
export const OTHER_RESPONDER = 'other';

/**
 * Keeps the `responder` label's cardinality bounded. Certificates choose their OCSP hosts, so a
 * hostile or sloppy certificate store could otherwise create a time series per host it names. The
 * first `max` distinct hosts keep their own label for the life of the process (a counter's series
 * cannot be dropped without looking like a reset); every later host is reported as `other`.
 */
export class ResponderLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly max = DEFAULT_MAX_RESPONDERS) {}

  /** The label for `host` (throws `invalid-label` unless it is a host): itself, or `other` past the cap. */
  label(host: string): string {
    assertResponderHost(host);
    if (this.seen.has(host)) return host;
    if (this.seen.size >= this.max) return OTHER_RESPONDER;
    this.seen.add(host);
    return host;
  }
}
