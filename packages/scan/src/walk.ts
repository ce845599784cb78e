import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { fileKind, fsProblem, type ScanProblem } from './problems.js';

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
 * filesystem error into a ScanProblem naming the path; a FIFO, socket or device with a certificate's
 * name (or named explicitly) is reported as `not-a-regular-file`, never opened. `onFile` hears of each file as soon as it is
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

  // A FIFO, socket or device where a certificate file could be (by its name, or named on the
  // command line): reported without being opened. Opening one could block (a FIFO) or have side
  // effects (some devices); the reader's fstat still catches one swapped in after the walk.
  const addSpecial = (path: string, kind: string, explicit: boolean): void => {
    if (isKeyFileName(path) || (!explicit && !CERT_EXTENSIONS.has(extname(path).toLowerCase()))) return;
    result.problems.push({ path, code: 'not-a-regular-file', detail: `${kind}; not read` });
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
        return addSpecial(child, fileKind(entry), false);
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
    else addSpecial(path, fileKind(info), explicit);
  };

  for (const path of paths) await visit(path, true);
  // Parallel walking finishes in any order; reports should not.
  result.files.sort();
  result.problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
