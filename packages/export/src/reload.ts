/**
 * Runs the server's reload command once per batch of changes: a change asks for a reload, which runs
 * `debounceMs` later (and not before `minIntervalMs` after the previous one started) with every
 * change made meanwhile; changes during a reload ask for one more. A failed reload is retried every
 * `retryMs` until one succeeds: until then the server staples what it loaded last.
 */
import { spawn } from 'node:child_process';
import { ExportError } from './errors.js';

export interface ReloaderOptions {
  /** A shell command (`/bin/sh -c`), e.g. `systemctl reload nginx` or `nginx -s reload`. */
  command: string;
  /** @defaultValue 1000 */
  debounceMs?: number;
  /**
   * At least this long between the starts of two reloads (a failed one's retry excepted): a fleet
   * refreshing 50,000 staples over days changes one every few seconds, and each nginx reload
   * starts new workers while the old ones drain. @defaultValue 0
   */
  minIntervalMs?: number;
  /** A reload taking longer is killed and counts as failed. @defaultValue 60000 */
  timeoutMs?: number;
  /** @defaultValue 30000 */
  retryMs?: number;
  /** Told of every reload's outcome. */
  onResult?: (result: ReloadResult) => void;
}

export type ReloadResult = { ok: true; ms: number } | { ok: false; ms: number; error: ExportError };

/** Stderr kept from a failing command, for the error message. */
const STDERR_KEPT = 2_000;

/** Runs `command` with /bin/sh; resolves with how it went, never rejects. */
export function runReloadCommand(command: string, timeoutMs: number): Promise<ReloadResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let stderr = '';
    // A process group of its own: a timeout kills what the shell started too (it would hold stderr open).
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < STDERR_KEPT) stderr += chunk.slice(0, STDERR_KEPT - stderr.length);
    });
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is gone already
      }
    }, timeoutMs);
    const fail = (what: string): void =>
      resolve({
        ok: false,
        ms: performance.now() - started,
        error: new ExportError('reload-failed', `reload command ${what}${stderr.trim() ? `: ${stderr.trim()}` : ''}`),
      });
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(`could not start (${err.message})`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ ok: true, ms: performance.now() - started });
      else
        fail(signal ? `was killed by ${signal}${signal === 'SIGKILL' ? ` (timeout ${timeoutMs} ms?)` : ''}` : `exited with status ${code}`);
    });
  });
}

export class Reloader {
  private timer: NodeJS.Timeout | undefined;
  /** The timer waits to retry a failed reload: a new change need not wait that long. */
  private timerIsRetry = false;
  private running: Promise<ReloadResult> | undefined;
  private again = false;
  private closed = false;
  private lastResult: ReloadResult | undefined;
  /** When the last reload started (performance.now()), for `minIntervalMs`. */
  private lastStart: number | undefined;

  constructor(private readonly options: ReloaderOptions) {}

  /** Asks for a reload within `debounceMs` (or right after the one running). */
  request(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer && this.timerIsRetry) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.timerIsRetry = false;
    const spacing = this.lastStart === undefined ? 0 : this.lastStart + (this.options.minIntervalMs ?? 0) - performance.now();
    this.timer ??= setTimeout(() => void this.runNow(), Math.max(this.options.debounceMs ?? 1_000, spacing));
  }

  /** Is a reload asked for or running? */
  get pending(): boolean {
    return this.timer !== undefined || this.running !== undefined;
  }

  get last(): ReloadResult | undefined {
    return this.lastResult;
  }

  /** Runs the reload asked for now (no debounce), and waits for it and any follow-up. */
  async flush(): Promise<ReloadResult | undefined> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      return this.runNow();
    }
    if (this.running) await this.running;
    return this.lastResult;
  }

  /** Stops asking; a running reload is left to finish (awaited). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async runNow(): Promise<ReloadResult> {
    this.timer = undefined;
    this.again = false;
    this.lastStart = performance.now();
    this.running = runReloadCommand(this.options.command, this.options.timeoutMs ?? 60_000);
    const result = await this.running;
    this.running = undefined;
    this.lastResult = result;
    this.options.onResult?.(result);
    if (this.closed) return result;
    if (this.again) this.request();
    else if (!result.ok) {
      this.timer = setTimeout(() => void this.runNow(), this.options.retryMs ?? 30_000);
      this.timerIsRetry = true;
    }
    return result;
  }
}
