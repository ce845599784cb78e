// The processes a benchmark run starts: a private redis-server, the simulator, staplewarm worker
// and staplewarm warm. Each is a real process, measured through /proc (CPU time, peak RSS).
/* global fetch, setTimeout, clearTimeout, setInterval, clearInterval */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { URL, fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const STAPLEWARM_BIN = `${REPO_ROOT}apps/staplewarm/bin/staplewarm.js`;

/** The simulator listens on loopback, which the worker's responder address policy refuses unless allowed. */
const ALLOW_LOOPBACK_RESPONDERS = { STAPLEWARM_RESPONDER_ALLOW: '127.0.0.0/8' };
export const SIMULATOR_BIN = `${REPO_ROOT}apps/responder-sim/bin/responder-sim.js`;
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

/** A throwaway redis-server (no persistence): clean memory figures, and nobody else's keys. */
export async function startRedis() {
  const port = await freePort();
  const proc = await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    what: 'redis-server',
    ready: (out) => out.includes('Ready to accept connections'),
  });
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { maxRetriesPerRequest: null });
  await client.ping();
  return {
    url,
    pid: proc.pid,
    client,
    usedMemory: async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))[1]),
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

/** `staplewarm worker`, optionally under `node --cpu-prof`. */
export async function startWorker({ redisUrl, prefix, rate, concurrency, metricsPort, profileDir }) {
  const node = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const args = ['worker', '--redis', redisUrl, '--prefix', prefix, '--rate', String(rate), '--metrics-port', String(metricsPort)];
  if (concurrency) args.push('--concurrency', String(concurrency));
  return startProcess(process.execPath, [...node, STAPLEWARM_BIN, ...args], {
    what: 'staplewarm worker',
    env: { STAPLEWARM_LOG_LEVEL: 'info', ...ALLOW_LOOPBACK_RESPONDERS },
    ready: (_out, err) => err.includes('"worker: running"'),
  });
}

/** Runs `staplewarm <args>` to completion: its JSON summary, wall time and CPU time. */
export async function runStaplewarm(args, env = {}) {
  const started = performance.now();
  const child = spawn(process.execPath, [STAPLEWARM_BIN, ...args], {
    env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'warn', ...ALLOW_LOOPBACK_RESPONDERS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let cpu = 0;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // /proc/<pid> disappears at exit: sample the CPU time while it runs.
  const sampler = setInterval(() => {
    try {
      cpu = cpuMs(child.pid);
    } catch {
      // exited
    }
  }, 200);
  const code = await new Promise((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  const wallMs = performance.now() - started;
  let summary;
  try {
    summary = JSON.parse(stdout);
  } catch {
    throw new Error(`staplewarm ${args[0]} exited ${code} without a JSON summary:\n${stderr.slice(-4000)}`);
  }
  return { code, summary, wallMs, cpuMs: cpu, stderr };
}

export { sleep };
