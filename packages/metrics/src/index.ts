export { ColdStartTracker, type ColdStartSink, type ColdStartState } from './cold-start.js';
export { MetricsError, isMetricsError, type MetricsErrorCode } from './errors.js';
export {
  ALL_STAPLES_BUCKET,
  CERTIFICATE_STATES,
  DEFAULT_METRICS_HOST,
  EXPORTERS,
  DEFAULT_METRICS_PORT,
  FETCH_DURATION_BUCKETS,
  FETCH_OUTCOMES,
  HELD_REASONS,
  HISTOGRAM_NAMES,
  METRIC_NAMES,
  QUEUE_JOB_STATES,
  REMAINING_LIFETIME_BUCKETS,
  type CertificateState,
  type ExporterKind,
  type FetchOutcome,
  type HeldReason,
  type MetricName,
  type QueueJobState,
} from './names.js';
export { DEFAULT_MAX_RESPONDERS, OTHER_RESPONDER, ResponderLabels, responderHost } from './responder.js';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions, type MetricsSource } from './server.js';
export {
  RELAY_DURATION_BUCKETS,
  RELAY_METRIC_NAMES,
  RELAY_REQUEST_RESULTS,
  RelayMetrics,
  type RelayMetricsOptions,
  type RelayRequestResult,
} from './relay-metrics.js';
export { StaplewarmMetrics, type StaplewarmMetricsOptions } from './staplewarm-metrics.js';
export { writeTextfile } from './textfile.js';
