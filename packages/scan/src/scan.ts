import type { CertIdHash } from '@staplewarm/ocsp';
import { ScanError } from './errors.js';
import { DEFAULT_MAX_FILE_BYTES } from './collect/read.js';
import type { NoOcspLeaf, ScannedTarget } from './pair/pair.js';
import type { ScanProblem } from './problems.js';
import { scanInThread } from './thread/host.js';

/** Defaults of `ScanOptions`, resolved once here. */
export const SCAN_DEFAULTS = {
  hash: 'sha1',
  maxFileBytes: DEFAULT_MAX_FILE_BYTES,
  batchSize: 500,
  stallTimeoutMs: 60_000,
} as const satisfies Partial<ScanOptions>;

export interface ScanOptions {
  /** The clock, epoch ms: decides what is expired. */
  now: number;
  /** CertID hash for the requests built. @defaultValue 'sha1' (RFC 5019) */
  hash?: CertIdHash;
  /**
   * Largest certificate file read, in bytes: a larger one is reported (`too-large`) and never read.
   * The scan reads one file at a time into one buffer, which grows to the largest file read.
   * @defaultValue 1,048,576 (1 MiB, `DEFAULT_MAX_FILE_BYTES`)
   */
  maxFileBytes?: number;
  /**
   * Receives the targets while the scan still reads, so fetching can start at once: first the leaves
   * paired within their own bundle (in a certbot tree, all of them), the rest when reading ends.
   * Each target is handed out once; calls never overlap and the scan waits for the last one; if one
   * throws, the scan stops and rejects with that error. The report still lists every target
   * (unless `keepTargets` is false).
   */
  onTargets?: (targets: ScannedTarget[]) => Promise<void> | void;
  /**
   * false (only with `onTargets`): `report.targets` stays empty and `report.targetCount` counts
   * them; the paths of a certificate found after its target was handed out are then not reported.
   * A caller that keeps what it needs of each target as it gets it (`warm`: the names and first
   * path of the ones it fetches) saves the ~0.9 KB a target weighs, ~1 GB at 1M certificates.
   * @defaultValue true
   */
  keepTargets?: boolean;
  /**
   * Targets per `onTargets` call while reading, at most. The first calls get fewer (50, then
   * doubling), so that fetching starts as soon as possible. @defaultValue 500
   */
  batchSize?: number;
  /**
   * The scan's thread making no progress for this long (no file opened, read or listed: a read
   * that does not return, as on a hung NFS mount) rejects the scan with `ScanError`
   * `scan-stalled`, naming the file. 0: wait for ever. @defaultValue 60,000
   */
  stallTimeoutMs?: number;
  /**
   * Run the scan's thread at a lower priority (nice `SCAN_THREAD_NICE`; Linux only, elsewhere
   * nothing changes), for a scan that feeds fetching (`warm`, in its own process or in workers
   * beside it): the fetching, paced by the responders' limits, then gets the CPU first when cores
   * are short, and the scan only has to stay ahead of it; a fetch short of work leaves it the CPU.
   * An idle machine runs it as fast either way. Off by default: a library caller doing nothing
   * else gains nothing from it. @defaultValue false
   */
  lowPriority?: boolean;
}

export interface ScanReport {
  /** Leaves to warm, deduplicated by fingerprint, in the order of their first path (empty with `keepTargets: false`). */
  targets: ScannedTarget[];
  /** How many targets the scan found (handed to `onTargets`, and in `targets` when kept). */
  targetCount: number;
  /** Valid leaves without any OCSP URL: reported, not errors. */
  noOcspUrl: NoOcspLeaf[];
  /** Every unusable file or certificate, by path and reason, in path order. */
  problems: ScanProblem[];
  filesRead: number;
  /** privkey*.pem / *.key files skipped by name, never opened. */
  keyFilesSkipped: number;
  /** Distinct leaf certificates found. */
  leaves: number;
  /**
   * The scan thread's nice value, when `lowPriority` asked it to lower its priority and it could
   * (Linux); absent otherwise. `warm` logs it with "scan finished" (`scanThreadNice`).
   */
  threadNice?: number;
}

/**
 * Scans certificate stores (certbot live/ trees, directories of PEM/CRT/CER bundles, single files)
 * and returns what to warm plus a reason for everything that cannot be warmed. The scan runs in a
 * worker thread of its own (see the README's "How the scan runs"): the calling thread only receives
 * batches of targets, so fetching in the same process is not held up by the filesystem.
 */
export async function scanCertificateStores(paths: readonly string[], options: ScanOptions): Promise<ScanReport> {
  const maxFileBytes = options.maxFileBytes ?? SCAN_DEFAULTS.maxFileBytes;
  if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes < 1) {
    throw new ScanError('invalid-option', `maxFileBytes must be a whole number of bytes >= 1, not ${String(options.maxFileBytes)}`);
  }
  const batchSize = options.batchSize ?? SCAN_DEFAULTS.batchSize;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new ScanError('invalid-option', `batchSize must be a whole number >= 1, not ${String(options.batchSize)}`);
  }
  const stallTimeoutMs = options.stallTimeoutMs ?? SCAN_DEFAULTS.stallTimeoutMs;
  if (!Number.isFinite(stallTimeoutMs) || stallTimeoutMs < 0) {
    throw new ScanError('invalid-option', `stallTimeoutMs must be a number of milliseconds >= 0, not ${String(options.stallTimeoutMs)}`);
  }
  if (!Number.isFinite(options.now)) throw new ScanError('invalid-option', `now must be a time in epoch ms, not ${String(options.now)}`);
  const keepTargets = options.keepTargets ?? true;
  if (!keepTargets && !options.onTargets) {
    throw new ScanError('invalid-option', 'keepTargets: false needs onTargets (the targets would go nowhere)');
  }
  return scanInThread(
    {
      paths: [...paths],
      now: options.now,
      hash: options.hash ?? SCAN_DEFAULTS.hash,
      maxFileBytes,
      batchSize,
      lowPriority: options.lowPriority ?? false,
    },
    options.onTargets,
    { stallTimeoutMs, keepTargets },
  );
}
