/**
 * When to fetch each certificate's staple next. Pure: the clock and the certificate's state are
 * arguments, so the rule is unit-tested without Redis or timers. The rule in words is in
 * docs/refresh.md; in short: refresh at a point of [1/2, 3/4] of the validity window fixed by the
 * fingerprint, and after an attempt that left the staple due, retry with backoff that shortens as
 * nextUpdate nears.
 */

/** What the store knows about a certificate's current staple, for scheduling decisions. */
export interface StapleState {
  hasStaple: boolean;
  thisUpdate?: Date;
  nextUpdate?: Date;
}

/** The scheduler's own memory of a certificate: its last settled attempt. */
export interface RefreshAttempt {
  /** When the last attempt settled (job completed or failed for good), epoch ms. */
  at: number;
  /**
   * Consecutive attempts after which the staple was still due: failed, refused (older, unknown,
   * tryLater) or answered with a response no fresher than the one stored. 0 after a useful one.
   */
  streak: number;
}

/** The tunable parts of the rule. Every delay is in milliseconds. */
export interface RefreshPolicy {
  /** Earliest refresh point, as a fraction of the validity window. @defaultValue 0.5 */
  windowStart: number;
  /** Latest refresh point, as a fraction of the validity window. @defaultValue 0.75 */
  windowEnd: number;
  /**
   * A refresh is never scheduled later than nextUpdate minus this margin (at most a tenth of the
   * window, so short windows keep most of their life). @defaultValue 3600000 (1 h)
   */
  safetyMarginMs: number;
  /** First wait after an attempt that left the staple due; doubles per such attempt. @defaultValue 60000 */
  retryBaseMs: number;
  /** Shortest wait between two attempts at one certificate. @defaultValue 30000 */
  retryMinMs: number;
  /** Longest wait between retries while a staple is still stored. @defaultValue 3600000 (1 h) */
  retryMaxMs: number;
  /** Longest wait between retries while no staple is stored: every minute without one counts. @defaultValue 600000 */
  missingRetryMaxMs: number;
  /** A retry waits at most this fraction of the time left until nextUpdate. @defaultValue 0.25 */
  retryShareOfRemaining: number;
}

export const DEFAULT_REFRESH_POLICY: RefreshPolicy = {
  windowStart: 0.5,
  windowEnd: 0.75,
  safetyMarginMs: 3_600_000,
  retryBaseMs: 60_000,
  retryMinMs: 30_000,
  retryMaxMs: 3_600_000,
  missingRetryMaxMs: 600_000,
  retryShareOfRemaining: 0.25,
};

/**
 * A number in [0, 1) read from the fingerprint (lowercase hex SHA-256, so uniformly distributed).
 * `part` 0 places the refresh point, part 1 jitters retries: deterministic, so every process
 * computes the same time (and the same job id) for a certificate.
 */
export function fingerprintJitter(fingerprint: string, part: 0 | 1 = 0): number {
  const value = Number.parseInt(fingerprint.slice(part * 8, part * 8 + 8), 16);
  return Number.isFinite(value) ? value / 2 ** 32 : 0.5;
}

/** The stored staple's validity window and its safety point, when it has a usable one. */
function windowOf(state: StapleState | undefined, policy: RefreshPolicy): { start: number; end: number; latest: number } | undefined {
  if (!state?.hasStaple || !state.thisUpdate || !state.nextUpdate) return undefined;
  const start = state.thisUpdate.getTime();
  const end = state.nextUpdate.getTime();
  if (!(Number.isFinite(start) && Number.isFinite(end) && end > start)) return undefined;
  return { start, end, latest: end - Math.min(policy.safetyMarginMs, (end - start) / 10) };
}

/**
 * When a stored staple is due for refresh: at `windowStart + (windowEnd - windowStart) × jitter`
 * of its validity window (certmagic and HAProxy refresh at about half), never later than
 * nextUpdate minus the safety margin. Undefined when there is no usable staple: due at once.
 */
export function refreshDueAt(state: StapleState, fingerprint: string, policy: RefreshPolicy = DEFAULT_REFRESH_POLICY): number | undefined {
  const window = windowOf(state, policy);
  if (!window) return undefined;
  const share = policy.windowStart + (policy.windowEnd - policy.windowStart) * fingerprintJitter(fingerprint);
  return Math.floor(Math.min(window.start + (window.end - window.start) * share, window.latest));
}

