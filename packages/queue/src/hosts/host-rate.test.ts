import { describe, expect, it } from 'vitest';
import { DEFAULT_HOST_RATE_POLICY as policy, afterRateLimited, hostRateAt, type HostRateState } from './host-rate.js';

const T0 = 1_700_000_000_000;
const ctx = (now: number, maxRate = 1_000) => ({ now, maxRate, policy, random: () => 0.5 });

describe('hostRateAt', () => {
  it('is the budget while the host never answered 429', () => {
    expect(hostRateAt(undefined, 500, T0, policy)).toBe(500);
    expect(hostRateAt(undefined, Infinity, T0, policy)).toBe(Infinity);
  });

  it('grows from the cut rate back to the ceiling in recoverySeconds, flat near it, then probes above', () => {
    const state: HostRateState = { rate: 425, ceiling: 500, pausedUntil: T0, episodes: 1 };
    const at = (seconds: number) => hostRateAt(state, 1_000, T0 + seconds * 1000, policy);
    expect(at(-1)).toBe(425); // still paused: the rate it resumes at
    expect(at(0)).toBe(425);
    expect(at(policy.recoverySeconds)).toBe(500);
    // Concave below the ceiling: half-way it has already recovered 7/8 of the cut.
    expect(at(policy.recoverySeconds / 2)).toBeCloseTo(500 - 75 / 8, 6);
    expect(at(policy.recoverySeconds * 1.5)).toBeCloseTo(500 + 75 / 8, 6);
    expect(at(policy.recoverySeconds * 2)).toBe(575);
  });

  it('stays within the minimum rate and the budget', () => {
    const state: HostRateState = { rate: 0.1, ceiling: 0.2, pausedUntil: T0, episodes: 3 };
    expect(hostRateAt(state, 1_000, T0, policy)).toBe(policy.minRate);
    const probing: HostRateState = { rate: 400, ceiling: 480, pausedUntil: T0, episodes: 1 };
    expect(hostRateAt(probing, 500, T0 + 3_600_000, policy)).toBe(500);
  });
});

