/**
 * The scan's thread: the whole scan with synchronous filesystem calls (no thread-pool handoff per
 * call: this thread has nothing else to do), its targets posted in batches to the calling thread.
 * Whatever goes wrong with one file is that file's problem (in the report); an exception that
 * escapes is a bug or an exhausted heap, and ends the thread: the caller rejects the scan with it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { collectTargets } from '../collect/collect.js';
import { lowerThreadPriority } from './priority.js';
import { Heartbeat, type WorkerInput, type WorkerMessage } from './protocol.js';

if (!parentPort) throw new Error('scan-worker.js runs as a worker thread (scanCertificateStores starts it)');
const port = parentPort;
const input = workerData as WorkerInput;
const heartbeat = new Heartbeat(input.heartbeat);
const post = (message: WorkerMessage): void => port.postMessage(message);
const threadNice = input.lowPriority ? lowerThreadPriority() : undefined;

const collected = collectTargets(input.paths, {
  now: input.now,
  hash: input.hash,
  maxFileBytes: input.maxFileBytes,
  batchSize: input.batchSize,
  onChunk: (targets, batchEnd) => post({ type: 'targets', targets, batchEnd }),
  step: (path) => heartbeat.beat(path),
});
post({ type: 'done', collected, ...(threadNice === undefined ? {} : { threadNice }) });