/** Pure: is this certificate due now? Missing, unreadable or past-refresh-point staples are. */
export function needsFetch(
  state: StapleState | undefined,
  now: number,
  fingerprint: string,
  policy: RefreshPolicy = DEFAULT_REFRESH_POLICY,
): boolean {
  if (!state) return true;
  const due = refreshDueAt(state, fingerprint, policy);
  return due === undefined || now >= due;
}

/**
 * The wait after the `streak`-th attempt in a row that left the staple due, settled at `at`:
 * exponential from `retryBaseMs`, capped (lower while nothing is stored), at most a share of the
 * time left until nextUpdate (so retries come more often as it nears), half of it jittered by
 * the fingerprint so certificates failing together come back apart.
 */
export function retryDelayAfter(
  streak: number,
  at: number,
  state: StapleState | undefined,
  fingerprint: string,
  policy: RefreshPolicy = DEFAULT_REFRESH_POLICY,
): number {
  const window = windowOf(state, policy);
  const cap = window ? policy.retryMaxMs : policy.missingRetryMaxMs;
  let step = Math.min(cap, policy.retryBaseMs * 2 ** Math.min(30, Math.max(0, streak - 1)));
  if (window) step = Math.min(step, Math.max(0, window.end - at) * policy.retryShareOfRemaining);
  const jittered = step / 2 + (step / 2) * fingerprintJitter(fingerprint, 1);
  return Math.round(Math.max(policy.retryMinMs, jittered));
}

/**
 * The attempt record after an attempt settled at `at`, given the store's state right after it:
 * the streak grows while the staple stays due, and restarts once it is fresh.
 */
export function settleAttempt(
  previous: RefreshAttempt | undefined,
  at: number,
  state: StapleState | undefined,
  fingerprint: string,
  policy: RefreshPolicy = DEFAULT_REFRESH_POLICY,
): RefreshAttempt {
  const stillDue = needsFetch(state, at, fingerprint, policy);
  return { at, streak: stillDue ? (previous?.streak ?? 0) + 1 : 0 };
}

/**
 * When to attempt this certificate next (epoch ms; a time in the past means "now"):
 * its refresh point, unless the last attempt left it due, then that attempt plus the retry delay.
 * A staple that turned fresh after the last attempt (someone else refreshed it) uses its refresh point.
 * Never at or before the last settled attempt, so each attempt has its own time (and job id).
 */
export function nextAttemptAt(
  state: StapleState | undefined,
  last: RefreshAttempt | undefined,
  fingerprint: string,
  policy: RefreshPolicy = DEFAULT_REFRESH_POLICY,
): number {
  const due = state ? refreshDueAt(state, fingerprint, policy) : undefined;
  const refreshPoint = due ?? 0;
  if (!last) return refreshPoint;
  if (last.streak === 0 || refreshPoint > last.at) return Math.max(refreshPoint, last.at + 1);
  const retryAt = last.at + retryDelayAfter(last.streak, last.at, state, fingerprint, policy);
  // Do not wait past the safety point while it is still ahead (but never sooner than retryMinMs).
  const latest = windowOf(state, policy)?.latest ?? Infinity;
  if (last.at >= latest) return retryAt;
  return Math.min(retryAt, Math.max(latest, last.at + policy.retryMinMs));
}

/** Checks a policy built from user input; returns a list of problems (empty when valid). */
export function refreshPolicyProblems(policy: RefreshPolicy): string[] {
  const problems: string[] = [];
  if (!(policy.windowStart >= 0 && policy.windowStart <= policy.windowEnd && policy.windowEnd < 1)) {
    problems.push(`refresh window must satisfy 0 <= start <= end < 1, got ${policy.windowStart},${policy.windowEnd}`);
  }
  for (const key of ['safetyMarginMs', 'retryBaseMs', 'retryMinMs', 'retryMaxMs', 'missingRetryMaxMs'] as const) {
    if (!(Number.isFinite(policy[key]) && policy[key] >= 0)) problems.push(`${key} must be a number >= 0, got ${policy[key]}`);
  }
  if (!(policy.retryMinMs >= 1)) problems.push('retryMinMs must be at least 1 ms, or a failing certificate would be retried in a loop');
  if (!(policy.retryShareOfRemaining > 0 && policy.retryShareOfRemaining <= 1)) {
    problems.push(`retryShareOfRemaining must be in (0, 1], got ${policy.retryShareOfRemaining}`);
  }
  return problems;
}
