import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REFRESH_POLICY as policy,
  fingerprintJitter,
  needsFetch,
  nextAttemptAt,
  refreshDueAt,
  refreshPolicyProblems,
  retryDelayAfter,
  settleAttempt,
  type StapleState,
} from './schedule.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 23);
const fp = (i: number | string): string => createHash('sha256').update(String(i)).digest('hex');
const stapled = (thisUpdate: number, validity = 7 * DAY): StapleState => ({
  hasStaple: true,
  thisUpdate: new Date(thisUpdate),
  nextUpdate: new Date(thisUpdate + validity),
});

describe('refresh point', () => {
  it('lies in [1/2, 3/4] of the validity window, fixed per fingerprint', () => {
    const state = stapled(T0);
    for (let i = 0; i < 1_000; i++) {
      const due = refreshDueAt(state, fp(i)) ?? 0;
      expect(due).toBeGreaterThanOrEqual(T0 + 3.5 * DAY);
      expect(due).toBeLessThan(T0 + 5.25 * DAY);
      expect(refreshDueAt(state, fp(i))).toBe(due);
    }
    expect(refreshDueAt(state, '00000000'.padEnd(64, 'a'))).toBe(T0 + 3.5 * DAY);
    expect(refreshDueAt(state, 'ffffffff'.padEnd(64, 'a'))).toBeCloseTo(T0 + 5.25 * DAY, -3);
  });

  it('is never later than nextUpdate minus the safety margin', () => {
    const late = { ...policy, windowStart: 0.995, windowEnd: 0.999 };
    expect(refreshDueAt(stapled(T0), fp(1), late)).toBe(T0 + 7 * DAY - HOUR);
    // a short window keeps nine tenths of its life: the margin is at most a tenth of it
    expect(refreshDueAt(stapled(T0, 10 * MINUTE), fp(1), late)).toBe(T0 + 9 * MINUTE);
  });

  it('fetches what is missing, unreadable or past its refresh point, and nothing else', () => {
    const state = stapled(T0);
    const due = refreshDueAt(state, fp(7)) ?? 0;
    expect(needsFetch(undefined, T0, fp(7))).toBe(true);
    expect(needsFetch({ ...state, hasStaple: false }, T0, fp(7))).toBe(true);
    expect(needsFetch({ hasStaple: true }, T0, fp(7))).toBe(true);
    expect(needsFetch({ ...state, nextUpdate: state.thisUpdate }, T0, fp(7))).toBe(true);
    expect(needsFetch(state, due - 1, fp(7))).toBe(false);
    expect(needsFetch(state, due, fp(7))).toBe(true);
  });

  it('re-fetches 50,000 staples fetched within one minute at a smooth rate, cycle after cycle', () => {
    const count = 50_000;
    const fps = Array.from({ length: count }, (_, i) => fp(i));
    let fetchedAt = fps.map((_, i) => T0 + Math.floor((i * MINUTE) / count));
    for (let cycle = 0; cycle < 3; cycle++) {
      // The responder signs at fetch time; each refresh becomes the next fetch.
      fetchedAt = fps.map((f, i) => refreshDueAt(stapled(fetchedAt[i] ?? 0), f) ?? 0);
      const perMinute = new Map<number, number>();
      for (const at of fetchedAt) perMinute.set(Math.floor(at / MINUTE), (perMinute.get(Math.floor(at / MINUTE)) ?? 0) + 1);
      const spanMinutes = (Math.max(...fetchedAt) - Math.min(...fetchedAt)) / MINUTE;
      // The first cycle spreads over a quarter of the window (1.75 days), later ones keep the spread.
      expect(spanMinutes).toBeGreaterThan(0.25 * 7 * 24 * 60 - 5);
      const mean = count / spanMinutes; // ~20 a minute instead of 50,000 in one
      expect(Math.max(...perMinute.values())).toBeLessThan(3 * mean);
      const perHour = new Map<number, number>();
      for (const at of fetchedAt) perHour.set(Math.floor(at / HOUR), (perHour.get(Math.floor(at / HOUR)) ?? 0) + 1);
      const full = [...perHour.entries()]
        .sort((a, b) => a[0] - b[0])
        .slice(1, -1)
        .map(([, n]) => n);
      for (const n of full) expect(Math.abs(n - mean * 60)).toBeLessThan(0.15 * mean * 60);
    }
  });
});

