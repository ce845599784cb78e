/**
 * `warm` never waits forever: with `--no-work` and no worker it says so after a few seconds and
 * gives up at `--timeout` (exit 1, the unfinished certificates under `timeout`); a worker that
 * arrives late still completes the run; and the deadline holds with in-process workers too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOW_LOOPBACK_RESPONDERS, REDIS_URL, STAPLEWARM_BIN, runCli, testPrefix } from '@staplewarm/testing';
import { countStapled, startServeFixture, waitFor, type ServeFixture } from './serve-harness.js';

/**
 * The run's own clock (the summary's elapsed, from its start) measures the deadline; the wall clock
 * also counts Node's start-up, seconds on a loaded machine, so it only gets a loose bound.
 */
const START_UP_SLACK_MS = 15_000;

interface WarmJson {
  elapsedSeconds: number;
  stored: { good: number };
  failed: Record<string, number>;
  failures: { code: string; reason: string; fingerprint: string }[];
  complete: boolean;
}

describe('warm --timeout', () => {
  let fx: ServeFixture;
  const prefixes = [testPrefix('warm-timeout-a'), testPrefix('warm-timeout-b'), testPrefix('warm-timeout-c')];
  const [noWorkerPrefix = '', lateWorkerPrefix = '', inProcessPrefix = ''] = prefixes;
  let worker: ChildProcess | undefined;
  const live = () => join(fx.dir, 'live');
  const fps = () => fx.manifest.leaves.map((l) => l.fingerprint);
  const warmArgs = (prefix: string, ...more: string[]) => ['warm', '--certs', live(), '--redis', REDIS_URL, '--prefix', prefix, ...more];

  beforeAll(async () => {
    fx = await startServeFixture({ label: 'warm-timeout', count: 8, prefixes });
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker?.once('exit', r));
    }
    await fx?.close();
  });

  it('with --no-work and no worker: says so on stderr, then exits 1 at --timeout with every certificate under "timeout"', async () => {
    const startedAt = Date.now();
    const run = await runCli(warmArgs(noWorkerPrefix, '--no-work', '--timeout', '5', '--json'), {}, 30_000);
    const elapsed = Date.now() - startedAt;
    expect(run.code, run.stderr).toBe(1);
    expect(elapsed).toBeLessThan(5_000 + START_UP_SLACK_MS);
    // One plain line naming what it waited on: the queue, its keys and the Redis.
    const notices = run.stderr.split('\n').filter((line) => line.startsWith('warm: no worker is connected'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(`queue "staple@*" (keys ${noWorkerPrefix}bull:staple@*:*) on ${REDIS_URL}`);
    expect(notices[0]).toContain('--timeout 5 s');
    const summary = JSON.parse(run.stdout) as WarmJson;
    expect(summary.elapsedSeconds).toBeGreaterThanOrEqual(5);
    expect(summary.elapsedSeconds).toBeLessThan(6);
    expect(summary.complete).toBe(false);
    expect(summary.failed).toEqual({ timeout: 8 });
    expect(summary.failures.map((f) => f.fingerprint).sort()).toEqual([...fps()].sort());
    expect(summary.failures[0]?.reason).toMatch(/not finished within --timeout 5 s \(no worker was connected to the queue\)/);
    expect(await countStapled(fx.redis, noWorkerPrefix, fps())).toBe(0);
  });

  it('with --no-work and a worker that starts a few seconds later: completes normally', async () => {
    const warm = spawn(process.execPath, [STAPLEWARM_BIN, ...warmArgs(lateWorkerPrefix, '--no-work', '--timeout', '60', '--json')], {
      env: { ...process.env, ...ALLOW_LOOPBACK_RESPONDERS, STAPLEWARM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    warm.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    warm.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => warm.on('close', resolve));
    // The worker comes only once warm has said that nobody is there.
    await waitFor(async () => stderr.includes('warm: no worker is connected'), 30_000, `the no-worker notice\n${stderr}`);
    worker = spawn(
      process.execPath,
      [STAPLEWARM_BIN, 'worker', '--redis', REDIS_URL, '--prefix', lateWorkerPrefix, '--rate', '0', '--metrics-port', '0'],
      { env: { ...process.env, ...ALLOW_LOOPBACK_RESPONDERS, STAPLEWARM_LOG_LEVEL: 'warn' }, stdio: 'ignore' },
    );
    expect(await exited, stderr).toBe(0);
    const summary = JSON.parse(stdout) as WarmJson;
    expect(summary).toMatchObject({ complete: true, stored: { good: 8 }, failed: {} });
    expect(await countStapled(fx.redis, lateWorkerPrefix, fps())).toBe(8);
  });

  it('with in-process workers and a failing responder: gives up at --timeout too', async () => {
    fx.responder.setFaults({ http5xx: true });
    try {
      const startedAt = Date.now();
      // Five attempts with backoff from 1 s take ~15 s per certificate: the 3 s deadline comes first.
      const run = await runCli(warmArgs(inProcessPrefix, '--timeout', '3'), {}, 30_000);
      const elapsed = Date.now() - startedAt;
      expect(run.code, run.stderr).toBe(1);
      expect(elapsed).toBeLessThan(3_000 + START_UP_SLACK_MS);
      const runSeconds = Number(/^elapsed\s+([\d.]+) s/m.exec(run.stdout)?.[1]);
      expect(runSeconds).toBeGreaterThanOrEqual(3);
      expect(runSeconds).toBeLessThan(4);
      expect(run.stdout).toMatch(/^failed\s+8 {2}\(timeout 8\)$/m);
      expect(run.stdout).toMatch(/^ {2}timeout: .*not finished within --timeout 3 s; its job stays queued for a worker$/m);
      // In-process workers: nothing to say about missing workers.
      expect(run.stderr).not.toContain('no worker is connected');
    } finally {
      fx.responder.setFaults({});
    }
  });
});
