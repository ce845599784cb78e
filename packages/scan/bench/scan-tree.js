// Scan time on a certificate tree, not a test:
//   npx tsc -b packages/scan/tsconfig.build.json && node packages/scan/bench/scan-tree.js <dir>... [--rounds N] [--stream]
// A 50K-site certbot tree: `node apps/responder-sim/bin/responder-sim.js generate --dir /tmp/pki --count 50000`,
// then pass /tmp/pki/live. Each round scans the whole tree in this process (the page cache is warm
// after the first); prints each round's wall and CPU time (every thread of the process), the main
// thread's busy time (event-loop utilisation: what competes with fetching in `warm`), what the scan
// found, and peak RSS. For a peak RSS per scan, run one round per process and take the best of three.
// --stream hands the targets to an `onTargets` that keeps them (as `warm` does).
import { performance } from 'node:perf_hooks';
import { scanCertificateStores } from '../dist/index.js';

const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const [, value] = args.splice(at, 2);
  return value;
};
const rounds = Number(flag('--rounds') ?? 1);
const stream = args.includes('--stream');
const dirs = args.filter((a) => !a.startsWith('--'));
if (dirs.length === 0) {
  console.error('usage: node packages/scan/bench/scan-tree.js <dir>... [--rounds N] [--stream]');
  process.exit(2);
}
const times = [];
let last;
for (let i = 0; i < rounds; i++) {
  const kept = [];
  let batches = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  last = await scanCertificateStores(dirs, {
    now: Date.now(),
    ...(stream && {
      onTargets: (batch) => {
        batches++;
        kept.push(...batch);
      },
    }),
  });
  times.push(performance.now() - started);
  const used = process.cpuUsage(cpu);
  const busy = performance.eventLoopUtilization(loop);
  console.log(
    `round ${i + 1}: ${(times[i] / 1000).toFixed(2)} s wall, ${(used.user / 1e6).toFixed(2)} s user, ` +
      `${(used.system / 1e6).toFixed(2)} s system CPU; main thread busy ${(busy.active / 1000).toFixed(2)} s ` +
      `(${(busy.utilization * 100).toFixed(0)}%)${stream ? `; ${kept.length} targets in ${batches} batches` : ''}`,
  );
}
const sorted = [...times].sort((a, b) => a - b);
const problems = {};
for (const p of last.problems) problems[p.code] = (problems[p.code] ?? 0) + 1;
console.log(
  JSON.stringify({
    medianSeconds: Number((sorted[Math.floor(sorted.length / 2)] / 1000).toFixed(2)),
    bestSeconds: Number((sorted[0] / 1000).toFixed(2)),
    filesRead: last.filesRead,
    targets: last.targets.length,
    noOcspUrl: last.noOcspUrl.length,
    problems,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
