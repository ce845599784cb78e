// Scan time on a certificate tree, not a test:
//   npx tsc -b packages/scan/tsconfig.build.json && node packages/scan/bench/scan-tree.js <dir> [rounds]
// A 50K-site certbot tree: `node apps/responder-sim/bin/responder-sim.js generate --dir /tmp/pki --count 50000`,
// then pass /tmp/pki/live. Each round scans the whole tree in this process (the page cache is warm
// after the first); prints each round's wall and CPU time, the median, what the scan found, and peak RSS.
import { performance } from 'node:perf_hooks';
import { scanCertificateStores } from '../dist/index.js';

const [dir, roundsArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node packages/scan/bench/scan-tree.js <dir> [rounds]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 5);
const times = [];
let last;
for (let i = 0; i < rounds; i++) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  last = await scanCertificateStores([dir], { now: Date.now() });
  times.push(performance.now() - started);
  const used = process.cpuUsage(cpu);
  console.log(
    `round ${i + 1}: ${(times[i] / 1000).toFixed(2)} s wall, ${(used.user / 1e6).toFixed(2)} s user, ${(used.system / 1e6).toFixed(2)} s system CPU`,
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
