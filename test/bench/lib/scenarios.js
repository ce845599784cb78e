// The benchmark scenarios of issues 3 and 13 that use one simulator. a, b: `staplewarm worker` +
// `staplewarm warm --no-work` against the simulator's rate limit; c: one `staplewarm warm` process,
// no limit, end to end; d: `staplewarm warm` against `openssl ocsp` run 16 at a time.
import { join } from 'node:path';
import { PREFIX, countStaples, jobsLeft } from './figures.js';
import { opensslWarm, recheckStaples } from './openssl.js';
import { cpuMs, freePort, peakRssBytes, runBarePipeline, runStaplewarm, startSimulator, startWorker } from './services.js';

/** The bare pipeline's keys (c, d), apart from staplewarm's: its staples are never counted as theirs. */
const BARE_PREFIX = 'benchbare:';

export const SCENARIOS = {
  a: { title: '(a) --rate 500 against a responder limited to 500 req/s, latency 20 ms', rate: 500, sim: { rate: 500, latencyMs: 20 } },
  b: {
    // Each host has a 500/s budget by default: the storm needs the host's budget raised to 1000 too.
    title: '(b) --rate 1000 --host-rate <simulator>=1000 against a responder limited to 500 req/s (429 storm), latency 20 ms',
    rate: 1000,
    hostRate: 1000,
    sim: { rate: 500, latencyMs: 20 },
  },
};

/**
 * a or b, from an empty Redis: what an operator runs, `warm --no-work` (scan and fetch overlapping)
 * timed whole, with a `staplewarm worker` already running. Both get the same budgets.
 */
export async function runQueueScenario(key, { redis, pki, out, profile, log }) {
  const scenario = SCENARIOS[key];
  await redis.client.flushall();
  const memoryBefore = await redis.usedMemory();
  log(`${scenario.title}: starting the simulator (${pki.count} responses signed before it listens)`);
  const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port, ...scenario.sim });
  const host = `127.0.0.1:${pki.port}`;
  const hostRates = scenario.hostRate ? [`${host}=${scenario.hostRate}`] : [];
  const worker = await startWorker({
    redisUrl: redis.url,
    prefix: PREFIX,
    rate: scenario.rate,
    hostRates,
    metricsPort: await freePort(),
    profileDir: profile ? join(out, `profile-${key}`) : undefined,
  });
  const cpuBefore = { worker: cpuMs(worker.pid), sim: cpuMs(sim.pid), redis: cpuMs(redis.pid) };
  try {
    log(`${scenario.title}: warm --no-work ${pki.count} certificates`);
    const budgets = ['--rate', String(scenario.rate), ...hostRates.flatMap((entry) => ['--host-rate', entry])];
    const warm = await runStaplewarm([
      'warm',
      '--no-work',
      '--certs',
      pki.live,
      '--redis',
      redis.url,
      '--prefix',
      PREFIX,
      ...budgets,
      '--json',
    ]);
    const cpu = {
      worker: cpuMs(worker.pid) - cpuBefore.worker,
      sim: cpuMs(sim.pid) - cpuBefore.sim,
      redis: cpuMs(redis.pid) - cpuBefore.redis,
      warm: warm.cpuMs,
    };
    const workerPeakRss = peakRssBytes(worker.pid);
    const stats = await sim.stats();
    const left = await jobsLeft(redis.client);
    const memoryAfter = await redis.usedMemory();
    const staplesInRedis = await countStaples(redis.client);
    const recheck = await recheckStaples({ redis: redis.client, prefix: PREFIX, pki, sample: 50, workDir: join(out, `recheck-${key}`) });
    const { summary } = warm;
    const stored = summary.stored.good + summary.stored.revoked;
    const floorRate = Math.min(scenario.sim.rate, scenario.rate || Infinity);
    return {
      scenario: key,
      title: scenario.title,
      certificates: pki.count,
      rate: scenario.rate,
      hostRates,
      simulator: scenario.sim,
      floorSeconds: pki.count / floorRate,
      fetchSeconds: summary.fetchSeconds,
      totalSeconds: warm.wallMs / 1000,
      startSeconds: warm.wallMs / 1000 - summary.fetchSeconds,
      scanSeconds: summary.scanSeconds,
      stored,
      staplesInRedis,
      failed: summary.failed,
      complete: summary.complete,
      requests: stats.requests,
      answered429: stats.byOutcome.rateLimited,
      staplesPerSecond: stored / summary.fetchSeconds,
      requestsPerSecond: stats.requests / summary.fetchSeconds,
      recheck,
      workerPeakRssBytes: workerPeakRss,
      warmPeakRssBytes: warm.peakRssBytes,
      redisBytesPerStaple: (memoryAfter - memoryBefore) / pki.count,
      jobsLeft: left,
      cpuMs: cpu,
    };
  } finally {
    await worker.stop();
    await sim.stop();
  }
}

