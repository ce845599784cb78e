/**
 * The Redis password never shows: the real CLI (`worker`, `warm`, `status`) against a private
 * redis-server with `requirepass`, the password given through REDIS_URL, through
 * --redis-password-file, and (discouraged) through --redis. Mid-run the password changes and every
 * client is dropped, so each re-authentication fails while the process runs: ioredis then hands
 * errors holding the AUTH command, password included, to BullMQ's and Bottleneck's listeners, which
 * log them. Everything the processes print, and their process arguments, are searched for it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generatePki, startResponder, type Responder } from '@staplewarm/responder-sim';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPasswordedRedis, type PasswordedRedis } from '@staplewarm/testing';
import { STAPLEWARM_BIN, freePort, hasCommand, runCli } from '@staplewarm/testing';

/** `/`, `@` and `:` are what URLs make hard; a quote, what JSON escapes. */
const newSecret = (): string => `s3/cr@t:"${randomBytes(8).toString('hex')}`;

/** The secret as given, percent-encoded (in a URL) and JSON-escaped (in a log line). */
const forms = (secret: string): string[] => [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];

function expectNowhere(secret: string, where: string, text: string): void {
  for (const form of forms(secret)) expect(text.includes(form), `${where} holds the password (as ${JSON.stringify(form)})`).toBe(false);
}

