// The calling thread's side of a scan: what happens when the scan's thread crashes, exits, runs
// out of memory or blocks in a read. Scripts written here stand in for the scan's thread, which a
// real scan cannot be made to do on purpose.
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanError } from '../errors.js';
import { SCAN_THREAD_LIMITS, scanInThread } from './host.js';

const input = { now: Date.now(), hash: 'sha1' as const, maxFileBytes: 1_048_576, batchSize: 500, lowPriority: false };
const protocol = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'thread', 'protocol.js')).href;

describe('scanInThread', () => {
  let dir: string;
  const script = (name: string, body: string): URL => {
    const path = join(dir, `${name}.mjs`);
    writeFileSync(
      path,
      `import { parentPort, workerData } from 'node:worker_threads';\nimport { Heartbeat } from '${protocol}';\n` +
        `const heartbeat = new Heartbeat(workerData.heartbeat);\n${body}\n`,
    );
    return pathToFileURL(path);
  };
  /** A target as the scan's thread posts it (the fields that matter here). */
  const target = (fingerprint: string) => ({
    fingerprint,
    paths: [`/certs/${fingerprint}.pem`],
    ocspUrls: ['http://ocsp.test/'],
    certId: { hashAlgorithm: 'sha1', issuerNameHash: 'ab', issuerKeyHash: 'cd', serialNumber: fingerprint },
    issuerSpki: 'MFkw',
  });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-thread-'));
    execFileSync('mkfifo', [join(dir, 'stuck.pem')]);
  });
  afterAll(() => {
    // A thread still blocked opening the FIFO (a failed test) is freed by a writer, so this process can exit.
    try {
      closeSync(openSync(join(dir, 'stuck.pem'), constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: nobody is blocked on it.
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects with worker-failed and the thread error when the thread throws, after the targets it posted went to onTargets', async () => {
    const throws = script(
      'throws',
      `parentPort.postMessage({ type: 'targets', targets: [${JSON.stringify(target('aa'))}], batchEnd: true });\n` +
        `throw new TypeError('parser bug');`,
    );
    const seen: string[] = [];
    const scan = scanInThread({ ...input, paths: [] }, (batch) => void seen.push(...batch.map((t) => t.fingerprint)), {
      stallTimeoutMs: 0,
      script: throws,
    });
    const error = await scan.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ScanError);
    expect(error).toMatchObject({ code: 'worker-failed', message: 'the scan thread failed: parser bug' });
    expect((error as ScanError).cause).toMatchObject({ name: 'TypeError', message: 'parser bug' });
    expect(seen).toEqual(['aa']);
  });

  it('rejects with worker-failed when a message from the thread cannot be handled, instead of throwing in the calling process', async () => {
    const malformed = script('malformed', `parentPort.postMessage({ type: 'targets', targets: [{ fingerprint: 'aa' }], batchEnd: true });`);
    await expect(scanInThread({ ...input, paths: [] }, undefined, { stallTimeoutMs: 0, script: malformed })).rejects.toMatchObject({
      code: 'worker-failed',
      message: expect.stringMatching(/^a message from the scan thread could not be handled: /) as unknown,
    });
  });

  it('rejects with worker-failed when the thread exits before it finished', async () => {
    const exits = script('exits', `process.exit(3);`);
    await expect(scanInThread({ ...input, paths: [] }, undefined, { stallTimeoutMs: 0, script: exits })).rejects.toMatchObject({
      code: 'worker-failed',
      message: 'the scan thread exited with code 3 before it finished',
    });
  });

  it('rejects with worker-failed when the thread runs out of memory', async () => {
    // A limit the thread starts under (below its start-up snapshot, Node 24 aborts the process).
    const grows = script('grows', `const kept = [];\nfor (;;) kept.push(new Array(100_000).fill(1.5));`);
    const scan = scanInThread({ ...input, paths: [] }, undefined, {
      stallTimeoutMs: 0,
      script: grows,
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    await expect(scan).rejects.toMatchObject({ code: 'worker-failed' });
    await expect(scan).rejects.toThrow(/^the scan thread failed: .*out of memory/i);
  });

  it('runs the thread with a small young generation unless told otherwise, keeping a limit it is given', async () => {
    // The thread reports its own limits through a count the report carries.
    const reports = script(
      'limits',
      `import { resourceLimits } from 'node:worker_threads';\n` +
        `parentPort.postMessage({ type: 'done', collected: { noOcspUrl: [], problems: [], filesRead: resourceLimits.maxYoungGenerationSizeMb, keyFilesSkipped: resourceLimits.maxOldGenerationSizeMb, leaves: 0, morePaths: [] } });`,
    );
    const byDefault = await scanInThread({ ...input, paths: [] }, undefined, { stallTimeoutMs: 0, script: reports });
    expect(byDefault.filesRead).toBe(SCAN_THREAD_LIMITS.maxYoungGenerationSizeMb);
    const given = await scanInThread({ ...input, paths: [] }, undefined, {
      stallTimeoutMs: 0,
      script: reports,
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    expect([given.filesRead, given.keyFilesSkipped]).toEqual([SCAN_THREAD_LIMITS.maxYoungGenerationSizeMb, 512]);
  });

  it('rejects with scan-stalled naming the file when the thread blocks in a read, refuses to scan again while it is blocked, and scans once it is free', async () => {
    const fifo = join(dir, 'stuck.pem');
    // What a read on a hung NFS mount does: a system call that does not return (here: opening a
    // FIFO without O_NONBLOCK, which waits for a writer).
    const blocks = script(
      'blocks',
      `import { openSync } from 'node:fs';\nheartbeat.beat(${JSON.stringify(fifo)});\nopenSync(${JSON.stringify(fifo)}, 'r');`,
    );
    const started = Date.now();
    await expect(scanInThread({ ...input, paths: [] }, undefined, { stallTimeoutMs: 500, script: blocks })).rejects.toMatchObject({
      code: 'scan-stalled',
      message: `the scan made no progress for 0.5 s, blocked on ${fifo} (a file whose read does not return: a hung network filesystem?)`,
    });
    expect(Date.now() - started).toBeLessThan(5_000);

    const again = scanInThread({ ...input, paths: [dir] }, undefined, { stallTimeoutMs: 500 });
    await expect(again).rejects.toMatchObject({ code: 'scan-stalled' });
    await expect(again).rejects.toThrow(`the thread of an earlier scan is still blocked reading ${fifo}`);

    // The read returns (a writer opens the FIFO): the stopped thread exits, and scans run again.
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    let report: Awaited<ReturnType<typeof scanInThread>> | undefined;
    for (let tries = 0; !report && tries < 50; tries++) {
      report = await scanInThread({ ...input, paths: [join(dir, 'missing')] }, undefined, { stallTimeoutMs: 0 }).catch(
        async (err: unknown) => {
          if (!(err instanceof ScanError) || err.code !== 'scan-stalled') throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
          return undefined;
        },
      );
    }
    expect(report?.problems.map((p) => p.code)).toEqual(['not-found']);
  });

  it('does not take a slow scan for a stalled one: the heartbeat, not the messages, tells', async () => {
    const slow = script(
      'slow',
      `const until = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };\n` +
        `for (let i = 0; i < 10; i++) { heartbeat.beat('/certs/' + i); until(150); }\n` +
        `parentPort.postMessage({ type: 'done', collected: { noOcspUrl: [], problems: [], filesRead: 10, keyFilesSkipped: 0, leaves: 0, morePaths: [] } });`,
    );
    const report = await scanInThread({ ...input, paths: [] }, undefined, { stallTimeoutMs: 500, script: slow });
    expect(report.filesRead).toBe(10);
  });

  it('hands each batch to onTargets once, in order, one call at a time, adds paths found later, and sorts targets by path', async () => {
    const chunks = script(
      'chunks',
      `const post = (m) => parentPort.postMessage(m);\n` +
        `post({ type: 'targets', targets: [${JSON.stringify(target('cc'))}], batchEnd: false });\n` +
        `post({ type: 'targets', targets: [${JSON.stringify(target('bb'))}], batchEnd: true });\n` +
        `post({ type: 'targets', targets: [${JSON.stringify(target('aa'))}], batchEnd: true });\n` +
        `post({ type: 'done', collected: { noOcspUrl: [], problems: [], filesRead: 3, keyFilesSkipped: 0, leaves: 3, morePaths: [['cc', ['/certs/zz.pem']]] } });`,
    );
    const calls: string[][] = [];
    let active = 0;
    const report = await scanInThread(
      { ...input, paths: [] },
      async (batch) => {
        expect(active++).toBe(0);
        await new Promise((resolve) => setTimeout(resolve, 20));
        calls.push(batch.map((t) => t.fingerprint));
        active--;
      },
      { stallTimeoutMs: 0, script: chunks },
    );
    expect(calls).toEqual([['cc', 'bb'], ['aa']]);
    expect(report.targets.map((t) => [t.fingerprint, t.paths])).toEqual([
      ['aa', ['/certs/aa.pem']],
      ['bb', ['/certs/bb.pem']],
      ['cc', ['/certs/cc.pem', '/certs/zz.pem']],
    ]);
  });

  it('rejects with the error of onTargets at once, calls it no more, and stops the thread', async () => {
    const ticks = join(dir, 'ticks');
    writeFileSync(ticks, '');
    // Posts a target every 5 ms for ever, and says so in a file: the file stops growing once the thread is stopped.
    const endless = script(
      'endless',
      `import { appendFileSync } from 'node:fs';\nlet i = 0;\n` +
        `setInterval(() => { appendFileSync(${JSON.stringify(ticks)}, '.'); ` +
        `parentPort.postMessage({ type: 'targets', targets: [{ ...${JSON.stringify(target('ff'))}, fingerprint: 'f' + i++ }], batchEnd: true }); }, 5);`,
    );
    const failure = new Error('queue down');
    let calls = 0;
    await expect(
      scanInThread(
        { ...input, paths: [] },
        () => {
          calls++;
          throw failure;
        },
        { stallTimeoutMs: 0, script: endless },
      ),
    ).rejects.toBe(failure);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const written = readFileSync(ticks, 'utf8').length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(readFileSync(ticks, 'utf8').length).toBe(written);
    expect(calls).toBe(1);
  });
});
