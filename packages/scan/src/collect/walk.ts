import { readdirSync, statSync, type BigIntStats, type Stats } from 'node:fs';
import { basename, extname, normalize } from 'node:path';
import { fileKind, fsProblem, type ScanProblem } from '../problems.js';

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

/**
 * A file's identity (device and inode) from a stat the scan already has: one number while both
 * fit (`dev * 2^32 + ino`, exact below 2^53: a million identities cost ~30 MB as numbers, twice
 * that as strings), `dev:ino` otherwise. An inode number past 2^53 (NFS file ids can be 64-bit
 * hashes) would be rounded in a JavaScript number, and two files could then pass for one: `exact`
 * (a bigint stat) is asked for those only.
 */
export type FileIdentity = number | string;

export function fileIdentity(info: Stats, exact: () => BigIntStats): FileIdentity {
  const { dev, ino } = info;
  if (dev >= 0 && dev < 2 ** 21 && ino >= 0 && ino < 2 ** 32 && Number.isInteger(dev) && Number.isInteger(ino)) return dev * 2 ** 32 + ino;
  if (Number.isSafeInteger(dev) && Number.isSafeInteger(ino)) return `${dev}:${ino}`;
  const precise = exact();
  return `${precise.dev}:${precise.ino}`;
}

/** What the walk finds, in walk order (see `walkCertificatePaths`), as it finds it. */
export interface WalkVisitor {
  /**
   * A candidate certificate file (a regular file, or a link to one). `identity` when the walk
   * already has a stat of it (it followed a link, or the path was given): the visitor can then
   * skip a file it has seen under another path without opening it (certbot's 50,000 chain.pem
   * links to one issuer file). Otherwise the reader's `fstat` tells.
   */
  file(path: string, identity: FileIdentity | undefined): void;
  problem(problem: ScanProblem): void;
  keyFileSkipped(): void;
  /** Before each call that could block (stat, readdir), with the path it is about. */
  step?(path: string): void;
}

/**
 * Subtrees of a root walked at once, in turn: more than the CAs a fleet usually keeps a directory
 * each for. Each one more costs scan time (the leaves waiting in them, the listings held, worse
 * locality): a 50,000-site tree of 5 CAs scanned in 3.59 s depth first, 3.96 s with 8, 4.25 s with
 * 32 (medians of 3, one 2-core VM).
 */
export const INTERLEAVED_SUBTREES = 8;

const FILE = 0;
const DIRECTORY = 1;

/**
 * A directory listed and not yet walked through: its entries' names and kinds, in path order.
 * Compact on purpose: a certbot live/ of a million lineages is one directory of a million
 * entries, held while the walk goes through it (names and 5 bytes each, not an object and a path).
 */
interface Frame {
  /** The directory's path and a slash: an entry's path is this and its name (what `join` gives). */
  prefix: string;
  names: string[];
  kinds: Uint8Array;
  order: Uint32Array;
  /** The identities of the entries that were links (the walk followed them to learn their kind). */
  linked: Map<number, FileIdentity> | undefined;
  next: number;
}

/**
 * Expands the given paths into candidate certificate files, with synchronous calls (the scan runs
 * in a thread of its own). Follows symbolic links (certbot's live/ links into archive/) and walks
 * each directory once by its identity (device and inode from a stat, not `realpath`: resolving
 * each of 50,000 chain.pem links walked every component of its path, 80,000 failed readlink calls
 * for 10,000 sites), so link loops and bind-mount loops end.
 * Walk order: the roots in the order given; in a root, up to INTERLEAVED_SUBTREES of its
 * directories in turn (see below), each depth first in path order (siblings sorted by name, a
 * directory's name taken as `name/`: the order of the full paths). Files are told to the visitor
 * with their identity when the walk has it (see `WalkVisitor.file`), in walk order, so the first
 * path of a file seen twice in that order is the one kept. Every filesystem error is a
 * ScanProblem naming the path; a FIFO, socket or device with a certificate's name (or named
 * explicitly) is reported as `not-a-regular-file`, never opened.
 */
