/** Retry timing for failed attempts. Pure: the random source is a parameter. */
export interface BackoffPolicy {
  /** First retry delay, ms. @defaultValue 1000 */
  baseMs: number;
  /** Longest delay, ms. @defaultValue 60000 */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };

/**
 * Exponential backoff with "equal jitter": half the exponential step is fixed, half random, so
 * 50K certificates failing together do not come back together, yet each waits a useful minimum.
 * A server-sent Retry-After wins when it asks for longer.
 */
export function retryDelay(attemptsMade: number, policy: BackoffPolicy, random: () => number, retryAfterMs?: number): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = Math.round(step / 2 + random() * (step / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}
