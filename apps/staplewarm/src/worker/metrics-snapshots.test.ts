import { StaplewarmMetrics } from '@staplewarm/metrics';
import { silentLogger, type StapleQueue } from '@staplewarm/queue';
import type { StapleMeta, StapleStore } from '@staplewarm/store';
import { describe, expect, it } from 'vitest';
import { sampleValue } from '../../../../packages/metrics/src/testing/exposition.js';
import { certificateStateOf, MetricsSnapshots } from './metrics-snapshots.js';

const now = Date.UTC(2026, 10, 23);
const meta = (fields: Partial<StapleMeta>): StapleMeta => ({
  fingerprint: 'ab'.repeat(32),
  names: ['a.test'],
  mustStaple: false,
  ...fields,
});

describe('certificateStateOf', () => {
  it('counts a certificate with a usable staple by its status', () => {
    expect(certificateStateOf(meta({ status: 'good', expiresAt: new Date(now + 1) }), now)).toBe('stapled_good');
    expect(certificateStateOf(meta({ status: 'revoked', expiresAt: new Date(now + 1) }), now)).toBe('stapled_revoked');
  });

  it('counts a stapled certificate whose last refresh failed as stapled: it still has a staple', () => {
    expect(certificateStateOf(meta({ status: 'good', expiresAt: new Date(now + 1), lastErrorCode: 'timeout' }), now)).toBe('stapled_good');
  });

  it('counts a certificate without a usable staple as failing after an error, else missing', () => {
    expect(certificateStateOf(meta({ lastErrorCode: 'http-500' }), now)).toBe('failing');
    expect(certificateStateOf(meta({ status: 'good', expiresAt: new Date(now), lastErrorCode: 'timeout' }), now)).toBe('failing');
    expect(certificateStateOf(meta({ status: 'good', expiresAt: new Date(now - 1) }), now)).toBe('missing');
    expect(certificateStateOf(meta({}), now)).toBe('missing');
  });

  it('falls back to nextUpdate when expiresAt is absent', () => {
    expect(certificateStateOf(meta({ status: 'good', nextUpdate: new Date(now + 1) }), now)).toBe('stapled_good');
  });
});

/** A store whose SCAN returns `metas` (read at each SCAN), counting SCANs, each taking `delayMs`. */
function fakeStore(metas: StapleMeta[], delayMs = 0): { store: StapleStore; scans(): number } {
  let scans = 0;
  const store = {
    async *scanMeta() {
      scans++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      yield* [...metas];
    },
  };
  return { store: store as unknown as StapleStore, scans: () => scans };
}

const fakeQueue = { jobCounts: () => Promise.resolve({ waiting: 3 }) } as unknown as StapleQueue;

describe('MetricsSnapshots before a scrape', () => {
  const clock = { now: Date.UTC(2026, 10, 23) };
  const staple = (i: number): StapleMeta =>
    meta({ fingerprint: i.toString(16).padStart(64, '0'), status: 'good', nextUpdate: new Date(clock.now + 30 * 3_600_000) });
  const snapshotsOf = (store: StapleStore, metrics: StaplewarmMetrics) =>
    new MetricsSnapshots({ metrics, queue: fakeQueue, store, log: silentLogger, now: () => clock.now, storeEveryMs: 3_600_000 });
  const stored = async (metrics: StaplewarmMetrics) =>
    sampleValue(await metrics.text(), 'staplewarm_staples_by_remaining_lifetime', { within: 'any' });

  it('waits for the first snapshots, however slow, rather than show an empty store', async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false, now: () => clock.now });
    const snapshots = snapshotsOf(fakeStore([staple(1), staple(2)], 200).store, metrics);
    snapshots.start();
    try {
      await snapshots.beforeScrape();
      expect(await stored(metrics)).toBe(2);
      expect(sampleValue(await metrics.text(), 'staplewarm_staple_expiry_seconds')).toBe(30 * 3600);
      expect(sampleValue(await metrics.text(), 'staplewarm_queue_jobs', { state: 'waiting' })).toBe(3);
    } finally {
      await snapshots.stop();
    }
  });

  it('takes a fresh store snapshot once this process stored 1 % of the staples counted, not for fewer', async () => {
    const metas = Array.from({ length: 200 }, (_, i) => staple(i));
    const { store, scans } = fakeStore(metas);
    const metrics = new StaplewarmMetrics({ defaultMetrics: false, now: () => clock.now });
    const snapshots = snapshotsOf(store, metrics);
    snapshots.start();
    try {
      await snapshots.beforeScrape();
      expect([scans(), await stored(metrics)]).toEqual([1, 200]);

      // One staple stored (0.5 %): the scrape answers from the last snapshot.
      metas.push(staple(200));
      snapshots.staplesStored();
      clock.now += 10_000;
      await snapshots.beforeScrape();
      expect([scans(), await stored(metrics)]).toEqual([1, 200]);

      // Two (1 %): the scrape counts the store again.
      metas.push(staple(201));
      snapshots.staplesStored();
      await snapshots.beforeScrape();
      expect([scans(), await stored(metrics)]).toEqual([2, 202]);

      // Again 1 % stored (3 of 202), but within 5 s of the last scrape's snapshot: no SCAN yet.
      metas.push(staple(202), staple(203), staple(204));
      snapshots.staplesStored(3);
      clock.now += 4_000;
      await snapshots.beforeScrape();
      expect(scans()).toBe(2);
      clock.now += 1_000;
      await snapshots.beforeScrape();
      expect([scans(), await stored(metrics)]).toEqual([3, 205]);
    } finally {
      await snapshots.stop();
    }
  });
});
