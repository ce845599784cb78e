import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { ScanProblem } from './problems.js';

/** File endings that may hold certificates. */
const CERT_EXTENSIONS = new Set(['.pem', '.crt', '.cer', '.der']);

/**
 * Key files by name: certbot's privkey.pem and the usual *.key. They are skipped without being opened
 * (we never read private keys); other files that turn out to hold a key are reported when read.
 */
export function isKeyFileName(path: string): boolean {
  const name = basename(path).toLowerCase();
  return name.startsWith('privkey') || extname(name) === '.key';
}

export interface WalkResult {
  files: string[];
  keyFilesSkipped: number;
  problems: ScanProblem[];
}

/**
 * Expands the given paths into candidate certificate files. Follows symbolic links (certbot's live/
 * links into archive/), visits each real directory once (so link loops end), and turns every
 * filesystem error into a ScanProblem naming the path. `onFile` hears of each file as soon as it is
 * found (so reading can start while the walk goes on); `files` comes back sorted.
 */
export async function walkCertificatePaths(paths: readonly string[], onFile?: (path: string) => void): Promise<WalkResult> {
  const result: WalkResult = { files: [], keyFilesSkipped: 0, problems: [] };
  // A bounded number of filesystem calls at a time: 50K directories walked all at once would fill
  // libuv's thread pool queue and hold back the readers, which start while the walk goes on.
  const fsCall = concurrencyLimit(64);
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();

  const addFile = (path: string, real: string, explicit: boolean): void => {
    if (isKeyFileName(path)) {
      result.keyFilesSkipped++;
      return;
    }
    // A directory scan takes certificate endings only; a file named on the command line is always read.
    if (!explicit && !CERT_EXTENSIONS.has(extname(path).toLowerCase())) return;
    if (seenFiles.has(real)) return;
    seenFiles.add(real);
    result.files.push(path);
    onFile?.(path);
  };

  // `real` is the directory's resolved path: entries that are not links resolve under it, so a
  // 50K-site tree costs one readdir per directory and a stat only per symbolic link.
  const walkDirectory = async (path: string, real: string): Promise<void> => {
    if (seenDirs.has(real)) return; // a link back into a directory already walked
    seenDirs.add(real);
    let entries: Dirent[];
    try {
      entries = await fsCall(() => readdir(path, { withFileTypes: true }));
    } catch (err) {
      result.problems.push(fsProblem(path, err));
      return;
    }
    await Promise.all(
      entries.map((entry) => {
        const child = join(path, entry.name);
        if (entry.isDirectory()) return walkDirectory(child, join(real, entry.name));
        // certbot's live/ holds links only; a key's link is skipped by name, never even followed.
        if (entry.isFile() || (entry.isSymbolicLink() && isKeyFileName(child))) return addFile(child, join(real, entry.name), false);
        if (entry.isSymbolicLink()) return visit(child, false);
        return undefined; // sockets, fifos, devices
      }),
    );
  };

  // A path given by the user, or a symbolic link met on the way: stat follows it.
  const visit = async (path: string, explicit: boolean): Promise<void> => {
    let info: Stats;
    let real: string;
    try {
      info = await fsCall(() => stat(path));
      real = await fsCall(() => realpath(path));
    } catch (err) {
      result.problems.push(fsProblem(path, err));
      return;
    }
    if (info.isDirectory()) await walkDirectory(path, real);
    else if (info.isFile()) addFile(path, real, explicit);
  };

  for (const path of paths) await visit(path, true);
  result.files.sort(); // parallel walking finishes in any order; reports should not
  return result;
}

/** Runs at most `max` of the given calls at once; the others wait their turn, in order. */
function concurrencyLimit(max: number): <T>(call: () => Promise<T>) => Promise<T> {
  let active = 0;
  // A queue with a head index: Array#shift is O(n), and 50K directories can be waiting.
  const queue: (() => void)[] = [];
  let head = 0;
  return async (call) => {
    if (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
    else active++;
    try {
      return await call();
    } finally {
      const next = queue[head];
      if (next) {
        queue[head++] = noop; // let it be collected
        if (head === queue.length) queue.length = head = 0;
        next(); // the slot passes on directly: `active` stays the same
      } else {
        active--;
      }
    }
  };
}

function noop(): void {}

function fsProblem(path: string, err: unknown): ScanProblem {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return { path, code: 'not-found', detail: 'no such file or directory (or a dangling symbolic link)' };
  }
  if (code === 'ELOOP') return { path, code: 'symlink-loop', detail: 'symbolic link loop' };
  const message = err instanceof Error ? err.message : String(err);
  return { path, code: 'unreadable', detail: message };
}
