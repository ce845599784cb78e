export { STAPLE_QUEUE, FETCH_JOB, silentLogger, type StapleJobData, type StapleJobResult, type StapleLogger } from './job.js';
export { StapleJobError, failureCode } from './errors.js';
export { DEFAULT_BACKOFF, retryDelay, type BackoffPolicy } from './backoff.js';
export {
  DEFAULT_REFRESH_POLICY,
  fingerprintJitter,
  needsFetch,
  nextAttemptAt,
  refreshDueAt,
  refreshPolicyProblems,
  retryDelayAfter,
  settleAttempt,
  type RefreshAttempt,
  type RefreshPolicy,
  type StapleState,
} from './schedule.js';
export {
  RefreshScheduler,
  fingerprintOfJob,
  refreshJobId,
  type RefreshSchedulerOptions,
  type Settlement,
  type TrackResult,
} from './refresh-scheduler.js';
export { RefreshListener, OLDER_RESPONSE, type RefreshListenerOptions } from './refresh-listener.js';
export { RefreshRecords, REFRESH_RECORD_TTL_MS } from './refresh-records.js';
export { hostOf, processStaple, type StapleDeps } from './process.js';
export { fetchWithFailover, type FailoverDeps, type FailoverOutcome } from './failover.js';
export { MAX_OCSP_URLS, responderHostOf, responderUrls } from './responder-urls.js';
export { DEFAULT_HOST_BOUNDS, hostsToEvict, type HostBounds, type HostUse } from './host-eviction.js';
export { StapleQueue, type StapleQueueOptions } from './queue.js';
export { StapleWorker, createStapleWorker, limiterFor, type StapleWorkerOptions } from './worker.js';
export { HostLimiter, type HostLimiterOptions, type HostPermit } from './host-limiter.js';
export { DEFAULT_HOST_HEALTH_POLICY, HostHealth, type HostHealthPolicy } from './host-health.js';
export {
  DEFAULT_HOST_RATE_POLICY,
  afterRateLimited,
  hostRateAt,
  type HostRatePolicy,
  type HostRateState,
  type RateLimitContext,
  type RateLimitDecision,
  type RateLimitedEvent,
} from './host-rate.js';
export {
  ATTEMPT_OUTCOMES,
  fetchErrorOutcome,
  ocspErrorOutcome,
  silentObserver,
  type AttemptOutcome,
  type StapleObserver,
} from './observer.js';
export { JobTracker, type JobSettlement, type JobTrackerOptions } from './tracker.js';
