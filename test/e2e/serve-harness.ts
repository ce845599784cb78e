/**
 * For the `serve` end-to-end tests: a Redis, PKI and simulator fixture, a long-running
 * `staplewarm serve` child, and polling helpers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcspVerifier } from '@staplewarm/ocsp';
import { generatePki, startResponder, type PkiManifest, type Responder, type StartResponderOptions } from '@staplewarm/responder-sim';
import { scanCertificateStores, type ScannedTarget } from '@staplewarm/scan';
import type { Redis } from 'ioredis';
import { ALLOW_LOOPBACK_RESPONDERS, REDIS_URL, STAPLEWARM_BIN, connectTestRedis, deletePrefix, freePort } from '@staplewarm/testing';

export interface ServeFixture {
  redis: Redis;
  /** Temporary directory of the generated PKI (`live/` is its certbot tree). */
  dir: string;
  manifest: PkiManifest;
  responder: Responder;
  /** Stops every serve process, the responder; deletes the keys under the prefixes and the directory. */
  close(): Promise<void>;
}

export interface ServeFixtureOptions {
  /** Names the temporary directory (`sw-<label>-*`). */
  label: string;
  /** Leaf certificates to generate. */
  count: number;
  /** Key prefixes the test uses, deleted on close. */
  prefixes: readonly string[];
  responder?: Omit<StartResponderOptions, 'pkiDir' | 'port'>;
  /**
   * The port the certificates' OCSP URL names, when something (a proxy) stands in front of the
   * simulator, which then listens on a port of its own. @defaultValue the simulator's port
   */
  ocspPort?: number;
}

