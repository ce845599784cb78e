import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * The scan thread's nice value. The scan only has to stay ahead of the fetching it feeds, so the
 * threads fetching (a worker beside `warm --no-work`, or `warm`'s own main thread) get the CPU first
 * when cores are short. At the same priority as them, on a 2-core machine: a worker beside a
 * scanning `warm --no-work` got 456 of its 500 req/s (benchmark (a) 1.10-1.11 of the floor; 1.05
 * niced), and a one-process `warm` of 20,000 certificates took 18.3 s (median of 7) against 16.9 s
 * niced (median of 5, alternated): docs/benchmarks.md.
 */
export const SCAN_THREAD_NICE = 10;

/**
 * Lowers the calling thread's priority to `nice` (never raises it). Linux keeps a nice value per
 * thread, and `setpriority` given a thread id sets that thread's alone; the id comes from
 * /proc/thread-self. Elsewhere (no /proc) it does nothing and says so: false.
 */
export function lowerThreadPriority(nice = SCAN_THREAD_NICE): boolean {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(tid) || tid <= 0) return false;
  try {
    // getPriority/setPriority take a pid; on Linux a thread id names that one thread.
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return true;
  } catch {
    return false; // e.g. a seccomp profile refusing setpriority: the scan runs as it did
  }
}
