/**
 * The metric contract: names, label values and buckets. Dashboards and alert rules in deploy/ use
 * these names (deploy.test.ts checks it), so renaming one is a breaking change.
 */

/** How one OCSP fetch attempt ended (the `outcome` label of `staplewarm_fetches_total`). */
export const FETCH_OUTCOMES = [
  'ok',
  'http_429',
  'http_error',
  'timeout',
  'network',
  'malformed',
  'verify_failed',
  'try_later',
  'unauthorized',
  'unknown_status',
] as const;
export type FetchOutcome = (typeof FETCH_OUTCOMES)[number];

/** Where each known certificate stands (the `state` label of `staplewarm_certificates`). */
export const CERTIFICATE_STATES = ['stapled_good', 'stapled_revoked', 'missing', 'no_ocsp_url', 'failing'] as const;
export type CertificateState = (typeof CERTIFICATE_STATES)[number];

/** BullMQ job states we export (the `state` label of `staplewarm_queue_jobs`). */
export const QUEUE_JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

/**
 * Why `serve` keeps tracking certificates its latest scan did not find (the `reason` label of
 * `staplewarm_scan_held_certificates`): a suspected shrink held back by the shrink guard, or a
 * certificate store that could not be read at all.
 */
export const HELD_REASONS = ['suspected_shrink', 'unreadable_store'] as const;
export type HeldReason = (typeof HELD_REASONS)[number];

/** The exporters (`exporter` label of the staplewarm_export_* metrics). */
export const EXPORTERS = ['nginx', 'haproxy-dir', 'haproxy-socket'] as const;
export type ExporterKind = (typeof EXPORTERS)[number];

/** Every staplewarm metric name, by role. Histograms also expose `_bucket`, `_sum`, `_count`. */
export const METRIC_NAMES = {
  coldStartSeconds: 'staplewarm_coldstart_seconds',
  coldStartProgressRatio: 'staplewarm_coldstart_progress_ratio',
  coldStartInProgress: 'staplewarm_coldstart_in_progress',
  certificates: 'staplewarm_certificates',
  fetchesTotal: 'staplewarm_fetches_total',
  fetchDurationSeconds: 'staplewarm_fetch_duration_seconds',
  stapleExpirySeconds: 'staplewarm_staple_expiry_seconds',
  staplesByRemainingLifetime: 'staplewarm_staples_by_remaining_lifetime',
  rateLimitedSecondsTotal: 'staplewarm_rate_limited_seconds_total',
  queueJobs: 'staplewarm_queue_jobs',
  revokedTotal: 'staplewarm_revoked_total',
  scanHeldCertificates: 'staplewarm_scan_held_certificates',
  scanSuspectedShrinksTotal: 'staplewarm_scan_suspected_shrinks_total',
  exportChangesTotal: 'staplewarm_export_changes_total',
  exportFailuresTotal: 'staplewarm_export_failures_total',
  exportReloadsTotal: 'staplewarm_export_reloads_total',
} as const;
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** Histogram metric names (their series carry the `_bucket`/`_sum`/`_count` suffixes). */
export const HISTOGRAM_NAMES: readonly MetricName[] = [METRIC_NAMES.fetchDurationSeconds];

/**
 * Fetch latency buckets in seconds: a healthy responder answers in 5-100 ms, a CDN miss in a few
 * hundred, and fetch timeouts sit around 10 s.
 */
export const FETCH_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Remaining-lifetime buckets of `staplewarm_staples_by_remaining_lifetime`, cumulative like a
 * histogram's: the `within` label value and its width in seconds. Responses live ~7 days and are
 * refreshed at about half of that, so a healthy store has almost nothing within 1d.
 * (Not `le`: Prometheus reserves that label for histograms.)
 */
export const REMAINING_LIFETIME_BUCKETS: readonly { within: string; seconds: number }[] = [
  { within: '1h', seconds: 3_600 },
  { within: '6h', seconds: 21_600 },
  { within: '1d', seconds: 86_400 },
  { within: '2d', seconds: 172_800 },
  { within: '4d', seconds: 345_600 },
  { within: '7d', seconds: 604_800 },
];

/** The `within` value of the last bucket: every stored staple. */
export const ALL_STAPLES_BUCKET = 'any';

/** Default port of the /metrics endpoint (`--metrics-port`, `STAPLEWARM_METRICS_PORT`). */
export const DEFAULT_METRICS_PORT = 9464;

/** Default bind address: metrics stay on the host unless the operator opts in. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';
