/* global setInterval, clearInterval */
// The benchmark scenarios of issue 3. a-c: `staplewarm worker` + `staplewarm warm --no-work` against
// the simulator; d: `staplewarm warm` against `openssl ocsp` run 16 at a time.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hostQueueName } from '@staplewarm/queue';
import { Queue } from 'bullmq';
import { opensslWarm, recheckStaples } from './openssl.js';
import { cpuMs, freePort, peakRssBytes, runStaplewarm, sleep, startSimulator, startWorker } from './services.js';

const PREFIX = 'bench:';

export const SCENARIOS = {
  a: { title: '(a) --rate 500 against a responder limited to 500 req/s, latency 20 ms', rate: 500, sim: { rate: 500, latencyMs: 20 } },
  b: {
    title: '(b) --rate 1000 against a responder limited to 500 req/s (429 storm), latency 20 ms',
    rate: 1000,
    sim: { rate: 500, latencyMs: 20 },
  },
  c: { title: '(c) no rate limit, latency 0: raw pipeline throughput', rate: 0, sim: { rate: 0, latencyMs: 0 }, pipelineOnly: true },
};

/**
 * One of a-c, from an empty Redis. a and b time what an operator runs: `warm --no-work` (scan and
 * fetch overlapping) with a worker already running. c measures the pipeline alone (queue, HTTP,
 * verify, Redis write, and `warm` following the jobs): the worker starts once every job is queued,
 * and the rate is the simulator's requests from the first to the last.
 */
export async function runQueueScenario(key, { redis, pki, out, profile, log }) {
  const scenario = SCENARIOS[key];
  await redis.client.flushall();
  const memoryBefore = await redis.usedMemory();
  log(`${scenario.title}: starting the simulator (${pki.count} responses signed before it listens)`);
  const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port, ...scenario.sim });
  const newWorker = async () =>
    startWorker({
      redisUrl: redis.url,
      prefix: PREFIX,
      rate: scenario.rate,
      metricsPort: await freePort(),
      profileDir: profile ? join(out, `profile-${key}`) : undefined,
    });
  let worker = scenario.pipelineOnly ? undefined : await newWorker();
  const cpuBefore = { worker: worker ? cpuMs(worker.pid) : 0, sim: cpuMs(sim.pid), redis: cpuMs(redis.pid) };
  // The simulator's host queue: every certificate of the PKI names it.
  const queue = new Queue(hostQueueName(`127.0.0.1:${pki.port}`), { connection: redis.client, prefix: `${PREFIX}bull` });
  try {
    log(`${scenario.title}: warm --no-work ${pki.count} certificates`);
    // The simulator's request count over time.
    const samples = [];
    const spawnedAt = performance.now();
    const sampler = setInterval(() => {
      sim.stats().then(
        (stats) => samples.push({ at: performance.now() - spawnedAt, requests: stats.requests }),
        () => {},
      );
    }, 100);
    let warm;
    try {
      const running = runStaplewarm([
        'warm',
        '--no-work',
        '--certs',
        pki.live,
        '--redis',
        redis.url,
        '--prefix',
        PREFIX,
        '--rate',
        String(scenario.rate),
        '--json',
      ]);
      if (scenario.pipelineOnly) {
        let exited = false; // a warm that fails before queueing everything must not hang the bench
        running.then(
          () => (exited = true),
          () => (exited = true),
        );
        while (!exited && (await queue.getWaitingCount()) < pki.count) await sleep(100);
        log(`${scenario.title}: ${pki.count} jobs queued; starting the worker`);
        worker = await newWorker();
      }
      warm = await running;
    } finally {
      clearInterval(sampler);
    }
    const cpu = {
      worker: cpuMs(worker.pid) - cpuBefore.worker, // c: the worker's whole life, start-up included
      sim: cpuMs(sim.pid) - cpuBefore.sim,
      redis: cpuMs(redis.pid) - cpuBefore.redis,
      warm: warm.cpuMs,
    };
    const workerPeakRss = peakRssBytes(worker.pid);
    const stats = await sim.stats();
    const jobsLeft = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    const memoryAfter = await redis.usedMemory();
    const recheck = await recheckStaples({ redis: redis.client, prefix: PREFIX, pki, sample: 50, workDir: join(out, `recheck-${key}`) });
    const { summary } = warm;
    const stored = summary.stored.good + summary.stored.revoked;
    const floorRate = scenario.sim.rate > 0 ? Math.min(scenario.sim.rate, scenario.rate || Infinity) : 0;
    return {
      scenario: key,
      title: scenario.title,
      certificates: pki.count,
      rate: scenario.rate,
      simulator: scenario.sim,
      floorSeconds: floorRate ? pki.count / floorRate : null,
      fetchSeconds: summary.fetchSeconds,
      totalSeconds: warm.wallMs / 1000,
      startSeconds: warm.wallMs / 1000 - summary.fetchSeconds,
      scanSeconds: summary.scanSeconds,
      pipeline: scenario.pipelineOnly ? pipelineRate(samples, stats.requests) : null,
      stored,
      failed: summary.failed,
      complete: summary.complete,
      requests: stats.requests,
      answered429: stats.byOutcome.rateLimited,
      staplesPerSecond: stored / summary.fetchSeconds,
      requestsPerSecond: stats.requests / summary.fetchSeconds,
      recheck,
      workerPeakRssBytes: workerPeakRss,
      redisBytesPerStaple: (memoryAfter - memoryBefore) / pki.count,
      jobsLeft,
      cpuMs: cpu,
    };
  } finally {
    await queue.close();
    await worker?.stop();
    await sim.stop();
  }
}

