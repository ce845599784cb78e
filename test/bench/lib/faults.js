// Scenario f (issue 13): faults cost seconds, not minutes. As a new user would try it by hand: a
// responder at 500 req/s and 20 ms, two `staplewarm worker` processes with the defaults and
// `staplewarm warm --no-work`; 4 s in, one worker is SIGKILLed (first run) or Redis, with AOF as in
// docker-compose.yml, is shut down and started again on the same port (second run).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  PREFIX,
  countStaples,
  jobsLeft,
  longestActiveOnly,
  longestGapSeconds,
  sampleJobs,
  sampleSimulators,
  totalJobs,
} from './figures.js';
import { recheckStaples } from './openssl.js';
import { cpuMs, freePort, sleep, spawnStaplewarm, startRedis, startSimulator, startWorker } from './services.js';

export const FAULTS = {
  simRate: 500,
  latencyMs: 20,
  workers: 2,
  /** When the fault strikes: this long after the simulator saw the first request. */
  faultAtMs: 4_000,
  /** The issue's target: a fault costs at most this over the floor. */
  allowedOverSeconds: 15,
};

const FAULT_LABEL = {
  'worker-kill': 'one of two workers SIGKILLed',
  'redis-restart': 'Redis (AOF) restarted: SHUTDOWN SAVE, then started again on the same port',
};

/** Both runs, each from an empty Redis: the bench's own for the worker kill, a private one with AOF for the restart. */
export async function runFaultScenario({ redis, pki, out, log, faults = ['worker-kill', 'redis-restart'] }) {
  const runs = [];
  for (const fault of faults) {
    if (fault === 'worker-kill') {
      await redis.client.flushall();
      runs.push(await runWithFault({ fault, redis, pki, out, log }));
    } else {
      // Persistence of our own, in a directory of our own: nothing from an earlier run is loaded.
      const aofDir = join(out, 'f-redis-aof');
      rmSync(aofDir, { recursive: true, force: true });
      mkdirSync(aofDir, { recursive: true });
      const aofRedis = await startRedis({ aofDir });
      try {
        runs.push(await runWithFault({ fault, redis: aofRedis, pki, out, log }));
      } finally {
        await aofRedis.stop();
      }
    }
  }
  return {
    scenario: 'f',
    title: `(f) faults: responder limited to ${FAULTS.simRate} req/s, latency ${FAULTS.latencyMs} ms, ${FAULTS.workers} \`staplewarm worker\` processes (defaults) + \`warm --no-work\`; the fault ${FAULTS.faultAtMs / 1000} s after the first request (mid-run)`,
    certificates: pki.count,
    floorSeconds: pki.count / FAULTS.simRate,
    runs,
  };
}

async function runWithFault({ fault, redis, pki, out, log }) {
  const label = FAULT_LABEL[fault];
  log(`(f) ${label}: starting the simulator and ${FAULTS.workers} workers`);
  const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port, rate: FAULTS.simRate, latencyMs: FAULTS.latencyMs });
  const workers = [];
  try {
    for (let i = 0; i < FAULTS.workers; i++) {
      workers.push(await startWorker({ redisUrl: redis.url, prefix: PREFIX, rate: 0, metricsPort: await freePort() }));
    }
    const workerCpuBefore = workers.map((worker) => cpuMs(worker.pid));
    const workerCpu = workers.map(() => 0);
    log(`(f) ${label}: warm --no-work ${pki.count} certificates; the fault ${FAULTS.faultAtMs / 1000} s after the first request`);
    const sampler = sampleSimulators([sim]);
    const jobSampler = sampleJobs(redis.client);
    const started = performance.now();
    const warm = spawnStaplewarm(['warm', '--no-work', '--certs', pki.live, '--redis', redis.url, '--prefix', PREFIX, '--json']);
    const strike = async (firstRequestSeconds) => {
      const at = performance.now() - started;
      const requestsAtFault = (await sim.stats()).requests;
      const when = { atSeconds: at / 1000, firstRequestSeconds, requestsAtFault };
      if (fault === 'worker-kill') {
        workerCpu[0] = cpuMs(workers[0].pid) - workerCpuBefore[0];
        const exited = new Promise((resolve) => workers[0].child.once('exit', resolve));
        workers[0].child.kill('SIGKILL');
        await exited;
        return when;
      }
      const { stoppedMs, downMs } = await redis.restart();
      return { ...when, stoppedSeconds: stoppedMs / 1000, downSeconds: downMs / 1000 };
    };
    // The fault strikes mid-run whatever the machine's load: `faultAtMs` after the simulator saw
    // the first request (on an idle machine that is ~0.5 s after warm starts), unless warm ends first.
    let finished = false;
    const striking = (async () => {
      let firstRequestSeconds = null;
      while (!finished && firstRequestSeconds === null) {
        if ((await sim.stats()).requests > 0) firstRequestSeconds = (performance.now() - started) / 1000;
        else await sleep(50);
      }
      const until = performance.now() + FAULTS.faultAtMs;
      while (!finished && performance.now() < until) await sleep(Math.max(1, Math.min(50, until - performance.now())));
      return finished ? null : strike(firstRequestSeconds);
    })();
    let result;
    let struck;
    let samples;
    let jobSamples;
    try {
      result = await warm.done;
    } finally {
      finished = true;
      struck = await striking;
      samples = sampler.stop();
      jobSamples = await jobSampler.stop();
    }
    for (const [i, worker] of workers.entries()) {
      if (fault !== 'worker-kill' || i > 0) workerCpu[i] = cpuMs(worker.pid) - workerCpuBefore[i];
    }
    const stats = await sim.stats();
    const left = await jobsLeft(redis.client);
    const staplesInRedis = await countStaples(redis.client);
    const recheck = await recheckStaples({
      redis: redis.client,
      prefix: PREFIX,
      pki,
      sample: 20,
      workDir: join(out, `recheck-f-${fault}`),
    });
    const { summary } = result;
    const stored = summary.stored.good + summary.stored.revoked;
    const totalSeconds = result.wallMs / 1000;
    const floorSeconds = pki.count / FAULTS.simRate;
    return {
      fault,
      label,
      struck,
      totalSeconds,
      floorSeconds,
      overSeconds: totalSeconds - floorSeconds,
      fetchSeconds: summary.fetchSeconds,
      longestGapSeconds: longestGapSeconds(samples),
      // Jobs active with none waiting: a dead worker's locked jobs before they are found stalled.
      activeOnly: longestActiveOnly(jobSamples),
      jobTimeline: jobSamples,
      requests: stats.requests,
      answered429: stats.byOutcome.rateLimited,
      // Requests beyond one answered per certificate: fetched again (a killed worker's jobs in flight, a lost write).
      extraRequests: stats.requests - stats.byOutcome.rateLimited - pki.count,
      stored,
      staplesInRedis,
      failed: summary.failed,
      complete: summary.complete,
      exitCode: result.code,
      recheck,
      jobsLeft: left,
      cpuMs: { warm: result.cpuMs, workers: workerCpu, sim: cpuMs(sim.pid) },
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await sim.stop();
  }
}

