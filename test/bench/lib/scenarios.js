// The benchmark scenarios of issue 3. a-c: `staplewarm worker` + `staplewarm warm --no-work` against
// the simulator; d: `staplewarm warm` against `openssl ocsp` run 16 at a time.
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { opensslWarm, recheckStaples } from './openssl.js';
import { cpuMs, freePort, peakRssBytes, runStaplewarm, startSimulator, startWorker } from './services.js';

const PREFIX = 'bench:';

export const SCENARIOS = {
  a: { title: '(a) --rate 500 against a responder limited to 500 req/s, latency 20 ms', rate: 500, sim: { rate: 500, latencyMs: 20 } },
  b: { title: '(b) --rate 1000 against a responder limited to 500 req/s (429 storm), latency 20 ms', rate: 1000, sim: { rate: 500, latencyMs: 20 } },
  c: { title: '(c) no rate limit, latency 0: raw pipeline throughput', rate: 0, sim: { rate: 0, latencyMs: 0 } },
};

/** One of a-c, from an empty Redis. */
export async function runQueueScenario(key, { redis, pki, out, profile, log }) {
  const scenario = SCENARIOS[key];
  await redis.client.flushall();
  const memoryBefore = await redis.usedMemory();
  log(`${scenario.title}: starting the simulator (${pki.count} responses signed before it listens)`);
  const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port, ...scenario.sim });
  const worker = await startWorker({
    redisUrl: redis.url,
    prefix: PREFIX,
    rate: scenario.rate,
    metricsPort: await freePort(),
    profileDir: profile ? join(out, `profile-${key}`) : undefined,
  });
  const cpuBefore = { worker: cpuMs(worker.pid), sim: cpuMs(sim.pid), redis: cpuMs(redis.pid) };
  try {
    log(`${scenario.title}: warm --no-work ${pki.count} certificates`);
    const warm = await runStaplewarm(['warm', '--no-work', '--certs', pki.live, '--redis', redis.url, '--prefix', PREFIX, '--rate', String(scenario.rate), '--json']);
    const cpu = {
      worker: cpuMs(worker.pid) - cpuBefore.worker,
      sim: cpuMs(sim.pid) - cpuBefore.sim,
      redis: cpuMs(redis.pid) - cpuBefore.redis,
      warm: warm.cpuMs,
    };
    const workerPeakRss = peakRssBytes(worker.pid);
    const stats = await sim.stats();
    const queue = new Queue('staple', { connection: redis.client, prefix: `${PREFIX}bull` });
    const jobsLeft = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    await queue.close();
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
      scanSeconds: summary.elapsedSeconds - summary.fetchSeconds,
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
    await worker.stop();
    await sim.stop();
  }
}

/**
 * d: the same certificates warmed by staplewarm and by openssl -P16. staplewarm runs two ways: the one
 * command a user types (`staplewarm warm`: one process, so one core, start-up included), and as
 * deployed (a `staplewarm worker` already running, `warm --no-work` timed), which uses both cores.
 */
export async function runPeerScenario({ redis, pki, out, log }) {
  const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port, rate: 0, latencyMs: 20 });
  try {
    await redis.client.flushall();
    log(`(d) staplewarm warm ${pki.count} certificates (scan, fetch, verify, store; one process)`);
    const single = await runStaplewarm(['warm', '--certs', pki.live, '--redis', redis.url, '--prefix', PREFIX, '--rate', '0', '--json']);
    await redis.client.flushall();
    log(`(d) staplewarm worker + warm --no-work ${pki.count} certificates`);
    const worker = await startWorker({ redisUrl: redis.url, prefix: PREFIX, rate: 0, metricsPort: await freePort() });
    let deployed;
    try {
      deployed = await runStaplewarm(['warm', '--no-work', '--certs', pki.live, '--redis', redis.url, '--prefix', PREFIX, '--rate', '0', '--json']);
    } finally {
      await worker.stop();
    }
    log(`(d) openssl ocsp, 16 at a time, ${pki.count} certificates`);
    const peer = await opensslWarm({ pki, url: sim.url, parallel: 16, outDir: join(out, 'openssl-responses') });
    const stored = (run) => run.summary.stored.good + run.summary.stored.revoked;
    return {
      scenario: 'd',
      title: '(d) the same certificates: staplewarm vs openssl ocsp run 16 at a time (xargs -P16), latency 20 ms, no rate limit',
      certificates: pki.count,
      staplewarm: { seconds: single.wallMs / 1000, fetchSeconds: single.summary.fetchSeconds, stored: stored(single) },
      deployed: { seconds: deployed.wallMs / 1000, fetchSeconds: deployed.summary.fetchSeconds, stored: stored(deployed) },
      openssl: { seconds: peer.wallMs / 1000, answered: peer.answered },
      speedup: peer.wallMs / single.wallMs,
      deployedSpeedup: peer.wallMs / deployed.wallMs,
    };
  } finally {
    await sim.stop();
  }
}
