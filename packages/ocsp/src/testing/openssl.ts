/** The openssl CLI as an independent peer in tests (a temp directory per use). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  path: string;
  /** Writes `name` in the directory and returns its path. */
  write(name: string, data: string | Buffer): string;
  remove(): void;
}

export function tempDir(prefix = 'staplewarm-ocsp-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(name, data) {
      const file = join(path, name);
      writeFileSync(file, data);
      return file;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `openssl <args>` and returns stdout followed by stderr (`openssl ocsp` reports
 * "Response verify OK" on stderr); throws with both when the exit status is not 0.
 */
export function openssl(args: string[], cwd?: string): string {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${run.status}:\n${output}`);
  return output;
}
