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

/** The commands whose heap is bounded here (`warm`, `worker`, `serve`); not `relay` (see above). */
export const HEAP_BOUNDED_COMMANDS: ReadonlySet<string> = new Set(['warm', 'worker', 'serve']);

/**
 * V8's semi-space cap, MB: Node 20's default. Node 24 lets the young generation grow to 134 MB
 * (64 MB semi-spaces, measured with `v8.getHeapSpaceStatistics`; Node 22, not measured, is given
 * the same cap: at worst a start-up spent for nothing) against Node 20's 34 MB, and
 * `warm` over 50,000 certificates from 5 CAs peaked at 368-373 MB of RSS on Node 24 against
 * 247 MB on Node 20; 8 MB took it to 293 MB for 17 % more CPU (docs/benchmarks.md). The cap is
 * read once, when V8 sets up the heap: it cannot be set from inside the process like the factor.
 */
export const SEMI_SPACE_MB = 16;

/**
 * The node options to start again with so the young generation is capped, or undefined: on Node 20
 * (its default is the cap), or when the user chose a semi-space size on the command line or in
 * NODE_OPTIONS, which then stands.
 */
export function youngGenerationArgs(execArgv: readonly string[], nodeOptions: string | undefined, nodeMajor: number): string[] | undefined {
  if (nodeMajor < 22) return undefined;
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((arg) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(arg));
  return given ? undefined : [`--max-semi-space-size=${SEMI_SPACE_MB}`];
}

/**
 * For `warm`, `worker` and `serve` on Node 22+: replaces this process with node started with the
 * young generation capped (`process.execve`: the same PID, arguments, environment and standard
 * streams; nothing has run yet but the CLI's entry point). A no-op for other commands, on Node 20,
 * when the user set the size, or where `process.execve` is missing (Node 22 before 22.15).
 */
export function capYoungGeneration(command: string | undefined): void {
  if (command === undefined || !HEAP_BOUNDED_COMMANDS.has(command)) return;
  const args = youngGenerationArgs(process.execArgv, process.env['NODE_OPTIONS'], Number(process.versions.node.split('.')[0]));
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (!args || typeof execve !== 'function') return;
  execve.call(process, process.execPath, [process.execPath, ...process.execArgv, ...args, ...process.argv.slice(1)], process.env);
}
