import { retryDelay, type BackoffPolicy } from '../jobs/backoff.js';

/**
 * How fast one responder host may be asked, after it answered 429. Pure: the clock and the random
 * source are arguments, so every decision is testable without timers.
 *
 * A 429 pauses the host (Retry-After, or exponential backoff with jitter without one) and cuts its
 * rate multiplicatively; the rate then grows back along a cubic curve (as TCP CUBIC does): quickly at
 * first, flat near the rate that provoked the 429, then probing above it. A cold start therefore
 * settles just under the responder's real limit with few 429 episodes, even from a `--rate` far above it.
 */
export interface HostRatePolicy {
  /** Share of the offending rate kept after a 429. @defaultValue 0.85 */
  decrease: number;
  /**
   * Share kept when the 429 follows the end of the previous pause within `fastWindowMs`: the rate is
   * still well over the limit, so come down faster. @defaultValue 0.7
   */
  fastDecrease: number;
  /** @defaultValue 2000 */
  fastWindowMs: number;
  /** Seconds to grow back to the rate that provoked the last 429 (then probe above it). @defaultValue 30 */
  recoverySeconds: number;
  /** Lowest rate, requests/s. @defaultValue 1 */
  minRate: number;
  /** Pause after a 429 without Retry-After, by consecutive episode. @defaultValue 1 s doubling to 60 s */
  backoff: BackoffPolicy;
  /** Longest pause a Retry-After may impose (a misconfigured responder must not stop us for a day). @defaultValue 600000 */
  maxPauseMs: number;
  /** An episode starting this long after the previous pause ended restarts the backoff. @defaultValue 60000 */
  episodeResetMs: number;
  /** A late 429 (sent before the pause began) extends the pause only by more than this. @defaultValue 100 */
  extendSlackMs: number;
}

export const DEFAULT_HOST_RATE_POLICY: HostRatePolicy = {
  decrease: 0.85,
  fastDecrease: 0.7,
  fastWindowMs: 2_000,
  recoverySeconds: 30,
  minRate: 1,
  backoff: { baseMs: 1_000, maxMs: 60_000 },
  maxPauseMs: 600_000,
  episodeResetMs: 60_000,
  extendSlackMs: 100,
};

/** What every worker process shares about a host that answered 429 (no state: never limited). */
export interface HostRateState {
  /** Rate right after the last decrease, requests/s. */
  rate: number;
  /** Rate in force when the last 429 was provoked: the regrowth aims back at it. */
  ceiling: number;
  /** Fetches to the host may resume at this time, epoch ms. */
  pausedUntil: number;
  /** Consecutive 429 episodes: the backoff exponent when the responder sends no Retry-After. */
  episodes: number;
}

/**
 * The host's rate at `now`, requests/s, between `policy.minRate` and `maxRate` (Infinity: no budget).
 * Cubic regrowth from `rate` at the end of the pause to `ceiling` after `recoverySeconds`, above it later.
 */
export function hostRateAt(state: HostRateState | undefined, maxRate: number, now: number, policy: HostRatePolicy): number {
  if (state === undefined) return maxRate;
  const k = policy.recoverySeconds;
  const t = Math.max(0, now - state.pausedUntil) / 1000;
  const rate = state.ceiling + (state.ceiling - state.rate) * ((t - k) / k) ** 3;
  return Math.min(maxRate, Math.max(policy.minRate, rate));
}

export interface RateLimitedEvent {
  /** When the request that got the 429 was sent, epoch ms. */
  sentAt: number;
  /** The responder's Retry-After, ms, when it sent one. */
  retryAfterMs?: number;
  /** Requests/s this process sent to the host lately: the ceiling estimate for a host without a budget. */
  observedRate: number;
}

export interface RateLimitContext {
  now: number;
  /** The host's budget (configured, else the global rate, else Infinity). */
  maxRate: number;
  policy: HostRatePolicy;
  random: () => number;
}

export interface RateLimitDecision {
  /** The new shared state; undefined when this 429 changes nothing. */
  next: HostRateState | undefined;
  /** How much later fetches to the host resume because of this 429, ms (for the paused-seconds metric). */
  pausedMs: number;
}

/**
 * What a 429 does to the host's state. A request sent after the last pause ended starts a new
 * episode (pause + decrease). One sent before (it was in flight, or another process had not yet
 * heard of the pause) only extends the pause when its Retry-After asks for longer: N workers hitting
 * the same limit at once cut the rate once, not N times.
 */
export function afterRateLimited(state: HostRateState | undefined, event: RateLimitedEvent, ctx: RateLimitContext): RateLimitDecision {
  const { now, policy } = ctx;
  const retryAfterMs = event.retryAfterMs === undefined ? undefined : Math.min(event.retryAfterMs, policy.maxPauseMs);
  if (state !== undefined && event.sentAt < state.pausedUntil) {
    const until = now + (retryAfterMs ?? 0);
    if (retryAfterMs === undefined || until <= state.pausedUntil + policy.extendSlackMs) return { next: undefined, pausedMs: 0 };
    return { next: { ...state, pausedUntil: until }, pausedMs: until - Math.max(now, state.pausedUntil) };
  }

  const offending = hostRateAt(state, ctx.maxRate, event.sentAt, policy);
  const ceiling = Number.isFinite(offending) ? offending : Math.max(policy.minRate, event.observedRate);
  const sinceResume = state === undefined ? Infinity : event.sentAt - state.pausedUntil;
  const share = sinceResume < policy.fastWindowMs ? policy.fastDecrease : policy.decrease;
  const episodes = sinceResume < policy.episodeResetMs ? (state?.episodes ?? 0) + 1 : 1;
  const pauseMs = retryAfterMs ?? retryDelay(episodes, policy.backoff, ctx.random);
  return {
    next: { rate: Math.max(policy.minRate, ceiling * share), ceiling, pausedUntil: now + pauseMs, episodes },
    pausedMs: pauseMs,
  };
}
