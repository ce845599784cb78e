// Test support (not built into dist/): Debian's `prometheus` package, i.e. the Prometheus server
// and promtool, the Prometheus project's own checker.
import { spawnSync } from 'node:child_process';
import { type TestContext } from 'vitest';

export interface PromtoolResult {
  status: number | null;
  /** stdout and stderr together: promtool reports problems on either. */
  output: string;
}

const found = new Map<string, boolean>();

function installed(binary: string): boolean {
  let ok = found.get(binary);
  if (ok === undefined) {
    ok = spawnSync(binary, ['--version'], { encoding: 'utf8' }).status === 0;
    found.set(binary, ok);
  }
  return ok;
}

/**
 * Skips the test when `binary` (promtool, prometheus) is missing, except in CI (`CI=true`), where a
 * missing checker must fail the build rather than pass it silently.
 */
export function requireBinary(ctx: TestContext, binary: 'promtool' | 'prometheus'): void {
  if (installed(binary)) return;
  if (process.env.CI === 'true') throw new Error(`${binary} is required in CI: apt-get install -y prometheus`);
  ctx.skip(`${binary} not installed (apt-get install -y prometheus)`);
}

export function requirePromtool(ctx: TestContext): void {
  requireBinary(ctx, 'promtool');
}

export function promtool(args: string[], options: { input?: string; cwd?: string } = {}): PromtoolResult {
  const result = spawnSync('promtool', args, { encoding: 'utf8', input: options.input, cwd: options.cwd });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * For `describe.skipIf(...)` around suites that start the binary in `beforeAll`: true (skip) when
 * it is missing locally; throws (fails the file) when it is missing in CI.
 */
export function missingOutsideCi(binary: 'promtool' | 'prometheus'): boolean {
  if (installed(binary)) return false;
  if (process.env.CI === 'true') throw new Error(`${binary} is required in CI: apt-get install -y prometheus`);
  return true;
}