const n = (value, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const verdict = (ok) => (ok ? 'PASS' : 'MISS');

export function faultScenarioReport(r) {
  const lines = [r.title, `  certificates       ${n(r.certificates)}, floor ${n(r.floorSeconds, 1)} s`];
  const targets = [];
  for (const run of r.runs) {
    lines.push(`  -- ${run.label}`);
    // A run the fault never struck (warm ended first) proves nothing: both its targets are missed.
    const tried = run.struck !== null;
    const untried = tried ? '' : ' (the fault never struck)';
    const costOk = tried && run.overSeconds <= FAULTS.allowedOverSeconds;
    targets.push({ name: `(f) ${run.label}: whole run <= floor + ${FAULTS.allowedOverSeconds} s${untried}`, ok: costOk });
    const struck = run.struck
      ? `at ${n(run.struck.atSeconds, 1)} s (first request at ${n(run.struck.firstRequestSeconds, 1)} s), after ${n(run.struck.requestsAtFault)} requests${run.struck.downSeconds !== undefined ? `; Redis down ${n(run.struck.downSeconds, 2)} s (exited ${n(run.struck.stoppedSeconds, 2)} s after SHUTDOWN SAVE)` : ''}`
      : 'never (warm ended first)';
    lines.push(`  fault              ${struck}`);
    lines.push(
      `  elapsed (whole)    ${n(run.totalSeconds, 1)} s: ${n(run.overSeconds, 1)} s over the floor   [${verdict(costOk)} <= ${FAULTS.allowedOverSeconds} s over]`,
    );
    lines.push(
      `  requests           ${n(run.requests)} sent, ${n(run.answered429)} answered 429, ${n(run.extraRequests)} beyond one answer per certificate; longest stretch without a request ${n(run.longestGapSeconds, 1)} s`,
    );
    const held = run.activeOnly;
    lines.push(
      `  jobs held          ${held && held.seconds > 0 ? `up to ${n(held.active)} jobs active and none waiting for ${n(held.seconds, 1)} s (${n(held.fromSeconds, 1)}-${n(held.toSeconds, 1)} s; 500 ms samples)` : 'never active with none waiting'}`,
    );
    const jobs = totalJobs(run.jobsLeft);
    const nothingLost = tried && run.stored === r.certificates && run.staplesInRedis === r.certificates && run.complete && jobs === 0;
    targets.push({ name: `(f) ${run.label}: every staple arrived, nothing lost${untried}`, ok: nothingLost });
    lines.push(
      `  staples            ${n(run.stored)} stored, ${n(run.staplesInRedis)} staple keys in Redis, ${jobs} jobs left${Object.keys(run.failed).length ? `, failed: ${JSON.stringify(run.failed)}` : ''}; openssl -respin re-check ${run.recheck.good}/${run.recheck.checked} good   [${verdict(nothingLost)} all ${n(r.certificates)}]`,
    );
    lines.push(
      `  CPU time           warm ${n(run.cpuMs.warm / 1000, 1)} s, workers ${run.cpuMs.workers.map((ms) => n(ms / 1000, 1)).join(' / ')} s${run.fault === 'worker-kill' ? ' (the first one killed)' : ''}, simulator ${n(run.cpuMs.sim / 1000, 1)} s`,
    );
  }
  return { lines, targets };
}
