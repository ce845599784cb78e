import { performance } from 'node:perf_hooks';
import type { CertIdHash } from '@staplewarm/ocsp';
import { Pairer, type NoOcspLeaf, type ScannedTarget } from '../pair/pair.js';
import type { ScanProblem } from '../problems.js';
import { CertificateReader } from './read.js';
import { fileIdentity, walkCertificatePaths, type FileIdentity } from './walk.js';

/** A batch that has waited this long goes out as it is, however small: fetching should not wait for a slow disk. */
export const BATCH_MAX_AGE_MS = 200;

/**
 * Targets leave the scan's thread in chunks of at most this many, a batch being one or more
 * chunks: a target built here is garbage a few files later, instead of waiting for its batch of
 * 500 to fill while the young generation's collections promote it to the old one (which then grew
 * to ~120 MB of garbage before its first full collection on a 50K-site tree).
 */
export const CHUNK_SIZE = 32;

export interface CollectOptions {
  now: number;
  hash: CertIdHash;
  maxFileBytes: number;
  /** Targets per batch, at most. The first batches are smaller (50, then doubling). */
  batchSize: number;
  /**
   * The targets, in order, each once, in chunks of at most `CHUNK_SIZE`; `batchEnd` marks the last
   * chunk of a batch (that chunk may be empty).
   */
  onChunk: (targets: ScannedTarget[], batchEnd: boolean) => void;
  /** Before each call that could block (stat, readdir, open, read) and each leaf paired at the end. */
  step?: (path: string) => void;
}

/** Everything a scan reports but its targets (which went to `onChunk`). */
export interface Collected {
  noOcspUrl: NoOcspLeaf[];
  /** In path order. */
  problems: ScanProblem[];
  filesRead: number;
  keyFilesSkipped: number;
  leaves: number;
  /** Paths found after the target of a fingerprint was handed out: `[fingerprint, paths]`. */
  morePaths: [string, string[]][];
}

/**
 * The whole scan, synchronously, in the calling thread (the scan's worker thread): walks the paths
 * in walk order (see `walkCertificatePaths`), reads each file once as the walk finds it, pairs as it reads (see `Pairer`), and
 * hands targets to `onChunk` as they are paired. Holds the CA certificates, the leaves still
 * waiting for an issuer, and a fingerprint per leaf; never the file contents or released leaves.
 */
export function collectTargets(paths: readonly string[], options: CollectOptions): Collected {
  const step = options.step ?? (() => {});
  const pairer = new Pairer(options.now, options.hash, () => step('(pairing)'));
  const reader = new CertificateReader(options.maxFileBytes, (fingerprint) => pairer.known(fingerprint));
  const batches = new Batcher(options.batchSize, options.onChunk);
  const problems: ScanProblem[] = [];
  // Every file read, by identity (device and inode): each real file is read once, at its first path.
  const read = new Set<FileIdentity>();
  let filesRead = 0;
  let keyFilesSkipped = 0;

  walkCertificatePaths(paths, {
    step,
    problem: (problem) => void problems.push(problem),
    keyFileSkipped: () => void keyFilesSkipped++,
    file: (path, identity) => {
      if (identity !== undefined) {
        if (read.has(identity)) return; // known from the walk's stat: not even opened
        read.add(identity);
      }
      step(path);
      const outcome = reader.readFile(path, (info, exact) => {
        const opened = fileIdentity(info, exact);
        if (opened === identity) return true;
        if (read.has(opened)) return false;
        read.add(opened);
        return true;
      });
      if (outcome.skipped) return;
      filesRead++;
      if (outcome.problem) problems.push(outcome.problem);
      if (outcome.found.length > 0) batches.add(pairer.addFile(path, outcome.found));
      batches.flushIfOld();
    },
  });

  const end = pairer.finish();
  batches.add(end.targets);
  batches.flush();
  problems.push(...end.problems);
  // Stable: problems of one path keep the order they were found in.
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    noOcspUrl: end.noOcspUrl,
    problems,
    filesRead,
    keyFilesSkipped,
    leaves: end.leaves,
    morePaths: [...end.morePaths],
  };
}

/**
 * Targets in batches, the first of 50, then doubling up to `size`, so that fetching starts at once;
 * a batch older than `BATCH_MAX_AGE_MS` ends as it is. Sent in chunks as they fill (`CHUNK_SIZE`).
 */
class Batcher {
  private chunk: ScannedTarget[] = [];
  private inBatch = 0;
  private next: number;
  private startedAt = 0;

  constructor(
    private readonly size: number,
    private readonly send: (targets: ScannedTarget[], batchEnd: boolean) => void,
  ) {
    this.next = Math.min(50, size);
  }

  add(targets: readonly ScannedTarget[]): void {
    for (const target of targets) {
      if (this.inBatch === 0) this.startedAt = performance.now();
      this.chunk.push(target);
      this.inBatch++;
      if (this.inBatch >= this.next) {
        this.next = Math.min(this.size, this.next * 2);
        this.flush();
      } else if (this.chunk.length >= CHUNK_SIZE) {
        this.sendChunk(false);
      }
    }
  }

  flushIfOld(): void {
    if (this.inBatch > 0 && performance.now() - this.startedAt >= BATCH_MAX_AGE_MS) this.flush();
  }

  /** Ends the batch under way, if any. */
  flush(): void {
    if (this.inBatch === 0) return;
    this.inBatch = 0;
    this.sendChunk(true);
  }

  private sendChunk(batchEnd: boolean): void {
    const chunk = this.chunk;
    this.chunk = [];
    this.send(chunk, batchEnd);
  }
}
