// Text report of a benchmark run, with the issue's targets checked.
const n = (value, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes) => `${n(bytes / 1_048_576)} MB`;
const verdict = (ok) => (ok ? 'PASS' : 'MISS');

/** Targets of issue 13 for the worker (a, b) and Redis (a-c). */
const WORKER_PEAK_RSS = 250 * 1_048_576;
const REDIS_PER_CERTIFICATE = 3_072;
const RAW_TARGET = 3_000;
const PEER_TARGET = 20;

/** The lines for a or b, and the targets it was held to. */
export function queueScenarioReport(r) {
  const lines = [
    r.title,
    `  certificates       ${n(r.certificates)}, --rate ${r.rate || 'unlimited'}${r.hostRates.length ? `, --host-rate ${r.hostRates.join(' ')}` : ', default per-host budget'}, simulator ${r.simulator.rate ? `${r.simulator.rate} req/s` : 'unlimited'}, latency ${r.simulator.latencyMs} ms`,
  ];
  const targets = [];
  // The whole `warm --no-work` run, Node start-up and scan included: what the operator waits for.
  // (The scan hands certificates to the queue as it reads, so fetching starts within a second.)
  const ratio = r.totalSeconds / r.floorSeconds;
  const limit = r.scenario === 'a' ? 1.05 : 1.3;
  targets.push({ name: `(${r.scenario}) elapsed / floor <= ${limit}`, ok: ratio <= limit });
  lines.push(
    `  elapsed (whole)    ${n(r.totalSeconds, 1)} s   floor ${n(r.floorSeconds, 1)} s   ratio ${n(ratio, 3)}   [${verdict(ratio <= limit)} <= ${limit}]`,
  );
  lines.push(
    `  fetching           ${n(r.fetchSeconds, 1)} s, from the first job enqueued (${n(r.startSeconds, 1)} s of the run outside it) to the last settled; scan ${n(r.scanSeconds, 1)} s (overlapping)`,
  );
  const share429 = r.requests ? r.answered429 / r.requests : 0;
  lines.push(
    `  requests           ${n(r.requests)} sent, ${n(r.answered429)} answered 429 (${n(100 * share429, 2)} %)${r.scenario === 'a' ? `   [${verdict(share429 < 0.01)} < 1 %]` : ''}`,
  );
  if (r.scenario === 'a') targets.push({ name: '(a) fewer than 1 % of requests answered 429', ok: share429 < 0.01 });
  lines.push(
    `  achieved           ${n(r.staplesPerSecond, 1)} staples/s, ${n(r.requestsPerSecond, 1)} req/s while fetching; ${n(r.stored / r.totalSeconds, 1)} staples/s over the whole run`,
  );
  lines.push(...stapleLines(r, targets));
  const rssOk = r.workerPeakRssBytes <= WORKER_PEAK_RSS;
  targets.push({ name: `(${r.scenario}) worker peak RSS <= 250 MB (${n(r.certificates)} certificates)`, ok: rssOk });
  lines.push(
    `  peak RSS           worker ${mb(r.workerPeakRssBytes)}   [${verdict(rssOk)} <= 250 MB]; warm --no-work ${mb(r.warmPeakRssBytes)} (for information)`,
  );
  lines.push(...redisLines(r, targets));
  lines.push(
    `  CPU time           worker ${n(r.cpuMs.worker / 1000, 1)} s, simulator ${n(r.cpuMs.sim / 1000, 1)} s, redis ${n(r.cpuMs.redis / 1000, 1)} s, warm ${n(r.cpuMs.warm / 1000, 1)} s`,
  );
  return { lines, targets };
}

/** The lines for c: the target is judged on the end-to-end rate (wall time of the one command). */
export function rawScenarioReport(r) {
  const targets = [];
  const ok = r.endToEndRate >= RAW_TARGET;
  targets.push({
    name: `(c) >= 3,000 certs/s end to end (one warm process, ${n(r.certificates)} certificates, start-up and scan included)`,
    ok,
  });
  const lines = [
    r.title,
    `  certificates       ${n(r.certificates)}, simulator unlimited, latency ${r.simulator.latencyMs} ms`,
    `  end to end         ${n(r.endToEndRate)} certs/s: ${n(r.certificates)} in ${n(r.totalSeconds, 2)} s, the wall time of the command (Node start-up, scan, fetch, verify, store)   [${verdict(ok)} >= 3,000]`,
    `  fetch phase only   ${n(r.fetchRate)} certs/s over ${n(r.fetchSeconds, 2)} s, first job enqueued to last settled (not the target: the scan overlaps it, start-up is outside it); scan ${n(r.scanSeconds, 2)} s`,
    `  requests           ${n(r.requests)} sent, ${n(r.answered429)} answered 429`,
  ];
  lines.push(...stapleLines(r, targets));
  lines.push(`  peak RSS           warm ${mb(r.warmPeakRssBytes)} (one process: scan, queue and workers; for information)`);
  lines.push(...redisLines(r, targets));
  lines.push(
    `  CPU time           warm ${n(r.cpuMs.warm / 1000, 1)} s, simulator ${n(r.cpuMs.sim / 1000, 1)} s, redis ${n(r.cpuMs.redis / 1000, 1)} s`,
  );
  if (r.bare) lines.push(...bareLines(r));
  return { lines, targets };
}

