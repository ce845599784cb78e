// Scenario sizing (issue 13, opt-in): how `warm` grows with the number of certificates, to size a
// fleet of 1,000,000. At each size (50K, 100K, 200K by default) against a simulator with no limit
// and no latency (so the figures show resource growth, not a rate limit): one `staplewarm warm`
// process, then a `staplewarm worker` + `warm --no-work`; each from an empty Redis.
import { PREFIX, countStaples, jobsLeft, totalJobs } from './figures.js';
import { cpuMs, freePort, peakRssBytes, runStaplewarm, startSimulator, startWorker } from './services.js';

export const SIZING = {
  extrapolateTo: 1_000_000,
  /** A marginal cost per certificate that grows by more than this between sizes is flagged. */
  superlinearSlopeRatio: 1.25,
};

const MODES = {
  warm: 'one `staplewarm warm` process (in-process workers)',
  deployed: '`staplewarm worker` + `staplewarm warm --no-work`',
};

/** `pkis`: the cached PKI of each size, smallest first. */
export async function runSizingScenario({ redis, pkis, log, modes = ['warm', 'deployed'] }) {
  const points = [];
  for (const pki of pkis) {
    log(`(sizing) ${pki.count} certificates: starting the simulator (no limit, 0 ms; ${pki.count} responses signed first)`);
    const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port, rate: 0, latencyMs: 0 });
    try {
      for (const mode of modes) {
        await redis.client.flushall();
        const memoryBefore = await redis.usedMemory();
        const worker =
          mode === 'deployed'
            ? await startWorker({ redisUrl: redis.url, prefix: PREFIX, rate: 0, defaultHostRate: 0, metricsPort: await freePort() })
            : undefined;
        try {
          const before = { sim: cpuMs(sim.pid), redis: cpuMs(redis.pid), worker: worker ? cpuMs(worker.pid) : 0 };
          log(`(sizing) ${pki.count} certificates: ${MODES[mode]}`);
          const warm = await runStaplewarm([
            'warm',
            ...(mode === 'deployed' ? ['--no-work'] : []),
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
          const cpu = {
            warm: warm.cpuMs,
            worker: worker ? cpuMs(worker.pid) - before.worker : null,
            sim: cpuMs(sim.pid) - before.sim,
            redis: cpuMs(redis.pid) - before.redis,
          };
          const memoryAfter = await redis.usedMemory();
          const { summary } = warm;
          points.push({
            mode,
            certificates: pki.count,
            wallSeconds: warm.wallMs / 1000,
            scanSeconds: summary.scanSeconds,
            fetchSeconds: summary.fetchSeconds,
            warmPeakRssBytes: warm.peakRssBytes,
            workerPeakRssBytes: worker ? peakRssBytes(worker.pid) : null,
            redisUsedMemoryBytes: memoryAfter,
            redisBytesPerCertificate: (memoryAfter - memoryBefore) / pki.count,
            stored: summary.stored.good + summary.stored.revoked,
            staplesInRedis: await countStaples(redis.client),
            jobsLeft: totalJobs(await jobsLeft(redis.client)),
            failed: summary.failed,
            complete: summary.complete,
            cpuMs: cpu,
          });
        } finally {
          await worker?.stop();
        }
      }
    } finally {
      await sim.stop();
    }
  }
  return {
    scenario: 'sizing',
    title:
      'sizing: warm at growing sizes against a simulator with no limit and no latency (resource growth, not a rate limit); each from an empty Redis',
    sizes: pkis.map((pki) => pki.count),
    modes,
    points,
  };
}

