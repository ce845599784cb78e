// The processes a benchmark run starts: a private redis-server, the simulator, staplewarm worker
// and staplewarm warm. Each is a real process, measured through /proc (CPU time, peak RSS).
/* global fetch, setTimeout, clearTimeout, setInterval, clearInterval */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { URL, fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const STAPLEWARM_BIN = `${REPO_ROOT}apps/staplewarm/bin/staplewarm.js`;

/** The simulator listens on loopback, which the worker's responder address policy refuses unless allowed. */
const ALLOW_LOOPBACK_RESPONDERS = { STAPLEWARM_RESPONDER_ALLOW: '127.0.0.0/8' };
export const SIMULATOR_BIN = `${REPO_ROOT}apps/responder-sim/bin/responder-sim.js`;
/** Preloaded into timed staplewarm processes: their exact peak RSS and CPU time, written at exit. */
const RUSAGE_PRELOAD = new URL('./rusage-preload.js', import.meta.url).href;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Is this port free on 127.0.0.1? */
export async function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** CPU time (user + system) a process has used so far, ms. */
export function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Peak resident set size of a running process (VmHWM), bytes. */
export function peakRssBytes(pid) {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** Spawns a process and resolves once `ready(stdout, stderr)` is true; rejects if it exits first. */
async function startProcess(command, args, { env = {}, ready, what, timeoutMs = 120_000 }) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready after ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    const check = () => {
      if (ready(stdout, stderr)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', (d) => ((stdout += d), check()));
    child.stderr.on('data', (d) => ((stderr += d), check()));
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready\n${stderr}`));
    });
  });
  return {
    pid: child.pid,
    child,
    output: () => ({ stdout, stderr }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A throwaway redis-server: no persistence by default (clean memory figures, and nobody else's keys).
 * With `aofDir`, persistence as docker-compose.yml configures it (AOF, fsync every second, RDB
 * snapshots) in that directory, and `restart()` stops it the way an operator does (SHUTDOWN SAVE)
 * and starts it again on the same port.
 */
export async function startRedis({ aofDir } = {}) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1'];
  if (aofDir) args.push('--dir', aofDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '3600 1 300 100');
  else args.push('--save', '', '--appendonly', 'no');
  const launch = () =>
    startProcess('redis-server', args, {
      what: 'redis-server',
      ready: (out) => out.includes('Ready to accept connections'),
    });
  let proc = await launch();
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { maxRetriesPerRequest: null });
  await client.ping();
  return {
    url,
    get pid() {
      return proc.pid;
    },
    client,
    usedMemory: async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))[1]),
    /** SHUTDOWN SAVE, then the same server again on the same port: the ms from the SHUTDOWN to ready. */
    restart: async () => {
      const started = performance.now();
      const exited = new Promise((resolve) => proc.child.once('exit', resolve));
      // From a connection of its own: ioredis would send an unanswered SHUTDOWN again after reconnecting.
      const shutdown = new Redis(url, { retryStrategy: () => null, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 });
      await shutdown.call('SHUTDOWN', 'SAVE').catch(() => {}); // the connection closes before any answer
      shutdown.disconnect();
      await exited;
      const stoppedMs = performance.now() - started;
      proc = await launch();
      return { stoppedMs, downMs: performance.now() - started };
    },
    stop: async () => {
      client.disconnect();
      await proc.stop();
    },
  };
}

/** The simulator serving a generated PKI (responses signed before it listens). */
export async function startSimulator({ pkiDir, port, rate = 0, latencyMs = 0 }) {
  const args = ['serve', '--dir', pkiDir, '--port', String(port), '--presign', '--rate', String(rate), '--latency-ms', String(latencyMs)];
  const proc = await startProcess(process.execPath, [SIMULATOR_BIN, ...args], {
    what: 'responder-sim',
    ready: (out) => out.includes('http://'),
    timeoutMs: 300_000,
  });
  const url = `http://127.0.0.1:${port}/`;
  return {
    ...proc,
    url,
    stats: async () => (await fetch(`${url}_sim/stats`)).json(),
  };
}

/**
 * `staplewarm worker`, optionally under `node --cpu-prof`. `defaultHostRate` and `hostRates`
 * (`host=N` strings) are passed only when given: the CLI's defaults otherwise.
 */
export async function startWorker({ redisUrl, prefix, rate, defaultHostRate, hostRates = [], concurrency, metricsPort, profileDir }) {
  const node = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const args = ['worker', '--redis', redisUrl, '--prefix', prefix, '--rate', String(rate), '--metrics-port', String(metricsPort)];
  if (defaultHostRate !== undefined) args.push('--default-host-rate', String(defaultHostRate));
  for (const entry of hostRates) args.push('--host-rate', entry);
  if (concurrency) args.push('--concurrency', String(concurrency));
  return startProcess(process.execPath, [...node, STAPLEWARM_BIN, ...args], {
    what: 'staplewarm worker',
    env: { STAPLEWARM_LOG_LEVEL: 'info', ...ALLOW_LOOPBACK_RESPONDERS },
    ready: (_out, err) => err.includes('"worker: running"'),
  });
}

let rusageFiles = 0;

/**
 * Starts `staplewarm <args>` (a command that ends, such as `warm`): `pid` at once, `done` resolving
 * to its JSON summary, wall time (spawn to exit, Node start-up included), CPU time and peak RSS.
 * CPU and peak RSS come from the process itself at exit (getrusage, through a preloaded module),
 * else from /proc sampled every 200 ms while it ran.
 */
export function spawnStaplewarm(args, env = {}) {
  return spawnTimed(STAPLEWARM_BIN, args, env);
}

/** The bare pipeline (bare-pipeline.js: the least work a warm-up does, a ceiling for this machine), timed as spawnStaplewarm times staplewarm. */
export const BARE_PIPELINE_SCRIPT = fileURLToPath(new URL('./bare-pipeline.js', import.meta.url));

/** A Node script that prints one JSON summary, timed from spawn to exit (see spawnStaplewarm). */
export function spawnTimed(script, args, env = {}) {
  const rusageFile = join(tmpdir(), `staplewarm-bench-rusage-${process.pid}-${++rusageFiles}.json`);
  rmSync(rusageFile, { force: true });
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', RUSAGE_PRELOAD, script, ...args], {
    env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'warn', ...ALLOW_LOOPBACK_RESPONDERS, ...env, BENCH_RUSAGE_FILE: rusageFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let sampled = { cpuMs: 0, peakRssBytes: 0 };
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const sampler = setInterval(() => {
    try {
      sampled = { cpuMs: cpuMs(child.pid), peakRssBytes: peakRssBytes(child.pid) };
    } catch {
      // exited
    }
  }, 200);
  const done = new Promise((resolve) => child.once('exit', resolve)).then((code) => {
    clearInterval(sampler);
    const wallMs = performance.now() - started;
    let usage;
    try {
      usage = JSON.parse(readFileSync(rusageFile, 'utf8'));
      rmSync(rusageFile, { force: true });
    } catch {
      usage = { cpuMs: sampled.cpuMs, maxRssBytes: sampled.peakRssBytes, sampled: true };
    }
    let summary;
    try {
      summary = JSON.parse(stdout);
    } catch {
      throw new Error(`${script} ${args[0]} exited ${code} without a JSON summary:\n${stderr.slice(-4000)}`);
    }
    return { code, summary, wallMs, cpuMs: usage.cpuMs, peakRssBytes: usage.maxRssBytes, usageSampled: Boolean(usage.sampled), stderr };
  });
  return { pid: child.pid, child, done };
}

/** Runs `staplewarm <args>` to completion: see spawnStaplewarm. */
export async function runStaplewarm(args, env = {}) {
  return spawnStaplewarm(args, env).done;
}

/** Runs the bare pipeline over a certbot live/ tree to completion: see spawnTimed. */
export async function runBarePipeline({ live, redisUrl, prefix }) {
  return spawnTimed(BARE_PIPELINE_SCRIPT, ['--certs', live, '--redis', redisUrl, '--prefix', prefix]).done;
}

export { sleep };