/** Requests per second from the first request the simulator saw to the last (sampled every 100 ms). */
function pipelineRate(samples, totalRequests) {
  const first = samples.find((s) => s.requests > 0);
  const last = samples.find((s) => s.requests >= totalRequests) ?? samples.at(-1);
  if (!first || !last || last.at <= first.at) return null;
  const seconds = (last.at - first.at) / 1000;
  return { seconds, requests: last.requests - first.requests, rate: (last.requests - first.requests) / seconds };
}

/**
 * d: the same certificates warmed by staplewarm and by openssl -P16. staplewarm runs two ways: the one
 * command a user types (`staplewarm warm`: one process, so one core, start-up included), and as
 * deployed (a `staplewarm worker` already running, `warm --no-work` timed), which uses both cores.
 * Each runs `rounds` times after one untimed warm-up of all three (the simulator, a stand-in for the
 * CA, and the long-running worker are past their JIT warm-up then); the medians are compared.
 */
export async function runPeerScenario({ redis, pki, out, log, rounds = 3 }) {
  const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port, rate: 0, latencyMs: 20 });
  const worker = await startWorker({ redisUrl: redis.url, prefix: PREFIX, rate: 0, metricsPort: await freePort() });
  const warmArgs = ['--certs', pki.live, '--redis', redis.url, '--prefix', PREFIX, '--rate', '0', '--json'];
  const runs = { single: [], deployed: [], openssl: [] };
  try {
    for (let round = 0; round <= rounds; round++) {
      const timed = round > 0;
      log(`(d) ${timed ? `round ${round} of ${rounds}` : 'warm-up round'}: ${pki.count} certificates`);
      // Only the staples go between runs: the worker's queue keys stay, as in production.
      await deleteStaples(redis.client);
      const single = await runStaplewarm(['warm', ...warmArgs]);
      await deleteStaples(redis.client);
      const deployed = await runStaplewarm(['warm', '--no-work', ...warmArgs]);
      const peer = await opensslWarm({ pki, url: sim.url, parallel: 16, outDir: join(out, 'openssl-responses') });
      if (!timed) continue;
      runs.single.push(single);
      runs.deployed.push(deployed);
      runs.openssl.push(peer);
    }
  } finally {
    await worker.stop();
    await sim.stop();
  }
  const stored = (run) => run.summary.stored.good + run.summary.stored.revoked;
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const summary = (list) => ({
    seconds: median(list.map((r) => r.wallMs / 1000)),
    fetchSeconds: median(list.map((r) => r.summary.fetchSeconds)),
    stored: Math.min(...list.map(stored)),
    allSeconds: list.map((r) => r.wallMs / 1000),
  });
  const single = summary(runs.single);
  const deployed = summary(runs.deployed);
  const openssl = {
    seconds: median(runs.openssl.map((r) => r.wallMs / 1000)),
    answered: Math.min(...runs.openssl.map((r) => r.answered)),
    allSeconds: runs.openssl.map((r) => r.wallMs / 1000),
  };
  return {
    scenario: 'd',
    title: `(d) the same certificates: staplewarm vs openssl ocsp run 16 at a time (xargs -P16), latency 20 ms, no rate limit; medians of ${rounds} rounds after a warm-up round`,
    certificates: pki.count,
    rounds,
    staplewarm: single,
    deployed,
    openssl,
    speedup: openssl.seconds / single.seconds,
    deployedSpeedup: openssl.seconds / deployed.seconds,
  };
}

/** Deletes every key under the bench prefix except BullMQ's (`<prefix>bull:*`). */
async function deleteStaples(client) {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    const staples = keys.filter((key) => !key.startsWith(`${PREFIX}bull:`));
    if (staples.length > 0) await client.del(...staples);
  } while (cursor !== '0');
}
