/**
 * ServeScanner: the shrink guard applied to what the scheduler tracks, with a real Redis for the
 * confirmations and a recording scheduler. Without Redis this skips locally and fails under CI=true.
 */
import { REDIS_URL } from '@staplewarm/testing';
import { randomBytes } from 'node:crypto';
import { StaplewarmMetrics } from '@staplewarm/metrics';
import type { TrackResult } from '@staplewarm/queue';
import type { ScannedTarget } from '@staplewarm/scan';
import type { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../redis.js';
import type { ServeScan } from './scan-targets.js';
import { ServeScanner } from './serve-scanner.js';
import { ShrinkConfirmations } from './shrink-confirmations.js';

async function connect(): Promise<Redis | undefined> {
  try {
    return await connectRedis(REDIS_URL, { connectTimeoutMs: 1_000 });
  } catch (err) {
    if (process.env.CI === 'true') throw new Error('Redis is required under CI=true', { cause: err });
    process.emitWarning('apps/staplewarm: Redis not reachable; skipping the ServeScanner test');
    return undefined;
  }
}

const redis = await connect();

const target = (i: number) =>
  ({ fingerprint: i.toString(16).padStart(64, '0'), paths: [`/srv/certs/site${i}/fullchain.pem`] }) as ScannedTarget;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => target(from + i));
const fpsOf = (targets: readonly ScannedTarget[]) => targets.map((t) => t.fingerprint).sort();
const scanOf = (targets: ScannedTarget[], carried = 0): ServeScan => ({
  targets,
  report: {
    targets,
    targetCount: targets.length,
    noOcspUrl: [],
    problems: [],
    filesRead: targets.length,
    keyFilesSkipped: 0,
    leaves: targets.length,
  },
  unreadableStores: [],
  carried,
});

/** The scheduler as serve uses it: `track` replaces the tracked set. */
class RecordingScheduler {
  tracked: string[] = [];
  async track(targets: readonly ScannedTarget[]): Promise<TrackResult> {
    const next = fpsOf(targets);
    const added = next.filter((fp) => !this.tracked.includes(fp)).length;
    const removed = this.tracked.filter((fp) => !next.includes(fp)).length;
    this.tracked = next;
    return { tracked: next.length, added, removed, scheduled: added, dueNow: added };
  }
}

describe.skipIf(!redis)('ServeScanner', () => {
  const prefix = `swtest:serve-scanner:${randomBytes(4).toString('hex')}:bull`;
  const confirmations = new ShrinkConfirmations(redis!, prefix);
  const logs: { level: string; obj: object; msg?: string }[] = [];
  const log = {
    info: (obj: object, msg?: string) => logs.push({ level: 'info', obj, msg }),
    warn: (obj: object, msg?: string) => logs.push({ level: 'warn', obj, msg }),
    error: (obj: object, msg?: string) => logs.push({ level: 'error', obj, msg }),
  };
  let scheduler: RecordingScheduler;
  let metrics: StaplewarmMetrics;
  let next: ServeScan;
  let clock: number;
  const scanner = (confirmScans = 3) =>
    new ServeScanner({
      stores: ['/srv/certs'],
      scan: async () => next,
      scheduler,
      confirmations,
      policy: { ratio: 0.5, confirmScans },
      process: 'web-1:42',
      holdTtlMs: 60_000,
      metrics,
      log,
      now: () => clock,
    });
  const held = async () => {
    const text = await metrics.text();
    return Number(/^staplewarm_scan_held_certificates\{reason="suspected_shrink"\} (\d+)$/m.exec(text)?.[1]);
  };
  const shrinks = async () => Number(/^staplewarm_scan_suspected_shrinks_total (\d+)$/m.exec(await metrics.text())?.[1]);

  beforeEach(async () => {
    scheduler = new RecordingScheduler();
    metrics = new StaplewarmMetrics({ defaultMetrics: false });
    clock = Date.parse('2026-03-01T10:00:00Z');
    logs.length = 0;
    await confirmations.release('web-1:42');
  });

  afterAll(async () => {
    await confirmations.release('web-1:42');
    redis?.disconnect();
  });

  it('keeps the missing certificates tracked while a suspected shrink is held, and publishes the hold', async () => {
    const s = scanner();
    next = scanOf(range(1, 10));
    await s.scanOnce();
    expect(scheduler.tracked).toEqual(fpsOf(range(1, 10)));

    // 3 of 10 found, plus a new one: the 7 missing stay, the new one is tracked at once.
    next = scanOf([...range(1, 3), target(11)]);
    clock += 300_000;
    await s.scanOnce();
    expect(scheduler.tracked).toEqual(fpsOf([...range(1, 11)]));
    expect(s.holding).toMatchObject({ scans: 1 });
    expect(await held()).toBe(7);
    expect(await shrinks()).toBe(1);
    expect(logs.find((l) => l.msg?.startsWith('scan: suspected shrink'))).toMatchObject({
      level: 'warn',
      obj: { known: 10, found: 4, held: 7, scans: 1, confirmScans: 3 },
    });
    expect(await confirmations.holds()).toEqual([
      expect.objectContaining({ process: 'web-1:42', stores: ['/srv/certs'], known: 10, found: 4, held: 7, scans: 1 }),
    ]);

    // The stores come back: the hold ends, nothing was dropped, the hold is unlisted.
    next = scanOf(range(1, 10));
    await s.scanOnce();
    expect(scheduler.tracked).toEqual(fpsOf(range(1, 10)));
    expect(s.holding).toBeUndefined();
    expect(await held()).toBe(0);
    expect(await confirmations.holds()).toEqual([]);
  });

  it('drops the missing certificates at the scan after the operator confirms the hold', async () => {
    const s = scanner();
    next = scanOf(range(1, 10));
    await s.scanOnce();
    next = scanOf([]);
    await s.scanOnce();
    expect(scheduler.tracked).toHaveLength(10);
    expect(await s.holdConfirmed()).toBe(false);

    const [hold] = await confirmations.holds();
    await confirmations.confirm(hold!);
    expect(await s.holdConfirmed()).toBe(true);
    await s.scanOnce();
    expect(scheduler.tracked).toEqual([]);
    expect(logs.at(-1)).toMatchObject({ level: 'warn', obj: { reason: 'confirmed', removed: 10 } });
    expect(await confirmations.holds()).toEqual([]);
    expect(await held()).toBe(0);

    // The accepted (empty) scan is the new baseline: a store refilled later is not a shrink.
    next = scanOf(range(1, 4));
    await s.scanOnce();
    expect(scheduler.tracked).toHaveLength(4);
  });

  it('drops them on its own once confirmScans scans in a row agree, and counts the episode once', async () => {
    const s = scanner(3);
    next = scanOf(range(1, 10));
    await s.scanOnce();
    next = scanOf(range(1, 2));
    await s.scanOnce();
    await s.scanOnce();
    expect(scheduler.tracked).toHaveLength(10);
    expect(s.holding).toMatchObject({ scans: 2 });
    await s.scanOnce();
    expect(scheduler.tracked).toEqual(fpsOf(range(1, 2)));
    expect(logs.at(-1)).toMatchObject({ obj: { reason: 'agreed', removed: 8 } });
    expect(await shrinks()).toBe(1);
  });

  it('reports the certificates carried from unreadable stores beside the held ones', async () => {
    const s = scanner();
    next = scanOf(range(1, 10), 6);
    await s.scanOnce();
    expect(await metrics.text()).toMatch(/^staplewarm_scan_held_certificates\{reason="unreadable_store"\} 6$/m);
  });
});
