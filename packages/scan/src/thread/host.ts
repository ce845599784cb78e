import { performance } from 'node:perf_hooks';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { ScanError } from '../errors.js';
import type { ScannedTarget } from '../pair/pair.js';
import type { ScanReport } from '../scan.js';
import { Heartbeat, type WorkerInput, type WorkerMessage } from './protocol.js';
import { workerScript } from './worker-script.js';

export interface ThreadOptions {
  stallTimeoutMs: number;
  /** false: the report's targets stay empty (counted only); see ScanOptions.keepTargets. @defaultValue true */
  keepTargets?: boolean;
  /** The thread's script. @defaultValue the built scan-worker.js (tests swap it) */
  script?: URL;
  /** The thread's heap limits (tests make it run out). @defaultValue SCAN_THREAD_LIMITS */
  resourceLimits?: ResourceLimits;
}

/**
 * The scan thread's young generation, capped: what it keeps is small (a directory's listing, the
 * leaves waiting for an issuer) and what it makes is short-lived garbage (each file's bytes and
 * parse), for which V8 otherwise grows up to 48 MB of semi-spaces in this thread beside the main
 * thread's own. 4 MB: `warm` over 50,000 certificates peaked ~30-40 MB lower, the scan no slower
 * (docs/benchmarks.md). The old generation is not capped: a directory of a million entries is held
 * while it is walked.
 */
export const SCAN_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 4 };

/**
 * A thread of a scan that stalled and has not exited yet: it is blocked in a call that does not
 * return (a hard-mounted NFS server gone). A scan started meanwhile would most likely block on the
 * same file, one more stuck thread each time `serve` rescans: it is refused instead.
 */
let stuck: { path: string; since: number; worker: Worker } | undefined;

/**
 * Runs the scan in a worker thread and rebuilds its report here: targets arrive in batches while
 * the thread reads, and are handed to `onTargets` one call at a time (the scan resolves after the
 * last one, or rejects with its error, and then stops the thread). The thread crashing, exiting
 * early or making no progress for `stallTimeoutMs` rejects the scan with a `ScanError`.
 */
export function scanInThread(
  input: Omit<WorkerInput, 'heartbeat'>,
  onTargets: ((targets: ScannedTarget[]) => Promise<void> | void) | undefined,
  options: ThreadOptions,
): Promise<ScanReport> {
  if (stuck) {
    const since = new Date(stuck.since).toISOString();
    return Promise.reject(
      new ScanError(
        'scan-stalled',
        `the thread of an earlier scan is still blocked reading ${stuck.path} (since ${since}); not scanning again`,
      ),
    );
  }
  return new Promise<ScanReport>((resolve, reject) => {
    const heartbeat = new Heartbeat(new SharedArrayBuffer(Heartbeat.BYTES));
    let worker: Worker;
    try {
      const workerData: WorkerInput = { ...input, heartbeat: heartbeat.shared };
      worker = new Worker(options.script ?? workerScript(), {
        workerData,
        resourceLimits: { ...SCAN_THREAD_LIMITS, ...options.resourceLimits },
      });
    } catch (err) {
      reject(
        err instanceof ScanError
          ? err
          : new ScanError('worker-failed', `the scan thread could not start: ${messageOf(err)}`, { cause: err }),
      );
      return;
    }

    const keepTargets = options.keepTargets ?? true;
    const targets: ScannedTarget[] = [];
    let targetCount = 0;
    let batch: ScannedTarget[] = [];
    const shared = new Map<string, string>();
    let calls: Promise<void> = Promise.resolve();
    let finished = false;
    let over = false;
    // The heartbeat is read, not waited for: a thread stuck in a read posts nothing.
    const stopWatching = watchHeartbeat(heartbeat, options.stallTimeoutMs, (path) => {
      stuck = { path, since: Date.now() - options.stallTimeoutMs, worker };
      fail(
        new ScanError(
          'scan-stalled',
          `the scan made no progress for ${options.stallTimeoutMs / 1000} s, blocked on ${path} ` +
            '(a file whose read does not return: a hung network filesystem?)',
        ),
      );
    });
    const fail = (error: unknown): void => {
      if (over) return;
      over = true;
      stopWatching();
      // Stops a thread stuck in JavaScript at once; one blocked in a system call when it returns.
      void worker.terminate();
      reject(error);
    };

    worker.on('message', (message: WorkerMessage) => {
      if (over) return;
      try {
        receive(message);
      } catch (err) {
        // Thrown here, it would be an uncaught exception of the calling process: the scan's instead.
        fail(new ScanError('worker-failed', `a message from the scan thread could not be handled: ${messageOf(err)}`, { cause: err }));
      }
    });
    const receive = (message: WorkerMessage): void => {
      switch (message.type) {
        case 'targets': {
          for (const target of message.targets) {
            shareIssuerStrings(target, shared);
            targetCount++;
            if (keepTargets) targets.push(target);
            if (onTargets) batch.push(target);
          }
          if (!onTargets || !message.batchEnd) return;
          const full = batch;
          batch = [];
          calls = calls.then(() => (over ? undefined : onTargets(full))).catch(fail);
          return;
        }
        case 'done': {
          finished = true;
          stopWatching();
          const { collected, threadNice } = message;
          void calls.then(() => {
            if (over) return;
            over = true;
            addPaths(targets, collected.morePaths);
            // Sorted by first path (walk order interleaves directories); the ones paired at the end join their place.
            targets.sort((a, b) => compare(a.paths[0] ?? '', b.paths[0] ?? ''));
            const { noOcspUrl, problems, filesRead, keyFilesSkipped, leaves } = collected;
            resolve({
              targets,
              targetCount,
              noOcspUrl,
              problems,
              filesRead,
              keyFilesSkipped,
              leaves,
              ...(threadNice === undefined ? {} : { threadNice }),
            });
          });
          return;
        }
      }
    };
    // The thread's error is acted on at its exit, not when it arrives: Node emits 'error' as soon as
    // the thread throws, possibly before the targets it posted just before (their port is drained only
    // at 'exit'), and those still go to onTargets first.
    let threadError: { error: unknown } | undefined;
    worker.on('error', (err) => (threadError ??= { error: err }));
    worker.on('messageerror', (err) =>
      fail(new ScanError('worker-failed', `a message from the scan thread could not be read: ${messageOf(err)}`, { cause: err })),
    );
    worker.on('exit', (code) => {
      if (stuck?.worker === worker) stuck = undefined;
      if (finished) return;
      const error = threadError
        ? new ScanError('worker-failed', `the scan thread failed: ${messageOf(threadError.error)}`, { cause: threadError.error })
        : new ScanError('worker-failed', `the scan thread exited with code ${code} before it finished`);
      void calls.then(() => fail(error));
    });
  });
}