describe('afterRateLimited', () => {
  it('pauses for Retry-After and cuts the rate that provoked the 429', () => {
    const { next, pausedMs } = afterRateLimited(undefined, { sentAt: T0 - 20, retryAfterMs: 1_000, observedRate: 0 }, ctx(T0));
    expect(next).toEqual({ rate: 850, ceiling: 1_000, pausedUntil: T0 + 1_000, episodes: 1 });
    expect(pausedMs).toBe(1_000);
  });

  it('without Retry-After backs off exponentially with jitter, episode after episode', () => {
    const first = afterRateLimited(undefined, { sentAt: T0, observedRate: 0 }, ctx(T0)).next!;
    expect(first.pausedUntil - T0).toBe(750); // 1 s step, half of it random (0.5)
    const sentAt = first.pausedUntil + 5_000;
    const second = afterRateLimited(first, { sentAt, observedRate: 0 }, ctx(sentAt + 10)).next!;
    expect(second.episodes).toBe(2);
    expect(second.pausedUntil - (sentAt + 10)).toBe(1_500);
    const low = afterRateLimited(first, { sentAt, observedRate: 0 }, { ...ctx(sentAt), random: () => 0 }).next!;
    const high = afterRateLimited(first, { sentAt, observedRate: 0 }, { ...ctx(sentAt), random: () => 1 }).next!;
    expect([low.pausedUntil - sentAt, high.pausedUntil - sentAt]).toEqual([1_000, 2_000]);
  });

  it('restarts the backoff when the previous episode is long over', () => {
    const old: HostRateState = { rate: 400, ceiling: 450, pausedUntil: T0, episodes: 6 };
    const later = T0 + policy.episodeResetMs + 1;
    expect(afterRateLimited(old, { sentAt: later, observedRate: 0 }, ctx(later)).next?.episodes).toBe(1);
  });

  it('cuts once for many 429s of one episode: requests sent before the pause only extend it', () => {
    const paused: HostRateState = { rate: 850, ceiling: 1_000, pausedUntil: T0 + 1_000, episodes: 1 };
    // In flight when the pause began, no Retry-After: nothing changes.
    expect(afterRateLimited(paused, { sentAt: T0 - 5, observedRate: 0 }, ctx(T0 + 10))).toEqual({ next: undefined, pausedMs: 0 });
    // Its Retry-After ends within the slack of the current pause: nothing to write.
    expect(afterRateLimited(paused, { sentAt: T0 - 5, retryAfterMs: 1_000, observedRate: 0 }, ctx(T0 + 50)).next).toBeUndefined();
    // A later Retry-After is honoured, without a second cut.
    const extended = afterRateLimited(paused, { sentAt: T0 + 100, retryAfterMs: 2_000, observedRate: 0 }, ctx(T0 + 500));
    expect(extended.next).toEqual({ ...paused, pausedUntil: T0 + 2_500 });
    expect(extended.pausedMs).toBe(1_500);
  });

  it('cuts harder when the limit is hit again right after resuming', () => {
    const paused: HostRateState = { rate: 850, ceiling: 1_000, pausedUntil: T0, episodes: 1 };
    const soon = afterRateLimited(paused, { sentAt: T0 + 100, retryAfterMs: 1_000, observedRate: 0 }, ctx(T0 + 120)).next!;
    expect(soon.ceiling).toBeCloseTo(hostRateAt(paused, 1_000, T0 + 100, policy), 9);
    expect(soon.rate).toBeCloseTo(soon.ceiling * policy.fastDecrease, 9);
    expect(soon.episodes).toBe(2);
    const late = afterRateLimited(paused, { sentAt: T0 + 20_000, retryAfterMs: 1_000, observedRate: 0 }, ctx(T0 + 20_020)).next!;
    expect(late.rate).toBeCloseTo(late.ceiling * policy.decrease, 9);
  });

  it('takes the observed rate as the ceiling of a host without a budget', () => {
    const { next } = afterRateLimited(undefined, { sentAt: T0, retryAfterMs: 1_000, observedRate: 640 }, ctx(T0, Infinity));
    expect(next).toMatchObject({ ceiling: 640, rate: 544 });
  });

  it('caps a huge Retry-After', () => {
    const { next } = afterRateLimited(undefined, { sentAt: T0, retryAfterMs: 86_400_000, observedRate: 0 }, ctx(T0));
    expect(next?.pausedUntil).toBe(T0 + policy.maxPauseMs);
  });

  it('converges just under a token-bucket limit from a budget twice too high', () => {
    // A deterministic model of one host: sends at hostRateAt, a 500/s bucket (burst 50) answers 429
    // beyond it with Retry-After: 1. The rate in force at the end must sit just under 500.
    let state: HostRateState | undefined;
    let tokens = 50;
    let pendingUntil = 0;
    let episodes = 0;
    for (let now = 0; now < 120_000; now++) {
      tokens = Math.min(50, tokens + 0.5);
      if (state && now < state.pausedUntil) continue;
      const rate = hostRateAt(state, 1_000, now, policy);
      for (let sends = Math.floor((now * rate) / 1000) - Math.floor(((now - 1) * rate) / 1000); sends > 0; sends--) {
        if (tokens >= 1) tokens--;
        else if (now >= pendingUntil) {
          const decision = afterRateLimited(state, { sentAt: now, retryAfterMs: 1_000, observedRate: 0 }, ctx(now));
          if (decision.next) {
            state = decision.next;
            pendingUntil = state.pausedUntil;
            episodes++;
          }
        }
      }
    }
    const final = hostRateAt(state, 1_000, 120_000, policy);
    expect(final).toBeLessThanOrEqual(510);
    expect(final).toBeGreaterThan(420);
    expect(episodes).toBeLessThan(15);
  });
});
