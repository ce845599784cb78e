// The scan thread's lower priority (every `warm`): set on the thread that asks, not its process.
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

const priority = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'thread', 'priority.js')).href;

/**
 * Runs lowerThreadPriority(nice) in a new thread (first set to `start` when given); answers what it
 * returned and the thread's nice after.
 */
async function inThread(nice: number, start?: number): Promise<{ lowered: number | undefined; niceAfter: number }> {
  const code =
    `import { parentPort } from 'node:worker_threads';\nimport { readlinkSync } from 'node:fs';\nimport { getPriority, setPriority } from 'node:os';\n` +
    `import { lowerThreadPriority } from '${priority}';\n` +
    `const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));\n` +
    (start === undefined ? '' : `setPriority(tid, ${start});\n`) +
    `const lowered = lowerThreadPriority(${nice});\n` +
    `parentPort.postMessage({ lowered, niceAfter: getPriority(tid) });`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

describe.runIf(process.platform === 'linux')('lowerThreadPriority', () => {
  it('lowers the calling thread alone', async () => {
    const before = getPriority();
    const nice = Math.min(19, Math.max(before, 0) + 5);
    expect(await inThread(nice)).toEqual({ lowered: nice, niceAfter: nice });
    expect(getPriority()).toBe(before); // this process's main thread is untouched
  });

  it('never raises a priority: a thread already at a higher nice keeps it', async () => {
    const low = Math.min(19, Math.max(getPriority(), 0) + 8);
    expect(await inThread(low - 4, low)).toEqual({ lowered: low, niceAfter: low });
  });
});