/** c: what a user runs against a responder with no limit. */
export const RAW_SCENARIO = {
  title:
    '(c) raw throughput: one `staplewarm warm --rate 0 --default-host-rate 0` process (in-process workers), no limit, latency 0, end to end',
  sim: { rate: 0, latencyMs: 0 },
};

/**
 * c, from an empty Redis: one `staplewarm warm` process does everything (Node start-up, scan, queue,
 * fetch, verify, store, follow), no budget anywhere, timed whole from spawn to exit. The target is
 * judged on certificates / that wall time; the fetch phase's rate is reported beside it, labelled.
 */
export async function runRawScenario({ redis, pki, out, log }) {
  const { title, sim: simOptions } = RAW_SCENARIO;
  await redis.client.flushall();
  const memoryBefore = await redis.usedMemory();
  log(`${title}: starting the simulator (${pki.count} responses signed before it listens)`);
  const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port, ...simOptions });
  const cpuBefore = { sim: cpuMs(sim.pid), redis: cpuMs(redis.pid) };
  try {
    log(`${title}: warm ${pki.count} certificates`);
    const warm = await runStaplewarm([
      'warm',
      '--certs',
      pki.live,
      '--redis',
      redis.url,
      '--prefix',
      PREFIX,
      '--rate',
      '0',
      '--default-host-rate',
      '0',
      '--json',
    ]);
    const cpu = { warm: warm.cpuMs, sim: cpuMs(sim.pid) - cpuBefore.sim, redis: cpuMs(redis.pid) - cpuBefore.redis };
    const stats = await sim.stats();
    const left = await jobsLeft(redis.client);
    const memoryAfter = await redis.usedMemory();
    const staplesInRedis = await countStaples(redis.client);
    const recheck = await recheckStaples({ redis: redis.client, prefix: PREFIX, pki, sample: 50, workDir: join(out, 'recheck-c') });
    // Right after, on the same simulator: the bare pipeline, the least work a warm-up does (a ceiling
    // for this machine, not a peer a user could run), so the two are compared within one run.
    log(`${title}: the bare pipeline over the same ${pki.count} certificates`);
    const cpuBeforeBare = { sim: cpuMs(sim.pid), redis: cpuMs(redis.pid) };
    const bareRun = await runBarePipeline({ live: pki.live, redisUrl: redis.url, prefix: BARE_PREFIX });
    const bare = {
      seconds: bareRun.wallMs / 1000,
      rate: pki.count / (bareRun.wallMs / 1000),
      stored: bareRun.summary.stored,
      cpuMs: { bare: bareRun.cpuMs, sim: cpuMs(sim.pid) - cpuBeforeBare.sim, redis: cpuMs(redis.pid) - cpuBeforeBare.redis },
    };
    const { summary } = warm;
    const stored = summary.stored.good + summary.stored.revoked;
    const totalSeconds = warm.wallMs / 1000;
    return {
      scenario: 'c',
      title,
      certificates: pki.count,
      simulator: simOptions,
      totalSeconds,
      endToEndRate: pki.count / totalSeconds,
      scanSeconds: summary.scanSeconds,
      fetchSeconds: summary.fetchSeconds,
      fetchRate: stored / summary.fetchSeconds,
      stored,
      staplesInRedis,
      failed: summary.failed,
      complete: summary.complete,
      exitCode: warm.code,
      requests: stats.requests,
      answered429: stats.byOutcome.rateLimited,
      recheck,
      warmPeakRssBytes: warm.peakRssBytes,
      redisBytesPerStaple: (memoryAfter - memoryBefore) / pki.count,
      jobsLeft: left,
      cpuMs: cpu,
      bare,
    };
  } finally {
    await sim.stop();
  }
}

