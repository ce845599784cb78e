// Benchmark: what stapling from the fast cache costs a TLS terminator. Not a test.
//
// From the repo root, after `npx turbo run build` (staplewarm warm fills Redis):
//   npx tsc -p test/openresty/tsconfig.bench.json && node test/openresty/dist/bench-handshakes.js \
//     [--seconds 5] [--rounds 3] [--concurrency 32] [--key rsa|ec] [--names 8] [--calls 10000] [--samples 50]
//
// 1. Throughput: new-session handshakes per second through nginx with resty.staple against the same
//    nginx with the staple() call removed. Both set the certificate per SNI in ssl_certificate_by_lua
//    (the users' setup), run one worker, log at warn, and disable session caches and tickets; the
//    client asks for a staple on every handshake (status_request) and never resumes a session.
//    Runs alternate (off, on, off, on...) so load from elsewhere on the machine hits both alike; the
//    report gives medians, and the nginx worker's CPU time per handshake (/proc schedstat), which does
//    not depend on whether the client or the server was the bottleneck.
// 2. Cost of one call: a third nginx calls staple() --calls times inside each handshake and logs
//    the time per call; --samples handshakes give the median (LRU hit path, all of it: status check,
//    leaf fingerprint, cache lookup, set_ocsp_status_resp).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deleteKeys, fillRedis, LOCAL_RESPONDER_ENV } from './fixtures.js';
import { startNginx, type NginxOptions, type RunningNginx } from './nginx.js';
import { createTestPki, type KeyType } from './pki.js';
import { freePort, run, runOk, startOcspResponder } from './processes.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    key: { type: 'string', default: 'rsa' },
    names: { type: 'string', default: '8' },
    calls: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '50' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const KEY = values.key as KeyType;
const NAMES = Number(values.names);
const CALLS = Number(values.calls);
const SAMPLES = Number(values.samples);
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The built CLI, from test/openresty/dist/ where this runs; `warm` fills Redis. */
const STAPLEWARM_BIN = fileURLToPath(new URL('../../../apps/staplewarm/bin/staplewarm.js', import.meta.url));
const cli = (args: string[]) => run(process.execPath, [STAPLEWARM_BIN, ...args], 120_000, LOCAL_RESPONDER_ENV);

interface Round {
  handshakes: number;
  stapled: number;
  errors: number;
  perSecond: number;
  /** nginx worker CPU (user + system) per handshake, in microseconds. */
  cpuMicros: number;
}

function oneHandshake(port: number, servername: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let stapled = false;
    // No `session` option: every connection is a full handshake.
    const options: tls.ConnectionOptions & { requestOCSP: boolean } = {
      host: '127.0.0.1',
      port,
      servername,
      rejectUnauthorized: false,
      requestOCSP: true,
    };
    const socket = tls.connect(options);
    socket.on('OCSPResponse', (response: Buffer | undefined) => (stapled = (response?.length ?? 0) > 0));
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(stapled);
    });
    socket.once('error', reject);
  });
}

/** CPU time of the nginx workers so far, in seconds (/proc/<pid>/schedstat: nanoseconds on CPU). */
async function workerCpuSeconds(nginx: RunningNginx): Promise<number> {
  const pids = (await runOk('pgrep', ['-P', String(nginx.pid)])).trim().split('\n').filter(Boolean);
  let nanoseconds = 0;
  for (const pid of pids) nanoseconds += Number((await readFile(`/proc/${pid}/schedstat`, 'utf8')).split(' ')[0]);
  return nanoseconds / 1e9;
}

