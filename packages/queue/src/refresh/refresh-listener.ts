import type { StapleStore } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import { HostEvents, type SettledEvent } from '../jobs/host-events.js';
import { isBatchResult, silentLogger, type QueuedJobResult, type StapleJobResult, type StapleLogger } from '../jobs/job.js';
import type { StapleQueue } from '../jobs/queue.js';
import { fingerprintOfJob, type RefreshScheduler, type Settlement } from './refresh-scheduler.js';

export interface RefreshListenerOptions {
  connection: Redis;
  /** BullMQ key prefix shared by the fleet. */
  prefix: string;
  scheduler: RefreshScheduler;
  /** The staple queues: their registry says which host queues to follow. */
  queue: StapleQueue;
  /** Where a refused older response is noted as the certificate's `lastError`. */
  store: StapleStore;
  log?: StapleLogger;
  /** Settlements are gathered this long and handled in one batch (a cold start settles ~500/s). @defaultValue 200 */
  flushMs?: number;
}

/** Stable code of a verified response older than the stored staple (a stale CDN node). */
export const OLDER_RESPONSE = 'older-response';

/**
 * Follows the queue's events (so it sees jobs settle in any worker process, `serve` or
 * `staplewarm worker`) and hands every settled job of a tracked certificate to the scheduler, which
 * schedules its next attempt. Events are not replayed: what settles while no listener runs is
 * caught by the next scan's reconciliation.
 */
export class RefreshListener {
  private readonly options: RefreshListenerOptions;
  private readonly events: HostEvents;
  private readonly log: StapleLogger;
  private pending: Settlement[] = [];
  private older: (Settlement & { responder: string })[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(options: RefreshListenerOptions) {
    this.options = options;
    this.log = options.log ?? silentLogger;
    this.events = new HostEvents({
      connection: options.connection,
      prefix: options.prefix,
      log: this.log,
      onSettled: (event) => this.onEvent(event),
    });
  }

  /** Follows every host queue there is now, and each one registered later. */
  async start(): Promise<void> {
    await this.events.follow(this.options.queue.registry);
  }

  private onEvent(event: SettledEvent): void {
    const result = event.state === 'completed' ? resultOf(event.returnvalue) : undefined;
    // A batch (a `warm` run's cold start) settles each of its certificates; a failed batch's are
    // caught by the next scan's reconciliation.
    if (result && isBatchResult(result)) {
      for (const one of result.batch)
        this.onCertificate(one.fingerprint, event.eventId, one.state === 'completed' ? one.result : undefined);
      return;
    }
    this.onCertificate(fingerprintOfJob(event.jobId), event.eventId, result);
  }

  private onCertificate(fingerprint: string | undefined, eventId: string, result: StapleJobResult | undefined): void {
    const settled = this.settled(fingerprint, eventId);
    if (settled && result?.outcome === 'kept' && result.reason === 'older') this.older.push({ ...settled, responder: result.responder });
  }

  /** Handles what is pending now; resolves when it has been scheduled. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    const older = this.older;
    this.pending = [];
    this.older = [];
    this.flushing = this.flushing.then(() => this.handle(batch, older));
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.flush();
  }

  private settled(fingerprint: string | undefined, eventId: string): Settlement | undefined {
    if (!fingerprint || !this.options.scheduler.target(fingerprint)) return undefined;
    // The event's stream id starts with Redis's time: the same for every process reading it.
    const at = Number(eventId.split('-')[0]);
    const settlement = { fingerprint, at: Number.isFinite(at) && at > 0 ? at : Date.now() };
    this.pending.push(settlement);
    this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 200);
    return settlement;
  }

  private async handle(batch: Settlement[], older: (Settlement & { responder: string })[]): Promise<void> {
    try {
      await Promise.all(older.map((s) => this.recordOlder(s)));
      if (batch.length > 0) await this.options.scheduler.settle(batch);
    } catch (err) {
      // The next scan reconciles these certificates anyway.
      this.log.error({ err, certificates: batch.length }, 'could not schedule the next refresh of settled jobs');
    }
  }

  /**
   * The store refuses a response older than the one it holds (last-known-good) and the job
   * completes; the certificate's record should still say its responder served stale data.
   */
  private async recordOlder(s: Settlement & { responder: string }): Promise<void> {
    const target = this.options.scheduler.target(s.fingerprint);
    if (!target) return;
    await this.options.store.recordFailure(
      s.fingerprint,
      {
        code: OLDER_RESPONSE,
        message: `${OLDER_RESPONSE}: ${s.responder} answered with a response older than the stored staple`,
        at: new Date(s.at),
      },
      { names: target.names, mustStaple: target.mustStaple, certNotAfter: target.certNotAfter },
    );
  }
}

/** A completed job's return value as the events stream carries it (JSON), or undefined when unreadable. */
function resultOf(value: unknown): QueuedJobResult | undefined {
  const result = typeof value === 'string' ? safeParse(value) : value;
  return typeof result === 'object' && result !== null ? (result as QueuedJobResult) : undefined;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