/**
 * d: the same certificates warmed by staplewarm and by openssl -P16. staplewarm runs two ways: the one
 * command a user types (`staplewarm warm`: one process, so one core, start-up included; under a
 * prefix of its own, so the worker kept running for the other way takes none of its jobs), and as
 * deployed (a `staplewarm worker` already running, `warm --no-work` timed), which uses both cores.
 * Each runs `rounds` times after one untimed warm-up of all three (the simulator, a stand-in for the
 * CA, and the long-running worker are past their JIT warm-up then); the medians are compared.
 */
/** (d)'s one-process `warm` runs under this prefix, which the worker running beside it does not serve. */
const SOLO_PREFIX = 'benchsolo:';

export async function runPeerScenario({ redis, pki, out, log, rounds = 3 }) {
  const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port, rate: 0, latencyMs: 20 });
  // No budget anywhere (the per-host default of 500/s would make this a rate-limit test).
  const worker = await startWorker({ redisUrl: redis.url, prefix: PREFIX, rate: 0, defaultHostRate: 0, metricsPort: await freePort() });
  const warmArgs = (prefix) => [
    '--certs',
    pki.live,
    '--redis',
    redis.url,
    '--prefix',
    prefix,
    '--rate',
    '0',
    '--default-host-rate',
    '0',
    '--json',
  ];
  const runs = { single: [], deployed: [], openssl: [], bare: [] };
  try {
    for (let round = 0; round <= rounds; round++) {
      const timed = round > 0;
      log(`(d) ${timed ? `round ${round} of ${rounds}` : 'warm-up round'}: ${pki.count} certificates`);
      // Only the staples go between runs: the worker's queue keys stay, as in production.
      // The one-process run under a prefix of its own: the running worker cannot take its jobs.
      await deleteStaples(redis.client, SOLO_PREFIX);
      const single = await runStaplewarm(['warm', ...warmArgs(SOLO_PREFIX)]);
      await deleteStaples(redis.client, PREFIX);
      const deployed = await runStaplewarm(['warm', '--no-work', ...warmArgs(PREFIX)]);
      const peer = await opensslWarm({ pki, url: sim.url, parallel: 16, outDir: join(out, 'openssl-responses') });
      await deleteStaples(redis.client, BARE_PREFIX);
      const bare = await runBarePipeline({ live: pki.live, redisUrl: redis.url, prefix: BARE_PREFIX });
      if (!timed) continue;
      runs.single.push(single);
      runs.deployed.push(deployed);
      runs.openssl.push(peer);
      runs.bare.push(bare);
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
  const bare = {
    seconds: median(runs.bare.map((r) => r.wallMs / 1000)),
    stored: Math.min(...runs.bare.map((r) => r.summary.stored)),
    allSeconds: runs.bare.map((r) => r.wallMs / 1000),
  };
  return {
    scenario: 'd',
    title: `(d) the same certificates: staplewarm (--rate 0 --default-host-rate 0) vs openssl ocsp run 16 at a time (xargs -P16), latency 20 ms, no rate limit; medians of ${rounds} rounds after a warm-up round`,
    certificates: pki.count,
    rounds,
    staplewarm: single,
    deployed,
    openssl,
    bare,
    bareSpeedup: openssl.seconds / bare.seconds,
    speedup: openssl.seconds / single.seconds,
    deployedSpeedup: openssl.seconds / deployed.seconds,
  };
}

/** Deletes every key under `prefix` except BullMQ's (`<prefix>bull:*`). */
async function deleteStaples(client, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    const staples = keys.filter((key) => !key.startsWith(`${prefix}bull:`));
    if (staples.length > 0) await client.del(...staples);
  } while (cursor !== '0');
}
