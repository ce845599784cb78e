export { STAPLE_QUEUE, FETCH_JOB, silentLogger, type StapleJobData, type StapleJobResult, type StapleLogger } from './jobs/job.js';
export { StapleJobError, failureCode } from './jobs/errors.js';
export { DEFAULT_BACKOFF, retryDelay, type BackoffPolicy } from './jobs/backoff.js';
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
} from './refresh/schedule.js';
export {
  RefreshScheduler,
  fingerprintOfJob,
  refreshJobId,
  type RefreshSchedulerOptions,
  type Settlement,
  type TrackResult,
} from './refresh/refresh-scheduler.js';
export { RefreshListener, OLDER_RESPONSE, type RefreshListenerOptions } from './refresh/refresh-listener.js';
export { RefreshRecords, REFRESH_RECORD_TTL_MS } from './refresh/refresh-records.js';
export { hostOf, processStaple, type StapleDeps } from './worker/process.js';
export { fetchWithFailover, type FailoverDeps, type FailoverOutcome } from './worker/failover.js';
export { MAX_OCSP_URLS, responderHostOf, responderUrls } from './worker/responder-urls.js';
export { DEFAULT_HOST_BOUNDS, hostsToEvict, type HostBounds, type HostUse } from './hosts/host-eviction.js';
export { StapleQueue, type StapleQueueOptions } from './jobs/queue.js';
export { StapleWorker, createStapleWorker, limiterFor, type StapleWorkerOptions } from './worker/worker.js';
export { HostLimiter, type HostLimiterOptions, type HostPermit } from './hosts/host-limiter.js';
export { DEFAULT_HOST_HEALTH_POLICY, HostHealth, type HostHealthPolicy } from './hosts/host-health.js';
export {
  DEFAULT_HOST_RATE_POLICY,
  afterRateLimited,
  hostRateAt,
  type HostRatePolicy,
  type HostRateState,
  type RateLimitContext,
  type RateLimitDecision,
  type RateLimitedEvent,
} from './hosts/host-rate.js';
export {
  ATTEMPT_OUTCOMES,
  fetchErrorOutcome,
  ocspErrorOutcome,
  silentObserver,
  type AttemptOutcome,
  type StapleObserver,
} from './worker/observer.js';
export { JobTracker, type JobSettlement, type JobTrackerOptions } from './jobs/tracker.js';
