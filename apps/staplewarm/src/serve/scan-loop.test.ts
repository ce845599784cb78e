import { describe, expect, it } from 'vitest';
import { ScanLoop } from './scan-loop.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ScanLoop', () => {
  it('scans at start, on every interval, and at once when asked', async () => {
    let scans = 0;
    const loop = new ScanLoop(
      async () => void scans++,
      10_000,
      () => undefined,
    );
    await loop.start();
    expect(scans).toBe(1);
    loop.request();
    await tick(20);
    expect(scans).toBe(2);
    await loop.stop();

    let fast = 0;
    const interval = new ScanLoop(
      async () => void fast++,
      30,
      () => undefined,
    );
    await interval.start();
    await tick(200);
    await interval.stop();
    expect(fast).toBeGreaterThanOrEqual(3);
  });

  it('never overlaps scans: a request during one runs one more right after it', async () => {
    let running = 0;
    let overlapped = false;
    let scans = 0;
    let release: () => void = () => undefined;
    const loop = new ScanLoop(
      async () => {
        scans++;
        overlapped ||= running > 0;
        running++;
        if (scans === 2) await new Promise<void>((resolve) => (release = resolve));
        running--;
      },
      10_000,
      () => undefined,
    );
    await loop.start();
    loop.request();
    await tick(10); // the second scan is now waiting on release
    loop.request();
    loop.request();
    release();
    await tick(20);
    await loop.stop();
    expect(overlapped).toBe(false);
    expect(scans).toBe(3);
  });

  it('reports a failed scan and goes on', async () => {
    const errors: unknown[] = [];
    let scans = 0;
    const loop = new ScanLoop(
      async () => {
        if (scans++ === 0) throw new Error('disk on fire');
      },
      10_000,
      (err) => errors.push(err),
    );
    await loop.start();
    loop.request();
    await tick(20);
    await loop.stop();
    expect(errors).toHaveLength(1);
    expect(scans).toBe(2);
  });
});
