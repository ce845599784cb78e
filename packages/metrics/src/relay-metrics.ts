/**
 * The metrics of `staplewarm relay`: its own registry (a relay process runs no workers, so it
 * exports none of the fetch or queue metrics), served by the same `/metrics` server.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { assertNonNegative, MetricsError } from './errors.js';

/** How a relay request ended (the `result` label). The relay's RelayResult; the app checks they agree. */
export const RELAY_REQUEST_RESULTS = [
  'memory',
  'redis',
  'fetched',
  'not_modified',
  'unavailable',
  'unknown_certificate',
  'unauthorized',
  'other_hash',
  'malformed',
  'error',
  'http_error',
] as const;
export type RelayRequestResult = (typeof RELAY_REQUEST_RESULTS)[number];

export const RELAY_METRIC_NAMES = {
  requestsTotal: 'staplewarm_relay_requests_total',
  requestDurationSeconds: 'staplewarm_relay_request_duration_seconds',
  fetchRequestsTotal: 'staplewarm_relay_fetch_requests_total',
} as const;

/**
 * Request latency buckets, seconds: an answer from memory takes well under a millisecond, one from
 * Redis about one, and a miss waits for a fetch up to the relay's bound (3 s by default).
 */
export const RELAY_DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const RESULTS: ReadonlySet<string> = new Set(RELAY_REQUEST_RESULTS);

export interface RelayMetricsOptions {
  /** Also export prom-client's default Node.js metrics. @defaultValue true */
  defaultMetrics?: boolean;
}

/**
 * | name | type | labels |
 * |---|---|---|
 * | `staplewarm_relay_requests_total` | counter | `result` |
 * | `staplewarm_relay_request_duration_seconds` | histogram | `result` |
 * | `staplewarm_relay_fetch_requests_total` | counter | |
 */
export class RelayMetrics {
  private readonly registry = new Registry();
  private readonly requests: Counter<'result'>;
  private readonly durations: Histogram<'result'>;
  private readonly fetchRequests: Counter;

  constructor(options: RelayMetricsOptions = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: RELAY_METRIC_NAMES.requestsTotal,
      help: 'Relay requests by result: memory/redis/fetched (a staple), not_modified, unavailable/unknown_certificate/error (503), unauthorized/other_hash/malformed (OCSP errors), http_error.',
      labelNames: ['result'],
      registers,
    });
    this.durations = new Histogram({
      name: RELAY_METRIC_NAMES.requestDurationSeconds,
      help: 'Time from a relay request to its answer, by result.',
      labelNames: ['result'],
      buckets: [...RELAY_DURATION_BUCKETS],
      registers,
    });
    this.fetchRequests = new Counter({
      name: RELAY_METRIC_NAMES.fetchRequestsTotal,
      help: 'Fetches the relay asked of the shared queue for known certificates without a staple.',
      registers,
    });
    // Every result is exported from the start (as 0), so rates and alerts never see a missing series.
    for (const result of RELAY_REQUEST_RESULTS) this.requests.inc({ result }, 0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One request was answered. @throws MetricsError `invalid-label` for a result not in RELAY_REQUEST_RESULTS. */
  answered(result: RelayRequestResult, seconds: number): void {
    if (!RESULTS.has(result)) throw new MetricsError('invalid-label', `unknown relay result ${JSON.stringify(result)}`);
    assertNonNegative(seconds, 'relay request duration');
    this.requests.inc({ result });
    this.durations.observe({ result }, seconds);
  }

  fetchRequested(): void {
    this.fetchRequests.inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