export function walkCertificatePaths(paths: readonly string[], visitor: WalkVisitor): void {
  const directories = new Set<FileIdentity>();

  // A FIFO, socket or device where a certificate file could be (by its name, or named on the
  // command line): reported without being opened. Opening one could block (a FIFO) or have side
  // effects (some devices); the reader's fstat still catches one swapped in after the walk.
  const special = (path: string, kind: string, explicit: boolean): void => {
    if (isKeyFileName(path) || (!explicit && !isCertificateName(path))) return;
    visitor.problem({ path, code: 'not-a-regular-file', detail: `${kind}; not read` });
  };

  // A file, by name: key files are counted and never opened; a directory scan takes certificate
  // endings only; a file named on the command line is always read.
  const file = (path: string, identity: FileIdentity | undefined, explicit: boolean): void => {
    if (isKeyFileName(path)) visitor.keyFileSkipped();
    else if (explicit || isCertificateName(path)) visitor.file(path, identity);
  };

  /** Follows a path (given, or a link met on the way) with stat; undefined after reporting its error. */
  const follow = (path: string): Stats | undefined => {
    visitor.step?.(path);
    try {
      return statSync(path);
    } catch (err) {
      visitor.problem(fsProblem(path, err));
      return undefined;
    }
  };

  /** Lists a directory not walked yet (by identity), or undefined after reporting its error. */
  const list = (path: string, identity: FileIdentity | undefined): Frame | undefined => {
    visitor.step?.(path);
    let names: string[];
    let kinds: Uint8Array;
    let linked: Map<number, FileIdentity> | undefined;
    const prefix = path === '.' ? '' : path.endsWith('/') ? path : `${path}/`;
    try {
      // An entry that is not a link needs a stat of its own: loops through bind mounts end too.
      const id = identity ?? identify(path, statSync(path));
      if (directories.has(id)) return undefined; // a link back into a directory already walked
      directories.add(id);
      const entries = readdirSync(path, { withFileTypes: true });
      names = new Array<string>(entries.length);
      kinds = new Uint8Array(entries.length);
      let kept = 0;
      for (const entry of entries) {
        let kind: number;
        const child = `${prefix}${entry.name}`;
        if (entry.isDirectory()) {
          kind = DIRECTORY;
        } else if (entry.isFile() || (entry.isSymbolicLink() && isKeyFileName(entry.name))) {
          // certbot's live/ holds links only; a key's link is skipped by name, never even followed.
          kind = FILE;
        } else if (entry.isSymbolicLink()) {
          const target = follow(child);
          if (!target) continue;
          if (!target.isDirectory() && !target.isFile()) {
            special(child, fileKind(target), false);
            continue;
          }
          kind = target.isDirectory() ? DIRECTORY : FILE;
          (linked ??= new Map()).set(kept, identify(child, target));
        } else {
          special(child, fileKind(entry), false);
          continue;
        }
        names[kept] = entry.name;
        kinds[kept++] = kind;
      }
      names.length = kept;
      kinds = kinds.subarray(0, kept);
    } catch (err) {
      visitor.problem(fsProblem(path, err));
      return undefined;
    }
    const keys = names.map((name, i) => (kinds[i] === DIRECTORY ? `${name}/` : name));
    const order = Uint32Array.from(keys.keys()).sort((a, b) => compare(keys[a] as string, keys[b] as string));
    return { prefix, names, kinds, order, linked, next: 0 };
  };

  /** One DFS step of a subtree: a file told to the visitor, a directory listed, or a frame ended. */
  const advance = (stack: Frame[]): void => {
    const frame = stack.at(-1);
    if (!frame) return;
    if (frame.next === frame.order.length) {
      stack.pop();
      return;
    }
    const i = frame.order[frame.next++] as number;
    const path = frame.prefix + (frame.names[i] as string);
    if (frame.kinds[i] === FILE) {
      file(path, frame.linked?.get(i), false);
      return;
    }
    const child = list(path, frame.linked?.get(i));
    if (child) stack.push(child);
  };

  // The roots in the order given (when one is reached from another too, through a link, its files
  // are kept under the root the user named first). In each root, the directories at its first
  // level with more than one entry are walked INTERLEAVED_SUBTREES at a time, taking from each in
  // turn (each depth first, with a stack of its own: no recursion, a customer controls the depth):
  // a store with a directory per CA then reaches every CA's responder within its first files
  // instead of one CA after another. Files beside those directories come as the walk reaches them.
  for (const root of paths) {
    const info = follow(root);
    if (!info) continue;
    if (!info.isDirectory()) {
      if (info.isFile()) file(root, identify(root, info), true);
      else special(root, fileKind(info), true);
      continue;
    }
    // Entries' paths as `join` makes them (`./certs/` -> `certs/a.pem`); the root's own, as given.
    let top = list(normalize(root), identify(root, info));
    // A root holding one directory only (`store/live/...`): interleave below it.
    while (top && top.order.length === 1 && top.kinds[0] === DIRECTORY) {
      top = list(top.prefix + (top.names[0] as string), top.linked?.get(0));
    }
    if (!top) continue;
    const subtrees: Frame[][] = [];
    for (let turn = 0; ; turn++) {
      // Fill the free places from the top level, in path order; its files are told on the way.
      while (subtrees.length < INTERLEAVED_SUBTREES && top.next < top.order.length) {
        const i = top.order[top.next++] as number;
        const path = top.prefix + (top.names[i] as string);
        if (top.kinds[i] === FILE) file(path, top.linked?.get(i), false);
        else {
          const child = list(path, top.linked?.get(i));
          if (child) subtrees.push([child]);
        }
      }
      if (subtrees.length === 0) break;
      // One step of the next subtree; one that is done makes room for the next directory.
      const at = turn % subtrees.length;
      const stack = subtrees[at] as Frame[];
      advance(stack);
      if (stack.length === 0) subtrees.splice(at, 1);
    }
  }
}

function identify(path: string, info: Stats): FileIdentity {
  return fileIdentity(info, () => statSync(path, { bigint: true }));
}

function isCertificateName(path: string): boolean {
  return CERT_EXTENSIONS.has(extname(path).toLowerCase());
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
