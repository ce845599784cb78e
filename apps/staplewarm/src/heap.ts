import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap of `warm`, `worker` and `serve` grow past what survived its last full
 * collection. V8 picks the factor itself, up to 4x when collecting is cheap next to the work:
 * `warm` over 50,000 certificates then held a 220 MB heap with 70-90 MB live, and peaked at
 * 350-370 MB of RSS. A fixed 2x (100 %) brought that peak to 251-252 MB, 3x to 305-333 MB, CPU the
 * same within the noise (57.0-62.3 s and 52.8-63.6 s of CPU; 5 CAs, 50,000 certificates, three
 * runs each, alternated); 1.5x gave 230-240 MB for ~10 % more CPU (docs/benchmarks.md). The worker at 500/s: 165 MB from
 * 192-197 MB, CPU the same. Not for `relay`: a small live set and garbage at 10,000+ answers/s,
 * where 2x cost ~20 % more CPU per answer (A/B, two runs each) for no memory worth having.
 * Process-wide once set: it applies to the scan's thread too.
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * The V8 flag to set, or undefined when the process was started with its own
 * (`node --heap-growing-percent=N staplewarm ...`), which then stands. V8 reads this flag each
 * time it sizes the heap, so setting it once the process runs takes effect.
 */
export function heapGrowingFlag(execArgv: readonly string[]): string | undefined {
  const given = execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg));
  return given ? undefined : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** Sets the factor for this process (see HEAP_GROWING_PERCENT), unless node was started with one. */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  const flag = heapGrowingFlag(execArgv);
  if (flag) setFlagsFromString(flag);
}