/** A running `staplewarm` process whose output is collected. */
class CliProcess {
  private readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<void>;
  static readonly running = new Set<CliProcess>();

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [STAPLEWARM_BIN, ...args], {
      env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'info', STAPLEWARM_METRICS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('close', () => resolve()));
    CliProcess.running.add(this);
  }

  /** Its arguments as the process list shows them (NUL-separated in /proc). */
  cmdline(): string {
    return readFileSync(`/proc/${this.child.pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} on stderr after ${timeoutMs} ms:\n${this.stderr.slice(-3000)}`);
      if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode}) before ${pattern}:\n${this.stderr.slice(-3000)}`);
      await sleep(50);
    }
  }

  /** SIGTERM; SIGKILL when it has not exited after `graceMs` (a worker cannot finish its jobs while Redis refuses it). */
  async stop(graceMs = 3_000): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const ended = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!ended) this.child.kill('SIGKILL');
    }
    await this.exited;
    CliProcess.running.delete(this);
  }

  output(): string {
    return `${this.stdout}\n${this.stderr}`;
  }
}

describe.skipIf(!hasCommand('redis-server'))('the Redis password never shows', () => {
  let dir: string;
  let redis: PasswordedRedis | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-secrets-'));
  });
  afterEach(async () => {
    await Promise.all([...CliProcess.running].map((cli) => cli.stop(1_000)));
    await redis?.stop();
    redis = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A password file as an operator writes it (mode 0600, newline at the end). */
  const passwordFile = (secret: string): string => {
    const path = join(dir, `redis-password-${randomBytes(4).toString('hex')}`);
    writeFileSync(path, `${secret}\n`, { mode: 0o600 });
    return path;
  };

  /**
   * Starts `worker`, checks its process arguments, changes the password under it, waits until the
   * failed re-authentication was logged, stops it, and returns everything it printed.
   */
  async function workerThroughPasswordChange(secret: string, args: string[], env: Record<string, string>): Promise<CliProcess> {
    const worker = new CliProcess(['worker', '--prefix', `swtest:secrets:${randomBytes(4).toString('hex')}:`, ...args], env);
    await worker.waitFor(/worker: running/);
    expectNowhere(secret, 'the process arguments', worker.cmdline());
    await redis!.changePassword(newSecret());
    await worker.waitFor(/WRONGPASS/);
    await sleep(500); // a few reconnect rounds, each failing again
    await worker.stop();
    return worker;
  }

  it('worker, password in REDIS_URL: not in its output after re-authentication fails, nor in its arguments', async () => {
    const secret = newSecret();
    redis = await startPasswordedRedis(secret);
    const worker = await workerThroughPasswordChange(secret, [], {
      REDIS_URL: `redis://:${encodeURIComponent(secret)}@127.0.0.1:${redis.port}/0`,
    });
    expectNowhere(secret, 'worker output', worker.output());
    // The failure was logged, with the AUTH command's arguments blanked.
    expect(worker.stderr).toContain('"command":{"name":"auth","args":"[Redacted]"}');
  });

  it('worker, --redis-password-file: not in its output after re-authentication fails, nor in its arguments', async () => {
    const secret = newSecret();
    redis = await startPasswordedRedis(secret);
    const worker = await workerThroughPasswordChange(secret, ['--redis', redis.url, '--redis-password-file', passwordFile(secret)], {});
    expectNowhere(secret, 'worker output', worker.output());
    expect(worker.stderr).toContain('"command":{"name":"auth","args":"[Redacted]"}');
  });

  it('worker, password in --redis: masked in the process list once started, with a warning', async () => {
    const secret = newSecret();
    redis = await startPasswordedRedis(secret);
    const url = `redis://:${encodeURIComponent(secret)}@127.0.0.1:${redis.port}`;
    const worker = await workerThroughPasswordChange(secret, ['--redis', url], {});
    expectNowhere(secret, 'worker output', worker.output());
    expect(worker.stderr).toMatch(/warning: a password on the command line is visible in the process list/);
  });

  describe('warm', () => {
    let pkiDir: string;
    let responder: Responder;

    beforeAll(async () => {
      pkiDir = join(dir, 'pki');
      const port = await freePort();
      await generatePki({ dir: pkiDir, count: 60, ocspUrls: [`http://127.0.0.1:${port}/`] });
      // Slow enough that warm is still fetching when the password changes.
      responder = await startResponder({ pkiDir, port, latencyMs: 250 });
    });
    afterAll(async () => {
      await responder?.close();
    });

    const warmThroughPasswordChange = async (secret: string, args: string[], env: Record<string, string>): Promise<CliProcess> => {
      const warm = new CliProcess(
        ['warm', '--certs', join(pkiDir, 'live'), '--prefix', `swtest:secrets:${randomBytes(4).toString('hex')}:`, '--rate', '10', ...args],
        { STAPLEWARM_RESPONDER_ALLOW: '127.0.0.0/8', ...env },
      );
      await warm.waitFor(/warm: scan finished/);
      expectNowhere(secret, 'the process arguments', warm.cmdline());
      await redis!.changePassword(newSecret());
      await warm.waitFor(/WRONGPASS/);
      await sleep(500);
      await warm.stop();
      return warm;
    };

    it('password in REDIS_URL: not in its output after re-authentication fails mid-run, nor in its arguments', async () => {
      const secret = newSecret();
      redis = await startPasswordedRedis(secret);
      const warm = await warmThroughPasswordChange(secret, [], {
        REDIS_URL: `redis://:${encodeURIComponent(secret)}@127.0.0.1:${redis.port}`,
      });
      expectNowhere(secret, 'warm output', warm.output());
    });

    it('--redis-password-file: not in its output after re-authentication fails mid-run, nor in its arguments', async () => {
      const secret = newSecret();
      redis = await startPasswordedRedis(secret);
      const warm = await warmThroughPasswordChange(secret, ['--redis-password-file', passwordFile(secret)], { REDIS_URL: redis.url });
      expectNowhere(secret, 'warm output', warm.output());
    });
  });

  it('status with a wrong password: exit 2, the reason, the server, no password', async () => {
    const secret = newSecret();
    redis = await startPasswordedRedis(secret);
    const wrong = newSecret();
    const run = await runCli(['status', '--redis-password-file', passwordFile(wrong)], {
      REDIS_URL: `redis://:${encodeURIComponent(secret)}@127.0.0.1:${redis.port}`,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`staplewarm: redis-unavailable: cannot reach Redis at redis://:***@127.0.0.1:${redis.port}: WRONGPASS`);
    expectNowhere(secret, 'status output', `${run.stdout}${run.stderr}`);
    expectNowhere(wrong, 'status output', `${run.stdout}${run.stderr}`);
  });
});
