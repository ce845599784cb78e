import type { StapleLogger } from '@staplewarm/queue';
import { REDACTED_URL, redactUrl } from '../redact.js';

/** How long `warm --no-work` waits before saying that no worker is there: long enough for one to connect. */
export const NO_WORKER_NOTICE_MS = 3_000;

/** A Redis URL as a message may show it: scheme, host, port and database, never credentials or options. */
export function redisAddress(url: string): string {
  // Through the one redaction helper first: a password with '/' or '@' would otherwise spill into the path.
  if (redactUrl(url) === REDACTED_URL) return 'the configured Redis';
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'the configured Redis';
  }
}

/** The line `warm --no-work` prints when no worker serves its queue. Pure. */
export function noWorkerNotice(opts: {
  queue: string;
  queuePrefix: string;
  redisUrl: string;
  afterSeconds: number;
  timeoutSeconds: number;
}): string {
  return (
    `warm: no worker is connected to queue "${opts.queue}" (keys ${opts.queuePrefix}:${opts.queue}:*) on ${redisAddress(opts.redisUrl)} ` +
    `after ${opts.afterSeconds} s: start \`staplewarm worker\` with the same --redis and --prefix, or run warm without --no-work ` +
    `(giving up after --timeout ${opts.timeoutSeconds} s)`
  );
}

/**
 * After `afterMs`, asks Redis whether any worker serves `queue` (BullMQ names each worker's
 * blocking connection with CLIENT SETNAME; `getWorkersCount` reads CLIENT LIST) and calls `onNone`
 * when none does, once. A Redis without CLIENT LIST (some managed services) cannot tell: BullMQ then
 * reports one placeholder worker and nothing is said; one that refuses it (an ACL) is logged.
 * Returns a function that cancels the check.
 */
export function watchForWorkers(
  queue: { getWorkersCount(): Promise<number> },
  opts: { afterMs: number; stillWaiting: () => boolean; onNone: () => void; log: StapleLogger },
): () => void {
  let cancelled = false;
  const timer = setTimeout(() => {
    if (cancelled || !opts.stillWaiting()) return;
    queue.getWorkersCount().then(
      (count) => {
        if (count === 0 && !cancelled && opts.stillWaiting()) opts.onNone();
      },
      (err: unknown) => opts.log.warn({ err }, 'warm: cannot tell whether a worker is connected (CLIENT LIST refused)'),
    );
  }, opts.afterMs);
  timer.unref();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
