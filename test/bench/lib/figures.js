/* global setInterval, clearInterval */
// Figures read from Redis and the simulators after (or while) a scenario runs, shared by the scenarios.
import { performance } from 'node:perf_hooks';
import { StapleQueue } from '@staplewarm/queue';

/** The benchmark's key prefix (the Redis contract's keys are `bench:staple:*`, BullMQ's `bench:bull:*`). */
export const PREFIX = 'bench:';

/** Staple keys actually in Redis (`<prefix>staple:*`), counted with SCAN: "every staple arrived". */
export async function countStaples(client, prefix = PREFIX) {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}staple:*`, 'COUNT', 5000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

/** Jobs left in every host queue (the registry names them), by state. */
export async function jobsLeft(client, prefix = PREFIX) {
  const queue = new StapleQueue({ connection: client, prefix: `${prefix}bull` });
  try {
    return await queue.jobCounts();
  } finally {
    await queue.close();
  }
}

export const totalJobs = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Samples each simulator's request and 429 counts every `everyMs` from now. `stop()` returns the
 * samples ({ at: ms since start, requests: [per simulator], limited: [per simulator] }).
 */
export function sampleSimulators(sims, everyMs = 250) {
  const started = performance.now();
  const samples = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    Promise.all(sims.map((sim) => sim.stats()))
      .then(
        (stats) =>
          samples.push({
            at: performance.now() - started,
            requests: stats.map((s) => s.requests),
            limited: stats.map((s) => s.byOutcome.rateLimited),
          }),
        () => {},
      )
      .finally(() => (busy = false));
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}

/**
 * For simulator `i`: seconds (from the start of sampling) of the first sample that saw a request
 * beyond `base` and of the first that saw all of them, or null.
 */
export function servedWindow(samples, i, base, total) {
  const first = samples.find((s) => s.requests[i] > base);
  const last = samples.find((s) => s.requests[i] >= total);
  return { fromSeconds: first ? first.at / 1000 : null, toSeconds: last ? last.at / 1000 : null };
}

/** Longest stretch (s) between two samples in which the simulators together answered no request. */
export function longestGapSeconds(samples) {
  let longest = 0;
  let since = null;
  for (let i = 1; i < samples.length; i++) {
    const sum = (s) => s.requests.reduce((a, b) => a + b, 0);
    if (sum(samples[i]) === sum(samples[i - 1])) since ??= samples[i - 1].at;
    else if (since !== null) {
      longest = Math.max(longest, samples[i - 1].at - since);
      since = null;
    }
  }
  return longest / 1000;
}

/**
 * Samples the job counts of every host queue every `everyMs` from now (a connection of its own, so
 * a Redis restart only loses samples). `stop()` returns { at: ms since start, ...counts }[].
 */
export function sampleJobs(client, everyMs = 500, prefix = PREFIX) {
  const started = performance.now();
  const samples = [];
  const queue = new StapleQueue({ connection: client, prefix: `${prefix}bull` });
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const at = performance.now() - started;
    queue
      .jobCounts()
      .then(
        (counts) => samples.push({ at, ...counts }),
        () => {},
      )
      .finally(() => (busy = false));
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await queue.close().catch(() => {});
      return samples;
    },
  };
}

/**
 * The longest stretch of job samples in which jobs were active and none waiting (waiting, delayed
 * and prioritized all 0): after a worker dies, its locked jobs sit like this until they are found
 * stalled. Returns { seconds, fromSeconds, toSeconds, active } (active: the most seen), or null.
 */
export function longestActiveOnly(samples) {
  let best = null;
  let run = null;
  for (const sample of samples) {
    const onlyActive = sample.active > 0 && sample.waiting + sample.delayed + sample.prioritized === 0;
    if (onlyActive) {
      run ??= { from: sample.at, active: 0 };
      run.to = sample.at;
      run.active = Math.max(run.active, sample.active);
      if (!best || run.to - run.from > best.to - best.from) best = { ...run };
    } else run = null;
  }
  return best && { seconds: (best.to - best.from) / 1000, fromSeconds: best.from / 1000, toSeconds: best.to / 1000, active: best.active };
}
