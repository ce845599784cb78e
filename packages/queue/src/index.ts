export { STAPLE_QUEUE, FETCH_JOB, silentLogger, type StapleJobData, type StapleJobResult, type StapleLogger } from './job.js';
export { StapleJobError, failureCode } from './errors.js';
export { DEFAULT_BACKOFF, retryDelay, type BackoffPolicy } from './backoff.js';
export { needsFetch, refreshDueAt, type StapleState } from './schedule.js';
export { processStaple, type StapleDeps } from './process.js';
export { StapleQueue, type StapleQueueOptions } from './queue.js';
export { createStapleWorker, limiterFor, type StapleWorkerOptions } from './worker.js';
export { JobTracker, type JobSettlement, type JobTrackerOptions } from './tracker.js';
