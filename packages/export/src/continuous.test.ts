import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { REDIS_URL, connectOrSkip, testPrefix } from '@staplewarm/testing';
import { ContinuousExport, type SyncTrigger } from './continuous.js';
import { emptyReport, type ExportSyncReport, type StapleExporter } from './exporter.js';

const redis = await connectOrSkip(REDIS_URL, 'packages/export');

/** An exporter that records what the driver asks of it. */
class RecordingExporter implements StapleExporter {
  readonly kind = 'nginx' as const;
  readonly calls: string[] = [];
  deadline: number | undefined;
  restarted = false;
  private report(changed = 0): ExportSyncReport {
    return { ...emptyReport(), changed };
  }
  async syncAll(): Promise<ExportSyncReport> {
    this.calls.push('all');
    return this.report();
  }
  async syncFingerprints(fingerprints: ReadonlySet<string>): Promise<ExportSyncReport> {
    this.calls.push(`some:${[...fingerprints].sort().join(',')}`);
    return this.report(fingerprints.size);
  }
  nextDeadline(): number | undefined {
    return this.deadline;
  }
  async syncDue(): Promise<ExportSyncReport> {
    this.calls.push('due');
    this.deadline = undefined;
    return this.report(1);
  }
  async poll(): Promise<ExportSyncReport | undefined> {
    if (!this.restarted) return undefined;
    this.restarted = false;
    this.calls.push('poll-full');
    return this.report();
  }
  async close(): Promise<void> {}
}

describe.skipIf(!redis)('ContinuousExport', () => {
  afterAll(() => redis?.disconnect());
  const setup = (exporter: RecordingExporter, options: { pollMs?: number } = {}) => {
    if (!redis) throw new Error('no Redis');
    const channel = `${testPrefix('export')}changed`;
    const triggers: SyncTrigger[] = [];
    const continuous = new ContinuousExport({
      exporters: [exporter],
      subscriber: redis.duplicate(),
      channel,
      now: Date.now,
      batchMs: 50,
      ...options,
      onReport: (_, trigger) => triggers.push(trigger),
      onError: (_, err) => {
        throw err;
      },
    });
    return { continuous, channel, triggers };
  };

  it('syncs everything at start, then only the fingerprints announced, gathered in one batch', async () => {
    const exporter = new RecordingExporter();
    const { continuous, channel } = setup(exporter);
    await continuous.start();
    expect(exporter.calls).toEqual(['all']);

    await redis?.publish(channel, 'aa');
    await redis?.publish(channel, 'bb');
    await redis?.publish(channel, 'aa');
    await redis?.publish(`${channel}-other`, 'cc');
    await vi.waitFor(() => expect(exporter.calls).toEqual(['all', 'some:aa,bb']), { timeout: 3_000 });
    await continuous.stop();
  });

  it('syncs everything again after a reconnect (messages published meanwhile are lost)', async () => {
    const exporter = new RecordingExporter();
    if (!redis) throw new Error('no Redis');
    // A connection that reconnects (the test helper's gives up at once), as serve's does.
    const subscriber = new Redis(REDIS_URL);
    const channel = `${testPrefix('export')}changed`;
    const continuous = new ContinuousExport({
      exporters: [exporter],
      subscriber,
      channel,
      now: Date.now,
      batchMs: 20,
      onReport: () => {},
      onError: () => {},
    });
    await continuous.start();
    subscriber.disconnect(true); // drop the connection; ioredis reconnects and resubscribes
    await vi.waitFor(() => expect(exporter.calls).toEqual(['all', 'all']), { timeout: 5_000 });
    // Still subscribed after the reconnect.
    await vi.waitFor(
      async () => {
        await redis.publish(channel, 'dd');
        expect(exporter.calls).toContain('some:dd');
      },
      { timeout: 5_000, interval: 200 },
    );
    await continuous.stop();
  });

  it("runs the exporter's due sync at its deadline, and a full one when its poll says so", async () => {
    const exporter = new RecordingExporter();
    exporter.deadline = Date.now() + 100;
    const { continuous, triggers } = setup(exporter, { pollMs: 100 });
    await continuous.start();
    await vi.waitFor(() => expect(exporter.calls).toContain('due'), { timeout: 3_000 });
    exporter.restarted = true;
    await vi.waitFor(() => expect(exporter.calls).toContain('poll-full'), { timeout: 3_000 });
    expect(triggers).toEqual(expect.arrayContaining(['start', 'deadline', 'poll']));
    await continuous.stop();
  });
});
