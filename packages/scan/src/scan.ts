import type { CertIdHash } from '@staplewarm/ocsp';
import { pairLeaves, pairWithinBundle, type NoOcspLeaf, type ScannedTarget } from './pair.js';
import type { ScanProblem } from './problems.js';
import { ScanError } from './errors.js';
import { CertificateReader, DEFAULT_MAX_FILE_BYTES, type FoundCertificate } from './read.js';
import { walkCertificatePaths } from './walk.js';

export interface ScanOptions {
  /** The clock, epoch ms: decides what is expired. */
  now: number;
  /** CertID hash for the requests built. @defaultValue 'sha1' (RFC 5019) */
  hash?: CertIdHash;
  /** Files read in parallel. @defaultValue 64 */
  readConcurrency?: number;
  /**
   * Largest certificate file read, in bytes: a larger one is reported (`too-large`) and never read,
   * so `readConcurrency` readers hold at most `readConcurrency * (maxFileBytes + 1)` bytes of file
   * at a time. @defaultValue 1,048,576 (1 MiB, `DEFAULT_MAX_FILE_BYTES`)
   */
  maxFileBytes?: number;
  /**
   * Receives the targets while the scan still reads, so fetching can start at once: first the leaves
   * paired within their own bundle (in a certbot tree, all of them), the rest when reading ends.
   * Each target is handed out once; calls never overlap and the scan waits for the last one; if one
   * throws, the scan rejects with that error. The report still lists every target.
   */
  onTargets?: (targets: ScannedTarget[]) => Promise<void> | void;
  /**
   * Targets per `onTargets` call while reading, at most. The first calls get fewer (50, then
   * doubling), so that fetching starts as soon as possible. @defaultValue 500
   */
  batchSize?: number;
}

export interface ScanReport {
  /** Leaves to warm, deduplicated by fingerprint. */
  targets: ScannedTarget[];
  /** Valid leaves without any OCSP URL: reported, not errors. */
  noOcspUrl: NoOcspLeaf[];
  /** Every unusable file or certificate, by path and reason. */
  problems: ScanProblem[];
  filesRead: number;
  /** privkey*.pem / *.key files skipped by name, never opened. */
  keyFilesSkipped: number;
  /** Distinct leaf certificates found. */
  leaves: number;
}

/**
 * Scans certificate stores (certbot live/ trees, directories of PEM/CRT/CER bundles, single files)
 * and returns what to warm plus a reason for everything that cannot be warmed.
 */
export async function scanCertificateStores(paths: readonly string[], options: ScanOptions): Promise<ScanReport> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes < 1) {
    throw new ScanError('invalid-option', `maxFileBytes must be a whole number of bytes >= 1, not ${String(options.maxFileBytes)}`);
  }
  const reader = new CertificateReader(maxFileBytes);
  const handout = new TargetHandout(options.onTargets, options.batchSize ?? 500);
  // Files are read as the walk finds them: a 50K-site tree takes seconds to walk.
  const feed = new FileFeed();
  const walking = walkCertificatePaths(paths, (path) => feed.push(path)).finally(() => feed.end());
  const read: { path: string; found: FoundCertificate[]; problem?: ScanProblem }[] = [];
  const readNext = async (): Promise<void> => {
    for (let path = await feed.next(); path !== undefined && !handout.failed; path = await feed.next()) {
      const { found, problem } = await reader.readFile(path);
      read.push({ path, found, ...(problem && { problem }) });
      if (handout.active && found.length > 1) handout.offer(pairWithinBundle(found, options.now, options.hash));
    }
  };
  const workers = Math.max(1, options.readConcurrency ?? 64);
  const [walked] = await Promise.all([walking, ...Array.from({ length: workers }, readNext)]);
  handout.throwIfFailed();
  // Reports (and which copy of a certificate counts as its first path) follow path order, not timing.
  read.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const problems: ScanProblem[] = [...walked.problems];
  for (const { problem } of read) if (problem) problems.push(problem);
  const paired = pairLeaves(
    read.flatMap((r) => r.found),
    options.now,
    options.hash,
    handout.handedOut,
  );
  handout.offer(paired.targets);
  await handout.drain();
  return {
    targets: paired.targets,
    noOcspUrl: paired.noOcspUrl,
    problems: [...problems, ...paired.problems],
    filesRead: walked.files.length,
    keyFilesSkipped: walked.keyFilesSkipped,
    leaves: paired.leaves,
  };
}

/** Paths from the walk to the readers: `next()` waits for the next one, undefined once the walk is over. */
class FileFeed {
  private readonly paths: string[] = [];
  private taken = 0;
  private ended = false;
  private waiting: (() => void)[] = [];

  push(path: string): void {
    this.paths.push(path);
    this.waiting.shift()?.();
  }

  end(): void {
    this.ended = true;
    for (const wake of this.waiting.splice(0)) wake();
  }

  async next(): Promise<string | undefined> {
    while (this.taken >= this.paths.length && !this.ended) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.taken < this.paths.length ? this.paths[this.taken++] : undefined;
  }
}

/** Hands targets to `onTargets` once each, in batches, one call at a time. */
class TargetHandout {
  readonly handedOut = new Map<string, ScannedTarget>();
  private batch: ScannedTarget[] = [];
  private nextBatchSize: number;
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly onTargets: ScanOptions['onTargets'],
    private readonly batchSize: number,
  ) {
    this.nextBatchSize = Math.min(50, batchSize);
  }

  get active(): boolean {
    return this.onTargets !== undefined;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  offer(targets: readonly ScannedTarget[]): void {
    if (!this.onTargets) return;
    for (const target of targets) {
      const before = this.handedOut.get(target.fingerprint);
      if (before) {
        for (const path of target.paths) if (!before.paths.includes(path)) before.paths.push(path);
        continue;
      }
      this.handedOut.set(target.fingerprint, target);
      this.batch.push(target);
      if (this.batch.length >= this.nextBatchSize) {
        this.nextBatchSize = Math.min(this.batchSize, this.nextBatchSize * 2);
        this.flush();
      }
    }
  }

  async drain(): Promise<void> {
    this.flush();
    await this.chain;
    this.throwIfFailed();
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private flush(): void {
    const { onTargets } = this;
    if (!onTargets || this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    // Caught here, rethrown by drain(): a rejection left pending would crash the process meanwhile.
    this.chain = this.chain
      .then(() => (this.failure ? undefined : onTargets(batch)))
      .catch((error: unknown) => {
        this.failure ??= { error };
      });
  }
}