/**
 * c's ceiling: the bare pipeline (bare-pipeline.js) over the same certificates right after, one
 * process doing the least work a warm-up does. Shown, not judged: it tells whether the target is
 * within this machine's reach at all, and what staplewarm's queue, rules and tracking cost.
 */
function bareLines(r) {
  const { bare } = r;
  const perCert = (ms) => `${n(ms / r.certificates, 2)} ms`;
  const total = (cpu) => Object.values(cpu).reduce((a, b) => a + b, 0);
  return [
    `  bare pipeline      ${n(bare.rate)} certs/s: ${n(bare.stored)} stored in ${n(bare.seconds, 2)} s, wall time of one process doing only read, parse, GET, verify, SET (no queue, rules, retries, tracking; a ceiling for this machine, not judged)`,
    `  ours vs bare       ${n(r.totalSeconds / bare.seconds, 2)}x its wall time; CPU per certificate (all processes) ${perCert(total(r.cpuMs))} vs ${perCert(total(bare.cpuMs))} (warm ${perCert(r.cpuMs.warm)} vs bare ${perCert(bare.cpuMs.bare)}; simulator ${perCert(r.cpuMs.sim)} vs ${perCert(bare.cpuMs.sim)}; redis ${perCert(r.cpuMs.redis)} vs ${perCert(bare.cpuMs.redis)})`,
  ];
}

function stapleLines(r, targets) {
  const allStored = r.stored === r.certificates && r.staplesInRedis === r.certificates && r.complete;
  targets.push({ name: `(${r.scenario}) ${n(r.certificates)} verified staples, nothing failed or lost`, ok: allStored });
  return [
    `  verified staples   ${n(r.stored)} stored (verified before storing), ${n(r.staplesInRedis)} staple keys in Redis${Object.keys(r.failed).length ? `, failed: ${JSON.stringify(r.failed)}` : ''}; openssl -respin re-check ${r.recheck.good}/${r.recheck.checked} good   [${verdict(allStored)}]`,
  ];
}

function redisLines(r, targets) {
  const jobsLeft = Object.values(r.jobsLeft).reduce((a, b) => a + b, 0);
  const redisOk = r.redisBytesPerStaple <= REDIS_PER_CERTIFICATE && jobsLeft === 0;
  targets.push({ name: `(${r.scenario}) Redis <= 3 KiB per certificate, no leftover jobs`, ok: redisOk });
  return [
    `  Redis after run    ${n(r.redisBytesPerStaple)} B per certificate, ${jobsLeft} jobs left   [${verdict(redisOk)} <= 3072 B, 0 jobs]`,
  ];
}

export function peerScenarioReport(r) {
  const best = Math.max(r.speedup, r.deployedSpeedup);
  const all = (list) => list.map((s) => n(s, 2)).join(', ');
  return {
    lines: [
      r.title,
      `  staplewarm warm    ${n(r.staplewarm.seconds, 2)} s for ${n(r.certificates)} (${n(r.staplewarm.stored)} stored; fetching ${n(r.staplewarm.fetchSeconds, 2)} s of it), one process   ratio ${n(r.speedup, 2)}x   (runs: ${all(r.staplewarm.allSeconds)} s)`,
      `  worker + --no-work ${n(r.deployed.seconds, 2)} s (${n(r.deployed.stored)} stored; fetching ${n(r.deployed.fetchSeconds, 2)} s of it), worker already running   ratio ${n(r.deployedSpeedup, 2)}x   (runs: ${all(r.deployed.allSeconds)} s)`,
      `  openssl -P16       ${n(r.openssl.seconds, 2)} s (${n(r.openssl.answered)} answered good or revoked)   (runs: ${all(r.openssl.allSeconds)} s)`,
      `  bare pipeline      ${n(r.bare.seconds, 2)} s (${n(r.bare.stored)} stored), one process doing only read, parse, GET, verify, SET: a ceiling, not judged   ratio ${n(r.bareSpeedup, 2)}x   (runs: ${all(r.bare.allSeconds)} s)`,
      `  best ratio         ${n(best, 2)}x   [${verdict(best >= PEER_TARGET)} >= ${PEER_TARGET}x]`,
    ],
    targets: [
      { name: `(d) staplewarm at least ${PEER_TARGET}x faster than openssl -P16 (node ${process.version})`, ok: best >= PEER_TARGET },
    ],
  };
}
