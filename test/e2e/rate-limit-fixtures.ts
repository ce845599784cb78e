/**
 * Fixtures for the rate-limit and metrics end-to-end tests: simulator PKIs, `staplewarm worker`
 * processes, and a sampler of the simulator's request rate.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki, type Responder } from '@staplewarm/responder-sim';
import { ALLOW_LOOPBACK_RESPONDERS, STAPLEWARM_BIN } from '@staplewarm/testing';

export interface TestPki {
  dir: string;
  /** The certbot `live/` directory to pass to `--certs`. */
  live: string;
  remove(): Promise<void>;
}

/** `count` certificates whose OCSP URL is `http://127.0.0.1:<port>/`. */
export async function makePki(label: string, count: number, port: number): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), `sw-${label}-`));
  await generatePki({ dir, count, ocspUrls: [`http://127.0.0.1:${port}/`], domain: `${label}.test` });
  return { dir, live: join(dir, 'live'), remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface WorkerProcess {
  process: ChildProcess;
  /** stderr so far (JSON log lines). */
  log(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
}

/** Starts `staplewarm worker <args>` and waits for its "worker: running" log line. */
export async function startWorkerProcess(args: string[], env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [STAPLEWARM_BIN, 'worker', ...args], {
    env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'info', ...ALLOW_LOOPBACK_RESPONDERS, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`staplewarm worker did not start in 20 s:\n${stderr}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('"worker: running"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`staplewarm worker exited (${code}) before running:\n${stderr}`));
    });
  });
  return {
    process: child,
    log: () => stderr,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A timeline of a simulator's request counters, sampled every `everyMs` until stopped. */
export function sampleResponder(
  responder: Responder,
  everyMs = 50,
): { samples: { at: number; requests: number; perSecond: number }[]; stop(): void } {
  const samples: { at: number; requests: number; perSecond: number }[] = [];
  const take = (): void => {
    const stats = responder.stats();
    samples.push({ at: Date.now(), requests: stats.requests, perSecond: stats.reqPerSec });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      take();
    },
  };
}

/** Polls `condition` every 50 ms; throws after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await condition());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sum of `staplewarm_fetches_total` samples of a /metrics text, optionally for one outcome. */
export function fetchesTotal(exposition: string, outcome?: string): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith('staplewarm_fetches_total{')) continue;
    if (outcome !== undefined && !line.includes(`outcome="${outcome}"`)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
