import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScanError } from '../errors.js';

/**
 * The scan thread's script. Built, it is the scan-worker.js beside this file. Run from the
 * TypeScript sources (vitest), Node cannot start a thread on TypeScript, so the package's build is
 * used: dist/thread/scan-worker.js. Tests would then run whatever dist holds, so it must be as new
 * as the sources: a scan refuses to start on a stale build rather than test old code.
 */
export function workerScript(): URL {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new URL('./scan-worker.js', here);
  const script = new URL('../../dist/thread/scan-worker.js', here);
  checkBuild(fileURLToPath(new URL('../', here)), fileURLToPath(new URL('../../dist/.tsbuildinfo', here)));
  return script;
}

let checked = false;

/**
 * `tsc -b` writes (or touches) the build info whenever it has looked at the sources; it touches it
 * to the whole second, hence the second of slack.
 */
function checkBuild(sources: string, buildInfo: string): void {
  if (checked) return;
  const builtAt = mtimeOf(buildInfo);
  const newer = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory()) {
        const found = newer(`${path}/`);
        if (found) return found;
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && mtimeOf(path) > builtAt + 1_000) {
        return path;
      }
    }
    return undefined;
  };
  const changed = builtAt === 0 ? 'dist' : newer(sources);
  if (changed !== undefined) {
    throw new ScanError(
      'worker-failed',
      `the scan thread runs packages/scan/dist, which is ${builtAt === 0 ? 'missing' : `older than ${changed}`}: ` +
        'build it first (npx tsc -b packages/scan/tsconfig.build.json)',
    );
  }
  checked = true;
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
