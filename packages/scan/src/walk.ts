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
 * filesystem error into a ScanProblem naming the path.
 */
export async function walkCertificatePaths(paths: readonly string[]): Promise<WalkResult> {
  const result: WalkResult = { files: [], keyFilesSkipped: 0, problems: [] };
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();

  const visit = async (path: string, explicit: boolean): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      result.problems.push(fsProblem(path, err));
      return;
    }
    if (info.isDirectory()) {
      let real: string;
      let entries: string[];
      try {
        real = await realpath(path);
        if (seenDirs.has(real)) return; // a link back into a directory already walked
        seenDirs.add(real);
        entries = await readdir(path);
      } catch (err) {
        result.problems.push(fsProblem(path, err));
        return;
      }
      await Promise.all(entries.map((entry) => visit(join(path, entry), false)));
      return;
    }
    if (!info.isFile()) return;
    if (isKeyFileName(path)) {
      result.keyFilesSkipped++;
      return;
    }
    // A directory scan takes certificate endings only; a file named on the command line is always read.
    if (!explicit && !CERT_EXTENSIONS.has(extname(path).toLowerCase())) return;
    const real = await realpath(path).catch(() => path);
    if (seenFiles.has(real)) return;
    seenFiles.add(real);
    result.files.push(path);
  };

  for (const path of paths) await visit(path, true);
  result.files.sort(); // parallel walking finishes in any order; reports should not
  return result;
}

function fsProblem(path: string, err: unknown): ScanProblem {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return { path, code: 'not-found', detail: 'no such file or directory (or a dangling symbolic link)' };
  }
  if (code === 'ELOOP') return { path, code: 'symlink-loop', detail: 'symbolic link loop' };
  const message = err instanceof Error ? err.message : String(err);
  return { path, code: 'unreadable', detail: message };
}
