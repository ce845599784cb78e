/* global fetch */
// The relay benchmark (issue 14): `staplewarm relay` answering OCSP GETs for warmed certificates
// from its memory (Redis behind it), measured with wrk from another process. Not a test: it prints
// the figures and checks them against the issue's target (>= 10,000 req/s with p99 < 10 ms).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { certIdFor, encodeOcspRequest, parseCertificates } from '@staplewarm/ocsp';
import { STAPLEWARM_BIN, cpuMs, freePort, peakRssBytes, runStaplewarm, sleep, startSimulator } from './services.js';

const PREFIX = 'bench:';
export const RELAY_TARGET = { rps: 10_000, p99Ms: 10 };

/** The scenario, as `--scenario relay` runs it. */
export const RELAY_SCENARIO = {
  title: '(relay) staplewarm relay answering OCSP GETs from its cache (keep-alive), wrk in another process',
  /** Distinct certificates the load cycles through. */
  certificates: 1_000,
  durationSeconds: 15,
  connections: 32,
};

/**
 * Warms `pki` into an empty Redis (the simulator stopped afterwards: the relay never needs the CA),
 * starts the relay, fills its memory with one request per certificate, then runs wrk twice: HTTP/1.1
 * keep-alive (the target), and one connection per request, as nginx asks (for information).
 */
export async function runRelayScenario({ redis, pki, out, log, nice = 0 }) {
  const wrk = which('wrk');
  if (!wrk) throw new Error('the relay benchmark needs wrk (apt-get install wrk)');
  const { title, certificates, durationSeconds, connections } = RELAY_SCENARIO;
  await redis.client.flushall();
  log(`${title}: warming ${pki.count} certificates`);
  const sim = await startSimulator({ pkiDir: pki.dir, port: pki.port });
  let warm;
  try {
    warm = await runStaplewarm(['warm', '--certs', pki.live, '--redis', redis.url, '--prefix', PREFIX, '--rate', '0', '--json']);
  } finally {
    await sim.stop();
  }
  if (warm.code !== 0) throw new Error(`warm failed (${warm.code}): ${warm.stderr.slice(-2000)}`);

  const paths = requestPaths(pki.dir, certificates);
  const script = join(out, 'relay-paths.lua');
  writeFileSync(script, wrkScript(paths));
  const closeScript = join(out, 'relay-paths-close.lua');
  writeFileSync(closeScript, wrkScript(paths, { Connection: 'close' }));

  const port = await freePort();
  const metricsPort = await freePort();
  const relay = await startRelay({ redisUrl: redis.url, port, metricsPort, nice });
  try {
    const base = `http://127.0.0.1:${port}`;
    // Fill the relay's memory: one request per certificate (each a Redis read).
    for (let i = 0; i < paths.length; i += 50) {
      const answers = await Promise.all(paths.slice(i, i + 50).map((path) => fetch(`${base}${path}`)));
      for (const answer of answers) {
        if (answer.status !== 200) throw new Error(`warm-up request answered ${answer.status}`);
        await answer.arrayBuffer();
      }
    }
    const loadBefore = loadavg();
    const cpuBefore = cpuMs(relay.pid);
    const machineBefore = machineBusyMs();
    log(
      `${title}: wrk -t1 -c${connections} -d${durationSeconds}s over ${paths.length} certificates (load average ${loadBefore[0].toFixed(2)})`,
    );
    const keepAlive = runWrk(wrk, ['-t1', `-c${connections}`, `-d${durationSeconds}s`, '--latency', '-s', script, base], nice);
    const relayCpuSeconds = (cpuMs(relay.pid) - cpuBefore) / 1000;
    // What the rest of the machine did meanwhile: busy CPU time minus the relay's and wrk's own.
    const machineAfter = machineBusyMs();
    const othersCpuSeconds = Math.max(
      0,
      (machineAfter.processes - machineBefore.processes) / 1000 - relayCpuSeconds - keepAlive.cpuSeconds,
    );
    const interruptsCpuSeconds = (machineAfter.interrupts - machineBefore.interrupts) / 1000;
    const loadDuring = loadavg();
    await sleep(2_000);
    log(`${title}: again, one connection per request (as nginx asks)`);
    const perConnection = runWrk(wrk, ['-t1', `-c${connections}`, '-d5s', '--latency', '-s', closeScript, base], nice);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return {
      scenario: 'relay',
      title,
      certificates: paths.length,
      connections,
      durationSeconds,
      nice,
      keepAlive,
      perConnection,
      relayCpuSeconds,
      wrkCpuSeconds: keepAlive.cpuSeconds,
      othersCpuSeconds,
      interruptsCpuSeconds,
      relayPeakRssBytes: peakRssBytes(relay.pid),
      results: resultCounts(metrics),
      loadBefore,
      loadDuring,
    };
  } finally {
    await relay.stop();
  }
}

