import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * The nice value of a scan thread asked to run at a lower priority (`ScanOptions.lowPriority`:
 * `warm`). On a 2-core machine a worker beside a scanning `warm --no-work` got 456 of its 500 req/s
 * at the same priority (benchmark (a) 1.10-1.11 of the floor), 481-487 with the scan at nice 10
 * (1.04-1.05); the one-process `warm` of benchmark (e) took 0.9-1.4 s less of ~23 s. See
 * docs/benchmarks.md.
 */
export const SCAN_THREAD_NICE = 10;

/**
 * Lowers the calling thread's priority to `nice` (never raises it) and answers the thread's nice
 * value after. Linux keeps a nice value per thread, and `setpriority` given a thread id sets that
 * thread's alone; the id comes from /proc/thread-self. Elsewhere (no /proc), or where setpriority is
 * refused, it does nothing and says so: undefined.
 */
export function lowerThreadPriority(nice = SCAN_THREAD_NICE): number | undefined {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(tid) || tid <= 0) return undefined;
  try {
    // getPriority/setPriority take a pid; on Linux a thread id names that one thread.
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return undefined; // e.g. a seccomp profile refusing setpriority: the scan runs as it did
  }
}
