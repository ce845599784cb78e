// The public API of @staplewarm/queue, by concern (see README.md). Everything else is internal.

// Jobs: what a job is, where it is queued (a queue per responder host), and waiting for jobs.
export {
  silentLogger,
  type CertificateSettlement,
  type QueuedJobData,
  type QueuedJobResult,
  type StapleBatchData,
  type StapleBatchResult,
  type StapleJobData,
  type StapleJobResult,
  type StapleLogger,
} from './jobs/job.js';
export { planJobs, type PlannedJob } from './jobs/plan.js';
export { StapleJobError } from './jobs/errors.js';
export { StapleQueue, type JobCounts, type StapleQueueOptions } from './jobs/queue.js';
export { OVERFLOW_HOST, hostQueueName, primaryHostOf } from './jobs/host-queues.js';
export { JobTracker, type JobSettlement, type JobTrackerOptions, type TrackedJob } from './jobs/tracker.js';

// Working: the worker pool of a process, and what it reports.
export { StaplePool, type StaplePoolOptions } from './worker/pool.js';
export type { StapleDeps } from './worker/process.js';
export { silentObserver, type AttemptOutcome, type StapleObserver } from './worker/observer.js';

// Per-responder-host limits: the pure decisions, exported for their tests and the docs.
export { MAX_OCSP_URLS } from './hosts/responder-urls.js';
export { hostShares } from './hosts/shares.js';

// The refresh schedule of `serve`.
export {
  DEFAULT_REFRESH_POLICY,
  needsFetch,
  refreshDueAt,
  refreshPolicyProblems,
  type RefreshPolicy,
  type StapleState,
} from './refresh/schedule.js';
export { RefreshScheduler, refreshJobId, type RefreshSchedulerOptions, type TrackResult } from './refresh/refresh-scheduler.js';
export { RefreshListener, OLDER_RESPONSE, type RefreshListenerOptions } from './refresh/refresh-listener.js';

export { QUEUE_DEFAULTS } from './defaults.js';