/** A Redis connection, a PKI of `count` leaves and a simulator answering for it (for beforeAll). */
export async function startServeFixture(options: ServeFixtureOptions): Promise<ServeFixture> {
  const redis = await connectTestRedis();
  const dir = mkdtempSync(join(tmpdir(), `sw-${options.label}-`));
  let responder: Responder | undefined;
  const close = async (): Promise<void> => {
    await ServeProcess.stopAll();
    await responder?.close();
    for (const prefix of options.prefixes) {
      await deletePrefix(redis, prefix);
    }
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = options.ocspPort ?? (await freePort());
    const manifest = await generatePki({ dir, count: options.count, ocspUrls: [`http://127.0.0.1:${port}/`] });
    responder = await startResponder({ pkiDir: dir, port: options.ocspPort === undefined ? port : 0, ...options.responder });
    return { redis, dir, manifest, responder, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** serve's flags for a test's certificates, key prefix and global rate (0 = unlimited), then `more`. */
export function serveArgs(certs: string, prefix: string, rate: number, ...more: string[]): string[] {
  return ['--certs', certs, '--prefix', prefix, '--rate', String(rate), ...more];
}

/**
 * Clock control for refreshes: retries of a staple that stays due (a refused answer, or the
 * simulator re-serving its cached response) every 0.5-3 s instead of minutes.
 */
export const FAST_RETRIES: readonly string[] = [
  '--refresh-retry-min-ms',
  '500',
  '--refresh-retry-base-ms',
  '1000',
  '--refresh-retry-max-ms',
  '3000',
];

/** FAST_RETRIES, and the refresh point ~1-5 s after each fetch (thisUpdate is a minute before it). */
export const FAST_REFRESH: readonly string[] = ['--refresh-window', '0.0085,0.009', ...FAST_RETRIES];

export interface LogLine {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

/** A running `staplewarm serve`, its JSON log lines collected from stderr. */
export class ServeProcess {
  /** Every process started and not yet exited, so a failed test never leaves one running. */
  private static readonly running = new Set<ServeProcess>();
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  stderr = '';
  private readonly exited: Promise<number>;

  constructor(args: string[], env: Record<string, string> = {}) {
    // /metrics is off unless a test asks for it: test files run in parallel and would share a port.
    const metrics = args.includes('--metrics-port') ? [] : ['--metrics-port', '0'];
    this.child = spawn(process.execPath, [STAPLEWARM_BIN, 'serve', '--redis', REDIS_URL, ...metrics, ...args], {
      env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'info', ...ALLOW_LOOPBACK_RESPONDERS, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let partial = '';
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line (a crash message): kept in stderr
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
    ServeProcess.running.add(this);
    void this.exited.then(() => ServeProcess.running.delete(this));
  }

  /** Stops every serve process still running (for afterAll). */
  static async stopAll(): Promise<void> {
    await Promise.all([...ServeProcess.running].map((p) => p.stop()));
  }

  /** Resolves with the first scan's log line (serve has tracked everything by then). */
  async ready(timeoutMs = 30_000): Promise<LogLine> {
    return waitFor(async () => this.logs.find((l) => l.msg?.startsWith('scan: tracking')), timeoutMs, `serve's first scan\n${this.stderr}`);
  }

  scans(): LogLine[] {
    return this.logs.filter((l) => l.msg?.startsWith('scan: tracking'));
  }

  hup(): void {
    this.child.kill('SIGHUP');
  }

  /** SIGTERM, then the exit code; SIGKILL (and -1) when it has not stopped within `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<number> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve(-1);
      }, timeoutMs);
    });
    const code = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    return code;
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Polls until `check` returns something truthy; fails naming `what` after the timeout. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface StoredStaple {
  der: Buffer | null;
  meta: Record<string, string>;
}

/** How many of `fps` have a staple stored, in one pipeline. */
export async function countStapled(redis: Redis, prefix: string, fps: readonly string[]): Promise<number> {
  const pipeline = redis.pipeline();
  for (const fp of fps) pipeline.exists(`${prefix}staple:${fp}`);
  return ((await pipeline.exec()) ?? []).filter(([, n]) => n === 1).length;
}

/** Polls until every one of `fps` has a staple stored. */
export async function waitForStapled(redis: Redis, prefix: string, fps: readonly string[], timeoutMs: number, what: string): Promise<void> {
  await waitFor(async () => (await countStapled(redis, prefix, fps)) === fps.length, timeoutMs, what);
}

/** Polls until the stored staple of every one of `fps` passes `check` (given its index); returns them. */
export async function waitForStaples(
  redis: Redis,
  prefix: string,
  fps: readonly string[],
  check: (staple: StoredStaple, index: number) => boolean,
  timeoutMs: number,
  what: string,
): Promise<StoredStaple[]> {
  return waitFor(
    async () => {
      const staples = await readStaples(redis, prefix, fps);
      return staples.every(check) && staples;
    },
    timeoutMs,
    what,
  );
}

/** Staple bytes and meta of each fingerprint, in one pipeline. */
export async function readStaples(redis: Redis, prefix: string, fps: readonly string[]): Promise<StoredStaple[]> {
  const pipeline = redis.pipeline();
  for (const fp of fps) {
    pipeline.getBuffer(`${prefix}staple:${fp}`);
    pipeline.hgetall(`${prefix}meta:${fp}`);
  }
  const replies = ((await pipeline.exec()) ?? []).map(([err, value]) => {
    if (err) throw err;
    return value;
  });
  return fps.map((_, i) => ({ der: replies[2 * i] as Buffer | null, meta: replies[2 * i + 1] as Record<string, string> }));
}

/** What a verifier needs for each certificate of a directory, by fingerprint. */
export async function targetsOf(dir: string): Promise<Map<string, ScannedTarget>> {
  const report = await scanCertificateStores([dir], { now: Date.now() });
  return new Map(report.targets.map((t) => [t.fingerprint, t]));
}

/** Verifies stored bytes as staplewarm's worker does (signature, CertID, times); throws when they do not. */
export function verifyStaple(der: Buffer, target: ScannedTarget, verifier = new OcspVerifier()): ReturnType<OcspVerifier['verify']> {
  return verifier.verify(der, { certId: target.certId, issuerSpki: target.issuerSpki, certNotAfter: target.certNotAfter }, Date.now());
}