describe('retries', () => {
  it('back off exponentially, capped lower while no staple is stored', () => {
    const noJitter = 'ffffffff'.padEnd(64, '0'); // part 1 = 0: the fixed half of each step
    const missing = { hasStaple: false };
    const delays = [1, 2, 3, 4, 5, 6].map((streak) => retryDelayAfter(streak, T0, missing, noJitter));
    expect(delays).toEqual([30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
    const far = stapled(T0);
    expect([1, 2, 6, 7, 20].map((streak) => retryDelayAfter(streak, T0 + 4 * DAY, far, noJitter))).toEqual([
      30_000, 60_000, 960_000, 1_800_000, 1_800_000,
    ]);
  });

  it('come more often as nextUpdate nears, and never sooner than retryMinMs', () => {
    const state = stapled(T0);
    const f = fp('near');
    const end = T0 + 7 * DAY;
    const gaps = [8 * HOUR, 2 * HOUR, 30 * MINUTE, 5 * MINUTE, 0].map((left) => retryDelayAfter(10, end - left, state, f));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeLessThanOrEqual(gaps[i - 1] ?? 0);
    expect(gaps[2]).toBeLessThanOrEqual(30 * MINUTE * policy.retryShareOfRemaining);
    expect(gaps.at(-1)).toBe(policy.retryMinMs);
  });

  it('spread certificates that fail together', () => {
    const delays = new Set(Array.from({ length: 200 }, (_, i) => retryDelayAfter(4, T0, { hasStaple: false }, fp(i))));
    expect(delays.size).toBeGreaterThan(150);
    expect(fingerprintJitter(fp(1), 0)).not.toBe(fingerprintJitter(fp(1), 1));
  });
});

describe('attempt records', () => {
  const f = fp('record');
  const state = stapled(T0);
  const due = refreshDueAt(state, f) ?? 0;

  it('count attempts that leave the staple due, and restart after a useful one', () => {
    const first = settleAttempt(undefined, due + 1, state, f);
    expect(first).toEqual({ at: due + 1, streak: 1 });
    const second = settleAttempt(first, due + MINUTE, state, f);
    expect(second.streak).toBe(2);
    expect(settleAttempt(second, due + 2 * MINUTE, stapled(due + MINUTE), f)).toEqual({ at: due + 2 * MINUTE, streak: 0 });
  });

  it('schedule the refresh point after a useful attempt, the retry after a useless one', () => {
    expect(nextAttemptAt(state, undefined, f)).toBe(due);
    expect(nextAttemptAt(state, { at: T0 + MINUTE, streak: 0 }, f)).toBe(due);
    expect(nextAttemptAt(undefined, undefined, f)).toBe(0); // never fetched: now
    // the staple vanished (evicted) after a useful attempt: now, but after that attempt
    expect(nextAttemptAt({ hasStaple: false }, { at: T0 + MINUTE, streak: 0 }, f)).toBe(T0 + MINUTE + 1);
    const retry = nextAttemptAt(state, { at: due + 5, streak: 3 }, f);
    expect(retry).toBe(due + 5 + retryDelayAfter(3, due + 5, state, f));
    // someone else refreshed it since: back to its refresh point
    const fresher = stapled(due + HOUR);
    expect(nextAttemptAt(fresher, { at: due + 5, streak: 3 }, f)).toBe(refreshDueAt(fresher, f));
  });

  it('never wait past the safety point while it is still ahead', () => {
    const latest = T0 + 7 * DAY - HOUR;
    const at = latest - 10 * MINUTE; // a quarter of the time left would overshoot it
    expect(nextAttemptAt(state, { at, streak: 9 }, f)).toBe(latest);
    expect(nextAttemptAt(state, { at: latest + MINUTE, streak: 9 }, f)).toBeGreaterThanOrEqual(latest + MINUTE + policy.retryMinMs);
  });

  it('with an injected clock, an outage gets ever closer attempts until expiry, then steady ones', () => {
    // The responder fails from the refresh point on; the staple expires at nextUpdate.
    const end = T0 + 7 * DAY;
    let last: { at: number; streak: number } | undefined;
    let now = nextAttemptAt(state, last, f);
    const attempts: number[] = [];
    while (now < end + 2 * HOUR) {
      attempts.push(now);
      const current = now < end ? state : { hasStaple: false }; // the key expires by TTL
      last = settleAttempt(last, now, current, f);
      now = nextAttemptAt(current, last, f);
      expect(now).toBeGreaterThanOrEqual(last.at + policy.retryMinMs);
    }
    const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(policy.retryMaxMs);
    const before = attempts.filter((at) => at < end - HOUR);
    const inLastHour = attempts.filter((at) => at >= end - HOUR && at < end);
    const afterExpiry = attempts.filter((at) => at >= end);
    expect(inLastHour.length).toBeGreaterThanOrEqual(4);
    expect(inLastHour.length).toBeLessThan(30);
    // Bounded load on a dead responder: on average at least half of retryMaxMs apart, after a short ramp.
    const outage = end - HOUR - (attempts[0] ?? 0);
    expect(before.length).toBeLessThan(outage / (policy.retryMaxMs / 2) + 10);
    const expiredGaps = afterExpiry.slice(1).map((at, i) => at - (afterExpiry[i] ?? 0));
    for (const gap of expiredGaps) expect(gap).toBeLessThanOrEqual(policy.missingRetryMaxMs);
  });
});

describe('refreshPolicyProblems', () => {
  it('accepts the default and names what is wrong otherwise', () => {
    expect(refreshPolicyProblems(policy)).toEqual([]);
    expect(refreshPolicyProblems({ ...policy, windowStart: 0.8 })).toHaveLength(1);
    expect(refreshPolicyProblems({ ...policy, retryMinMs: 0 })[0]).toMatch(/loop/);
  });
});
