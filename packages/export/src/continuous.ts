/**
 * Keeps exporters current while `serve` runs: every staple written is announced on the contract's
 * `<p>changed` channel, and only those certificates are synced (within `batchMs`); after each
 * (re)subscription, when messages may have been missed, everything is synced once; each exporter's
 * deadline (a staple to withdraw before it expires) and poll (HAProxy restarted?) have a timer.
 * One sync at a time per exporter, so files are never written by two passes at once.
 */
import type { Redis } from 'ioredis';
import type { ExporterKind, ExportSyncReport, StapleExporter } from './exporter.js';

export interface ContinuousExportOptions {
  exporters: readonly StapleExporter[];
  /** A connection of its own: it turns into a subscriber (ioredis resubscribes after a reconnect). */
  subscriber: Redis;
  /** `StapleKeys.changedChannel()`. */
  channel: string;
  now: () => number;
  /** Told of every pass that did something, and of every failure. */
  onReport: (kind: ExporterKind, trigger: SyncTrigger, report: ExportSyncReport) => void;
  onError: (kind: ExporterKind, err: unknown) => void;
  /** Changes gathered before a sync. @defaultValue 200 */
  batchMs?: number;
  /** @defaultValue 10000 */
  pollMs?: number;
  /** A full sync this often anyway (certificate files changed without a staple change). @defaultValue 600000 */
  fullSyncMs?: number;
}

export type SyncTrigger = 'start' | 'resubscribed' | 'changed' | 'deadline' | 'poll' | 'periodic' | 'certificates';

/** Timers never wait longer than this (setTimeout's limit is 2^31-1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRY_DUE_MS = 1_000;

export class ContinuousExport {
  private readonly changed = new Set<string>();
  private batchTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for. */
  private armedFor: number | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private fullTimer: NodeJS.Timeout | undefined;
  private readonly chains = new Map<StapleExporter, Promise<void>>();
  private subscribedOnce = false;
  private stopped = false;

  constructor(private readonly options: ContinuousExportOptions) {}

  get started(): boolean {
    return this.subscribedOnce;
  }

  /** Subscribes, then syncs everything once; resolves after that first pass. */
  async start(): Promise<void> {
    const { subscriber, channel } = this.options;
    subscriber.on('message', (from: string, fingerprint: string) => {
      if (from !== channel || this.stopped) return;
      this.changed.add(fingerprint);
      this.batchTimer ??= setTimeout(() => this.flushChanged(), this.options.batchMs ?? 200);
    });
    // ioredis resubscribes by itself after a reconnect; what was published meanwhile is lost.
    subscriber.on('ready', () => {
      if (this.subscribedOnce && !this.stopped) void this.syncAll('resubscribed');
    });
    await subscriber.subscribe(channel);
    this.subscribedOnce = true;
    await this.syncAll('start');
    this.pollTimer = setInterval(() => this.pollAll(), this.options.pollMs ?? 10_000);
    this.fullTimer = setInterval(() => void this.syncAll('periodic'), this.options.fullSyncMs ?? 600_000);
  }

  /** Syncs every exporter fully (after the certificate set changed, say); resolves when done. */
  async syncAll(trigger: SyncTrigger): Promise<void> {
    await Promise.all(this.options.exporters.map((e) => this.run(e, trigger, () => e.syncAll())));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of [this.batchTimer, this.deadlineTimer]) clearTimeout(timer);
    for (const timer of [this.pollTimer, this.fullTimer]) clearInterval(timer);
    this.options.subscriber.disconnect();
    await Promise.all(this.chains.values());
    await Promise.all(this.options.exporters.map((e) => e.close()));
  }

  private flushChanged(): void {
    this.batchTimer = undefined;
    const fingerprints = new Set(this.changed);
    this.changed.clear();
    for (const exporter of this.options.exporters) void this.run(exporter, 'changed', () => exporter.syncFingerprints(fingerprints));
  }

  private pollAll(): void {
    for (const exporter of this.options.exporters) {
      const poll = exporter.poll?.bind(exporter);
      if (poll) void this.run(exporter, 'poll', poll);
    }
  }

  /** One timer, for the earliest deadline of all exporters (kept when that deadline did not move). */
  private armDeadline(): void {
    if (this.stopped) return;
    const deadlines = this.options.exporters.map((e) => e.nextDeadline()).filter((d): d is number => d !== undefined);
    const due = deadlines.length === 0 ? undefined : Math.min(...deadlines);
    if (this.deadlineTimer && due === this.armedFor) return;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.armedFor = due;
    if (due === undefined) return;
    // A deadline already passed (its sync failed: Redis down, disk full) is retried every second, not in a loop.
    const now = this.options.now();
    const wait = Math.min(due > now ? due - now : RETRY_DUE_MS, MAX_TIMER_MS);
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      const at = this.options.now();
      for (const exporter of this.options.exporters) void this.run(exporter, 'deadline', () => exporter.syncDue(at));
    }, wait);
  }

  /** Queues `pass` behind the exporter's previous one; reports it; re-arms the deadline timer; never rejects. */
  run(exporter: StapleExporter, trigger: SyncTrigger, pass: () => Promise<ExportSyncReport | undefined>): Promise<void> {
    const previous = this.chains.get(exporter) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (this.stopped && trigger !== 'start') return;
      try {
        const report = await pass();
        if (report) this.options.onReport(exporter.kind, trigger, report);
      } catch (err) {
        this.options.onError(exporter.kind, err);
      }
      this.armDeadline();
    });
    this.chains.set(exporter, next);
    return next;
  }
}