export function relayScenarioReport(r) {
  const n = (value, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const ok = r.keepAlive.requestsPerSecond >= RELAY_TARGET.rps && r.keepAlive.p99Ms < RELAY_TARGET.p99Ms;
  const served = (r.results.memory ?? 0) + (r.results.redis ?? 0);
  const others = Object.entries(r.results).filter(([result, count]) => count > 0 && result !== 'memory' && result !== 'redis');
  return {
    lines: [
      r.title,
      `  load               ${r.certificates} certificates in turn, ${r.connections} connections, ${r.durationSeconds} s; load average ${n(r.loadBefore[0], 2)} before, ${n(r.loadDuring[0], 2)} at the end${r.nice ? `; relay and wrk at nice ${r.nice}` : ''}`,
      `  keep-alive         ${n(r.keepAlive.requestsPerSecond)} req/s, p50 ${n(r.keepAlive.p50Ms, 2)} ms, p99 ${n(r.keepAlive.p99Ms, 2)} ms, errors ${r.keepAlive.errors}   [${ok ? 'PASS' : 'MISS'} >= ${n(RELAY_TARGET.rps)} req/s, p99 < ${RELAY_TARGET.p99Ms} ms]`,
      `  CPU                relay ${n(r.relayCpuSeconds, 1)} s in ${r.durationSeconds} s (${n((100 * r.relayCpuSeconds) / r.durationSeconds)} % of a core, ${n((1e6 * r.relayCpuSeconds) / (r.keepAlive.requestsPerSecond * r.durationSeconds), 1)} µs per answer), wrk ${n(r.wrkCpuSeconds, 1)} s, interrupts ${n(r.interruptsCpuSeconds, 1)} s, other processes ${n(r.othersCpuSeconds, 1)} s (${n((100 * r.othersCpuSeconds) / r.durationSeconds)} % of a core: ${r.othersCpuSeconds / r.durationSeconds < 0.05 ? 'an idle machine' : 'NOT an idle machine'})`,
      `  relay memory       peak RSS ${n(r.relayPeakRssBytes / 1_048_576)} MB`,
      `  answered           ${n(served)} staples (${n(r.results.memory ?? 0)} from memory, ${n(r.results.redis ?? 0)} from Redis)${others.length ? `; other: ${JSON.stringify(Object.fromEntries(others))}` : ''}`,
      `  per connection     ${n(r.perConnection.requestsPerSecond)} req/s, p99 ${n(r.perConnection.p99Ms, 2)} ms (Connection: close, as nginx asks; for information)`,
    ],
    targets: [{ name: `(relay) >= ${n(RELAY_TARGET.rps)} req/s from cache with p99 < ${RELAY_TARGET.p99Ms} ms`, ok }],
  };
}

/** GET paths (nginx's form: `/` + escaped base64) for the first `count` certificates of the PKI. */
function requestPaths(pkiDir, count) {
  const manifest = JSON.parse(readFileSync(join(pkiDir, 'manifest.json'), 'utf8'));
  const [issuer] = parseCertificates(readFileSync(join(pkiDir, manifest.issuer.certPath)));
  return manifest.leaves.slice(0, count).map((leaf) => {
    const [cert] = parseCertificates(readFileSync(join(pkiDir, leaf.dir, 'cert.pem')));
    return `/${encodeURIComponent(encodeOcspRequest(certIdFor(cert, issuer)).toString('base64'))}`;
  });
}

/** A wrk script that cycles through `paths`, one per request. */
function wrkScript(paths, headers = {}) {
  const list = paths.map((p) => `  "${p}",`).join('\n');
  const headerLines = Object.entries(headers)
    .map(([k, v]) => `wrk.headers["${k}"] = "${v}"`)
    .join('\n');
  return `-- generated by test/bench/lib/relay.js
${headerLines}
local paths = {
${list}
}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
`;
}

/** Runs wrk and reads its figures: requests/s, p50 and p99 (ms), errors. */
function runWrk(wrk, args, nice = 0) {
  // The shell that waits for wrk reports wrk's CPU time as its children's (fields cutime, cstime).
  const shell = '"$0" "$@"; status=$?; cat /proc/$$/stat; exit $status';
  const output = execFileSync('nice', ['-n', String(nice), 'sh', '-c', shell, wrk, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stat = output.trimEnd().split('\n').pop() ?? '';
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  const percentile = (p) => toMs(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(output));
  const errors = /Socket errors: (.*)/.exec(output)?.[1] ?? 'none';
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  return {
    requestsPerSecond: rps,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    errors: non2xx ? `${errors}; ${non2xx} non-2xx` : errors,
    cpuSeconds,
    output,
  };
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * CPU time the machine's cores spent so far, ms: in processes (user, nice, system, steal), and in
 * interrupts (irq, softirq: here mostly the kernel's loopback TCP work for the relay and wrk, which
 * no process is charged with).
 */
function machineBusyMs() {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return { processes: ((user + nice + system + steal) * 1000) / CLOCK_TICKS, interrupts: ((irq + softirq) * 1000) / CLOCK_TICKS };
}

function toMs(match) {
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** `staplewarm_relay_requests_total` by result, from the relay's /metrics. */
function resultCounts(text) {
  const counts = {};
  for (const [, result, value] of text.matchAll(/^staplewarm_relay_requests_total\{result="([a-z_]+)"\} (\d+)/gm))
    counts[result] = Number(value);
  return counts;
}

/** `staplewarm relay` as a child process; ready once it logs that it answers. */
async function startRelay({ redisUrl, port, metricsPort, nice }) {
  const child = spawn(
    'nice',
    [
      '-n',
      String(nice),
      process.execPath,
      STAPLEWARM_BIN,
      'relay',
      '--listen',
      `127.0.0.1:${port}`,
      '--redis',
      redisUrl,
      '--prefix',
      PREFIX,
      '--metrics-port',
      String(metricsPort),
    ],
    { env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('relay: answering')) resolve();
    });
    exited.then((code) => reject(new Error(`staplewarm relay exited (${code}) before it answered\n${stderr}`)));
  });
  return {
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function which(command) {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
