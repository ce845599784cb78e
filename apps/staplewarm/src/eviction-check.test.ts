/**
 * The start-up warning about an evicting Redis: the function against a private redis-server started
 * with `--maxmemory-policy allkeys-lru` and against the shared Redis, then the real `warm`, `worker`
 * and `serve` commands (the built CLI) pointed at the private one.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StapleLogger } from '@staplewarm/queue';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasRedisServer, startRedisServer, type RedisServer } from '@staplewarm/testing';
import { REDIS_URL, STAPLEWARM_BIN, connectOrSkip, runCli, testPrefix } from '@staplewarm/testing';
import { warnIfRedisEvicts } from './eviction-check.js';

const WARNING = /^Redis maxmemory-policy is allkeys-lru \(no maxmemory limit is set now.*set maxmemory-policy noeviction$/;

function recordingLog() {
  const lines: [level: string, obj: object, msg: string | undefined][] = [];
  const log: StapleLogger = {
    info: (obj, msg) => void lines.push(['info', obj, msg]),
    warn: (obj, msg) => void lines.push(['warn', obj, msg]),
    error: (obj, msg) => void lines.push(['error', obj, msg]),
  };
  return { log, lines };
}

const available = hasRedisServer('apps/staplewarm eviction-check');

describe.skipIf(!available)('warnIfRedisEvicts', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer(['--maxmemory-policy', 'allkeys-lru']);
    const admin = await server.connect();
    await admin.acl('SETUSER', 'managed', 'on', '>pw', '~*', '&*', '+@all', '-config', '-info');
    admin.disconnect();
  });
  afterAll(() => server?.stop());
  afterEach(() => vi.restoreAllMocks());

  it('warns in the log, and with one plain line on stderr when asked, when Redis evicts', async () => {
    const redis = await server.connect();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { log, lines } = recordingLog();
    try {
      expect(await warnIfRedisEvicts(redis, log, { stderr: true })).toMatchObject({ kind: 'evicting', policy: 'allkeys-lru' });
    } finally {
      redis.disconnect();
    }
    expect(lines).toEqual([['warn', { maxmemoryPolicy: 'allkeys-lru', maxmemoryBytes: 0 }, expect.stringMatching(WARNING)]]);
    expect(stderr.mock.calls).toEqual([
      [expect.stringMatching(/^staplewarm: warning: Redis maxmemory-policy is allkeys-lru .*noeviction\n$/)],
    ]);
  });

  it('writes nothing on stderr unless asked (worker, serve: their log is the place)', async () => {
    const redis = await server.connect();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { log, lines } = recordingLog();
    try {
      await warnIfRedisEvicts(redis, log);
    } finally {
      redis.disconnect();
    }
    expect(lines.map(([level]) => level)).toEqual(['warn']);
    expect(stderr).not.toHaveBeenCalled();
  });

  it('logs at info, naming what to check, when Redis will not say (managed Redis refusing INFO and CONFIG)', async () => {
    const redis = await server.connect({ username: 'managed', password: 'pw', enableReadyCheck: false });
    const { log, lines } = recordingLog();
    try {
      expect(await warnIfRedisEvicts(redis, log, { stderr: true })).toMatchObject({ kind: 'unknown' });
    } finally {
      redis.disconnect();
    }
    expect(lines).toEqual([['info', { reason: expect.stringMatching(/NOPERM/) }, expect.stringMatching(/make sure it is noeviction$/)]]);
  });

  it('never throws: a check that cannot run is logged and start-up goes on', async () => {
    const redis = await server.connect();
    redis.disconnect();
    const { log, lines } = recordingLog();
    expect(await warnIfRedisEvicts(redis, log, { stderr: true })).toBeUndefined();
    expect(lines).toEqual([['warn', { err: expect.any(Error) }, 'could not check Redis maxmemory-policy']]);
  });
});

const shared = await connectOrSkip(REDIS_URL, 'apps/staplewarm eviction-check');

describe.skipIf(!shared)('warnIfRedisEvicts on the shared Redis (noeviction)', () => {
  afterAll(() => shared?.quit());

  it('says nothing', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { log, lines } = recordingLog();
    expect(await warnIfRedisEvicts(shared!, log, { stderr: true })).toMatchObject({ kind: 'noeviction' });
    expect(lines).toEqual([]);
    expect(stderr).not.toHaveBeenCalled();
    stderr.mockRestore();
  });
});

describe.skipIf(!available)('warm, worker and serve against an evicting Redis', () => {
  let server: RedisServer;
  let certs: string;
  const prefix = testPrefix('eviction');
  beforeAll(async () => {
    server = await startRedisServer(['--maxmemory-policy', 'allkeys-lru']);
    certs = mkdtempSync(join(tmpdir(), 'sw-eviction-'));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(certs, { recursive: true, force: true });
  });

  /** JSON log lines of stderr at level warn (40) with the eviction message. */
  const warnings = (stderr: string) =>
    stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; maxmemoryPolicy?: string })
      .filter((entry) => entry.level === 40 && WARNING.test(entry.msg));

  it('warm prints one plain line on stderr, beside its log', async () => {
    const run = await runCli(['warm', '--certs', certs, '--redis', server.url, '--prefix', prefix, '--json']);
    const plain = run.stderr.split('\n').filter((line) => line.startsWith('staplewarm: warning: '));
    expect(plain).toHaveLength(1);
    expect(plain[0]?.slice('staplewarm: warning: '.length)).toMatch(WARNING);
    expect(warnings(run.stderr)).toHaveLength(1);
  });

  const longRunning: [string, () => string[]][] = [
    ['worker', () => ['worker', '--metrics-port', '0']],
    ['serve', () => ['serve', '--certs', certs, '--metrics-port', '0']],
  ];
  it.each(longRunning)('%s logs the warning at start', async (_name, args) => {
    const stderr = await untilStopped([...args(), '--redis', server.url, '--prefix', prefix], (text) => warnings(text).length > 0);
    expect(warnings(stderr)).toEqual([expect.objectContaining({ maxmemoryPolicy: 'allkeys-lru' })]);
  });
});

/** Runs a long-running command until `done(stderr)`, then stops it with SIGTERM (by its pid) and returns its stderr. */
async function untilStopped(args: string[], done: (stderr: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const child = spawn(process.execPath, [STAPLEWARM_BIN, ...args], {
    env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`staplewarm ${args[0]} did not warn in ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (done(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        if (done(stderr)) resolve();
        else reject(new Error(`staplewarm ${args[0]} exited before warning:\n${stderr}`));
      });
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
  return stderr;
}