async function measure(nginx: RunningNginx, names: readonly string[]): Promise<Round> {
  let handshakes = 0;
  let stapled = 0;
  let errors = 0;
  const cpuBefore = await workerCpuSeconds(nginx);
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, lane) => {
      for (let i = lane; performance.now() < deadline; i++) {
        try {
          if (await oneHandshake(nginx.ports.auto, names[i % names.length] as string)) stapled++;
          handshakes++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpuSeconds = (await workerCpuSeconds(nginx)) - cpuBefore;
  return { handshakes, stapled, errors, perSecond: handshakes / elapsed, cpuMicros: (cpuSeconds / handshakes) * 1e6 };
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

function summary(rounds: readonly Round[]) {
  const total = (pick: (r: Round) => number): number => rounds.reduce((sum, r) => sum + pick(r), 0);
  return {
    perSecond: median(rounds.map((r) => r.perSecond)),
    cpuMicros: median(rounds.map((r) => r.cpuMicros)),
    stapledShare: total((r) => r.stapled) / total((r) => r.handshakes),
    errors: total((r) => r.errors),
  };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'staple-bench-'));
const prefix = `swbench:${randomBytes(6).toString('hex')}:`;
const started: { stop(): Promise<void> }[] = [];
try {
  const responderPort = await freePort();
  const specs = Array.from({ length: NAMES }, (_, i) => ({ names: [`site${i}.bench.test`] }));
  const pki = await createTestPki(path.join(dir, 'pki'), specs, `http://127.0.0.1:${responderPort}`, KEY);
  const responder = await startOcspResponder(pki.ca, responderPort);
  started.push(responder);
  await fillRedis({ certsDir: pki.certsDir, redisUrl: REDIS_URL, prefix, cli });
  await responder.stop();

  const [defaultSite] = pki.sites;
  if (!defaultSite) throw new Error('no site');
  const base: Omit<NginxOptions, 'dir' | 'staple'> = { sites: pki.sites, defaultSite, workers: 1, logLevel: 'warn' };
  const staple = { redis: { host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379) }, prefix };
  const off = await startNginx({ ...base, dir: path.join(dir, 'off'), staple: false });
  started.push(off);
  const on = await startNginx({ ...base, dir: path.join(dir, 'on'), staple });
  started.push(on);
  const names = specs.map((s) => s.names[0] as string);

  // Warm-up: TLS code paths, LuaJIT traces, and the staple caches (one Redis read per name).
  await measure(off, names);
  await measure(on, names);
  const results: { off: Round[]; on: Round[] } = { off: [], on: [] };
  for (let round = 0; round < ROUNDS; round++) {
    results.off.push(await measure(off, names));
    results.on.push(await measure(on, names));
  }
  await off.stop();
  await on.stop();

  const timed = await startNginx({ ...base, dir: path.join(dir, 'timed'), staple, stapleCalls: CALLS });
  started.push(timed);
  for (let i = 0; i < SAMPLES; i++) await oneHandshake(timed.ports.auto, names[i % names.length] as string);
  const perCall = [...(await timed.errorLog()).matchAll(/\[bench\] (\w+) ([\d.]+) us per staple\(\) call/g)]
    .filter((m) => m[1] !== 'redis') // the first call for a name reads Redis
    .map((m) => Number(m[2]));

  const pairedRatios = (pick: (r: Round) => number): number[] => results.on.map((on, i) => pick(on) / pick(results.off[i] as Round));
  const offSummary = summary(results.off);
  const onSummary = summary(results.on);
  const callMicros = median(perCall);
  const lines = [
    `leaf key ${KEY}, ${NAMES} names, ${CONCURRENCY} parallel connections, ${ROUNDS} rounds of ${SECONDS} s, 1 nginx worker, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]?.toFixed(1)}`,
    ...(
      [
        ['stapling off', results.off],
        ['stapling on', results.on],
      ] as const
    ).map(
      ([label, rounds]) =>
        `${label.padEnd(13)} ${rounds.map((r) => `${r.perSecond.toFixed(0)}/s (${r.cpuMicros.toFixed(0)} us cpu)`).join('  ')}`,
    ),
    `median handshakes/s: off ${offSummary.perSecond.toFixed(0)}, on ${onSummary.perSecond.toFixed(0)}; ratio on/off ${(onSummary.perSecond / offSummary.perSecond).toFixed(3)}`,
    `median nginx CPU per handshake: off ${offSummary.cpuMicros.toFixed(0)} us, on ${onSummary.cpuMicros.toFixed(0)} us (${((onSummary.cpuMicros / offSummary.cpuMicros - 1) * 100).toFixed(1)}%)`,
    // Each round's "on" ran right after its "off": paired ratios cancel slow drifts in machine load.
    `median of paired ratios on/off: handshakes/s ${median(pairedRatios((r) => r.perSecond)).toFixed(3)}, nginx CPU per handshake ${median(pairedRatios((r) => r.cpuMicros)).toFixed(3)}`,
    `stapled: off ${(offSummary.stapledShare * 100).toFixed(1)}%, on ${(onSummary.stapledShare * 100).toFixed(1)}%; errors: off ${offSummary.errors}, on ${onSummary.errors}`,
    `one staple() call from the fast cache: median ${callMicros.toFixed(1)} us, min ${Math.min(...perCall).toFixed(1)} us over ${perCall.length} handshakes x ${CALLS} calls` +
      ` = ${((callMicros / offSummary.cpuMicros) * 100).toFixed(2)}% of a handshake's nginx CPU without stapling`,
  ];
  console.log(lines.join('\n'));
} finally {
  for (const s of started.reverse()) await s.stop();
  await deleteKeys(REDIS_URL, prefix);
  await rm(dir, { recursive: true, force: true });
}