/**
 * Calls `onStall` with the last path the thread was at when its heartbeat has not moved for
 * `stallTimeoutMs` (0: never). Returns what stops watching.
 */
function watchHeartbeat(heartbeat: Heartbeat, stallTimeoutMs: number, onStall: (path: string) => void): () => void {
  if (stallTimeoutMs <= 0) return () => {};
  let beats = heartbeat.count;
  let lastBeatAt = performance.now();
  const timer = setInterval(
    () => {
      if (heartbeat.count !== beats) {
        beats = heartbeat.count;
        lastBeatAt = performance.now();
      } else if (performance.now() - lastBeatAt >= stallTimeoutMs) {
        clearInterval(timer);
        onStall(heartbeat.lastPath || '(the thread had not started)');
      }
    },
    Math.max(10, Math.min(1_000, stallTimeoutMs / 4)),
  ).unref();
  return () => clearInterval(timer);
}

/**
 * One copy of each issuer's strings instead of one per target: a thread's strings arrive as copies,
 * and the ~300 bytes of issuer key, name, CertID hashes and OCSP URL are the same for every leaf of
 * a CA (the calling thread holds every target to the end of the scan, `warm` to the end of its run).
 */
function shareIssuerStrings(target: ScannedTarget, shared: Map<string, string>): void {
  const one = (value: string): string => {
    const known = shared.get(value);
    if (known !== undefined) return known;
    shared.set(value, value);
    return value;
  };
  target.issuerSpki = one(target.issuerSpki);
  if (target.issuerName !== undefined) target.issuerName = one(target.issuerName);
  const { certId, ocspUrls } = target;
  certId.hashAlgorithm = certId.hashAlgorithm === 'sha1' ? 'sha1' : 'sha256';
  certId.issuerNameHash = one(certId.issuerNameHash);
  certId.issuerKeyHash = one(certId.issuerKeyHash);
  for (let i = 0; i < ocspUrls.length; i++) ocspUrls[i] = one(ocspUrls[i] as string);
}

function addPaths(targets: ScannedTarget[], morePaths: readonly [string, string[]][]): void {
  if (morePaths.length === 0) return;
  const more = new Map(morePaths);
  for (const target of targets) {
    const paths = more.get(target.fingerprint);
    if (paths) for (const path of paths) if (!target.paths.includes(path)) target.paths.push(path);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