const n = (value, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The table's rows: what is measured, and how to show it. */
const ROWS = [
  { name: 'wall time (whole run), s', get: (p) => p.wallSeconds, digits: 1 },
  { name: 'scan time (summary.scanSeconds), s', get: (p) => p.scanSeconds, digits: 1 },
  { name: 'fetching (first enqueued..last settled), s', get: (p) => p.fetchSeconds, digits: 1 },
  { name: 'warm peak RSS, MB', get: (p) => p.warmPeakRssBytes / 1_048_576, digits: 0 },
  { name: 'worker peak RSS, MB', get: (p) => (p.workerPeakRssBytes === null ? null : p.workerPeakRssBytes / 1_048_576), digits: 0 },
  { name: 'Redis used_memory after, MB', get: (p) => p.redisUsedMemoryBytes / 1_048_576, digits: 0 },
  { name: 'Redis per certificate, B', get: (p) => p.redisBytesPerCertificate, digits: 0, perCertificate: true },
  { name: 'CPU warm, s', get: (p) => p.cpuMs.warm / 1000, digits: 1 },
  { name: 'CPU worker, s', get: (p) => (p.cpuMs.worker === null ? null : p.cpuMs.worker / 1000), digits: 1 },
  { name: 'CPU simulator, s', get: (p) => p.cpuMs.sim / 1000, digits: 1 },
  { name: 'CPU redis, s', get: (p) => p.cpuMs.redis / 1000, digits: 1 },
];

/**
 * The least-squares line through every size (robust to one noisy point), its value at `to`, the
 * growth factor between consecutive sizes, the marginal cost per certificate of each step, and a
 * flag when that marginal cost grew by more than `superlinearSlopeRatio` from one step to the next.
 */
export function extrapolate(sizes, values, to) {
  const growth = values.slice(1).map((v, i) => (values[i] ? v / values[i] : null));
  const slopes = values.slice(1).map((v, i) => (v - values[i]) / (sizes[i + 1] - sizes[i]));
  const meanN = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  const meanV = values.reduce((a, b) => a + b, 0) / values.length;
  const sxx = sizes.reduce((sum, x) => sum + (x - meanN) ** 2, 0);
  const sxy = sizes.reduce((sum, x, i) => sum + (x - meanN) * (values[i] - meanV), 0);
  const perCertificate = sxx > 0 ? sxy / sxx : 0;
  const projected = meanV + perCertificate * (to - meanN);
  const slopeRatios = slopes.slice(1).map((slope, i) => (slopes[i] > 0 ? slope / slopes[i] : null));
  const superlinear = slopeRatios.some((r) => r !== null && r > SIZING.superlinearSlopeRatio);
  return { growth, slopes, slopeRatios, perCertificate, projected, superlinear };
}

export function sizingScenarioReport(r) {
  const lines = [r.title];
  const pad = (text, width) => String(text).padStart(width);
  const width = 12;
  for (const mode of r.modes) {
    const points = r.sizes.map((size) => r.points.find((p) => p.mode === mode && p.certificates === size));
    lines.push(`  -- ${MODES[mode]}`);
    const complete = points.map(
      (p) =>
        `${n(p.stored)}/${n(p.certificates)} stored${p.staplesInRedis === p.certificates ? '' : ` (${n(p.staplesInRedis)} in Redis)`}${p.jobsLeft ? `, ${p.jobsLeft} jobs left` : ''}${Object.keys(p.failed).length ? `, failed ${JSON.stringify(p.failed)}` : ''}`,
    );
    lines.push(`  ${'staples'.padEnd(44)} ${complete.join('; ')}`);
    const growthHeads = r.sizes.slice(1).map((size, i) => `x${n(size / r.sizes[i], 1)} n`);
    lines.push(
      `  ${''.padEnd(44)} ${r.sizes.map((size) => pad(n(size), width)).join('')}${pad('per 1K (fit)', width + 2)}${pad(`${n(SIZING.extrapolateTo / 1_000)}K (fit)`, width + 2)}   growth per step (${growthHeads.join(', ')})`,
    );
    for (const row of ROWS) {
      const values = points.map(row.get);
      if (values.some((v) => v === null)) continue;
      const e = extrapolate(r.sizes, values, SIZING.extrapolateTo);
      // A per-certificate figure is extrapolated as it is: flat when linear.
      const projected = row.perCertificate ? values.at(-1) : e.projected;
      // Flagged: a total whose cost per added certificate grew, or a per-certificate figure that grew.
      const superlinear = row.perCertificate ? e.growth.some((g) => g !== null && g > SIZING.superlinearSlopeRatio) : e.superlinear;
      const why = row.perCertificate
        ? 'per certificate'
        : `marginal cost x${e.slopeRatios.map((x) => (x === null ? '-' : n(x, 2))).join(', x')}`;
      const flag = superlinear ? `   FASTER THAN LINEAR (${why})` : '';
      lines.push(
        `  ${row.name.padEnd(44)} ${values.map((v) => pad(n(v, row.digits), width)).join('')}${pad(row.perCertificate ? '-' : n(e.perCertificate * 1_000, 2), width + 2)}${pad(n(projected, row.digits), width + 2)}   ${e.growth.map((g) => (g === null ? '-' : `x${n(g, 2)}`)).join(', ')}${flag}`,
      );
    }
  }
  lines.push(
    `  (per 1K and 1M: the least-squares line through the sizes, a + b x certificates; a row is flagged FASTER THAN LINEAR when its cost per added certificate grew by more than x${SIZING.superlinearSlopeRatio} from one step to the next: noisy at small sizes or on a busy machine)`,
  );
  return { lines, targets: [] };
}
