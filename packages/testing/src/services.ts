/** Real services for end-to-end tests: Redis, processes, ports. Tests fail (not skip) in CI without them. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const STAPLEWARM_BIN = fileURLToPath(new URL('../../../apps/staplewarm/bin/staplewarm.js', import.meta.url));

/** A fresh key prefix per test file: tests share one Redis. */
export function testPrefix(label: string): string {
  return `swtest:${label}:${randomBytes(4).toString('hex')}:`;
}

/**
 * For package tests: connects, or returns undefined when Redis is not there so the suite can skip
 * locally; under CI=true a missing Redis fails instead. `maxRetriesPerRequest: null` because BullMQ
 * refuses connections without it.
 */
export async function connectOrSkip(url: string, who: string): Promise<Redis | undefined> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: () => null });
  // Connection errors also reject the commands that hit them; the event itself would only add noise.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    if (process.env.CI === 'true') throw new Error(`Redis is required under CI=true (${url})`, { cause: err });
    process.emitWarning(`${who}: Redis not reachable at ${url}; skipping the Redis tests`);
    return undefined;
  }
}

export async function connectTestRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`these tests need Redis at ${REDIS_URL} (start redis-server, or run bash .ci/run): ${String(err)}`);
  }
  return redis;
}

/** Deletes every key under a prefix, and the host limiter's (SCAN, never KEYS). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  // The host limiter's Bottleneck keys live outside the prefix: `b_<prefix>bull:hosts-<host>_*`.
  for (const pattern of [`${prefix}*`, `b_${prefix}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  }
}

/** Ports freePort() draws from: below the kernel's ephemeral range (Linux: 32768-60999). */
const FREE_PORT_RANGE = { from: 20_000, to: 32_000 } as const;

/**
 * A port free on 127.0.0.1 a moment ago, for a server that must be named before it starts (a
 * responder whose URL is inside the certificates). Drawn at random below the ephemeral range: a
 * port the kernel hands out for port 0 is also one it gives the outgoing connections of the tests
 * running beside, and one of those took such a port between this check and the listen (seen in CI).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FREE_PORT_RANGE.from + randomInt(FREE_PORT_RANGE.to - FREE_PORT_RANGE.from);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 in ${FREE_PORT_RANGE.from}-${FREE_PORT_RANGE.to - 1} after 100 tries`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The tests' responders listen on loopback, which the worker's responder address policy refuses by
 * default: every helper that starts the CLI allows it explicitly (a test of the policy overrides it).
 */
export const ALLOW_LOOPBACK_RESPONDERS: Readonly<Record<string, string>> = { STAPLEWARM_RESPONDER_ALLOW: '127.0.0.0/8' };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `staplewarm` binary (the built CLI), as a user would; loopback responders allowed unless `env` says otherwise. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STAPLEWARM_BIN, ...args], {
      env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'warn', ...ALLOW_LOOPBACK_RESPONDERS, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`staplewarm ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Is a command on PATH? */
export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Waits until a TCP port accepts connections. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** Starts `openssl ocsp` as an independent responder for a PKI made by makeOpensslPki. */
export async function startOpensslResponder(
  pki: { dir: string; indexTxt: string; issuerPem: string; signerPem: string; signerKey: string },
  port: number,
): Promise<{ url: string; process: ChildProcess; stop: () => void }> {
  const child = spawn(
    'openssl',
    [
      'ocsp',
      '-index',
      pki.indexTxt,
      '-port',
      String(port),
      '-rsigner',
      pki.signerPem,
      '-rkey',
      pki.signerKey,
      '-CA',
      pki.issuerPem,
      '-nmin',
      '60',
      '-multi',
      '4',
      '-ignore_err',
    ],
    { cwd: pki.dir, stdio: 'ignore' },
  );
  await waitForPort(port);
  // `-multi` makes openssl lead its own process group and fork children that outlive (and spin
  // without) their parent: signal the whole group.
  const stop = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM'); // not (yet) a group leader
    }
  };
  return { url: `http://127.0.0.1:${port}`, process: child, stop };
}
