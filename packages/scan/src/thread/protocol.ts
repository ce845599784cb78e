import type { CertIdHash } from '@staplewarm/ocsp';
import type { Collected } from '../collect/collect.js';
import type { ScannedTarget } from '../pair/pair.js';

/** What the scan's thread is given (`workerData`): plain data, cloned. */
export interface WorkerInput {
  paths: string[];
  now: number;
  hash: CertIdHash;
  maxFileBytes: number;
  batchSize: number;
  /** Lower the thread's priority first (`ScanOptions.lowPriority`). */
  lowPriority: boolean;
  /** Shared with the calling thread: see `Heartbeat`. */
  heartbeat: SharedArrayBuffer;
}

/**
 * What the scan's thread posts: targets while it reads, in chunks (`batchEnd` on the last chunk of
 * each `onTargets` batch), then the rest of the report.
 */
export type WorkerMessage =
  | { type: 'targets'; targets: ScannedTarget[]; batchEnd: boolean }
  /** `threadNice`: the thread's nice value, when it was asked to lower it and could. */
  | { type: 'done'; collected: Collected; threadNice?: number };

const PATH_BYTES = 4_096;

/**
 * The scan thread's heartbeat, in memory both threads share: a counter it bumps before each call
 * that could block, and that call's path. The calling thread reads it without any message, so it
 * can tell a scan that is slow from one whose thread is stuck in a read that never returns, and
 * name the file, even though the stuck thread can post nothing.
 */
export class Heartbeat {
  static readonly BYTES = 8 + PATH_BYTES;
  private readonly words: Int32Array;
  private readonly path: Buffer;

  constructor(readonly shared: SharedArrayBuffer) {
    this.words = new Int32Array(shared, 0, 2);
    this.path = Buffer.from(shared, 8, PATH_BYTES);
  }

  /** The scan thread, before a call that could block. */
  beat(path: string): void {
    // write() never splits a UTF-8 character; a longer path is cut (it is for a message).
    Atomics.store(this.words, 1, this.path.write(path, 'utf8'));
    Atomics.add(this.words, 0, 1);
  }

  /** Beats so far (wraps around; only compared for change). */
  get count(): number {
    return Atomics.load(this.words, 0);
  }

  /** The path of the last beat. */
  get lastPath(): string {
    return this.path.toString('utf8', 0, Atomics.load(this.words, 1));
  }
}
