import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_DEFAULTS } from '../defaults.js';
import { hostQueueName, type HostRegistry } from './host-queues.js';
import { silentLogger, type StapleLogger } from './job.js';

/** A job that settled in some host's queue. `eventId` is the stream id: it starts with Redis' time. */
export type SettledEvent =
  | { state: 'completed'; host: string; jobId: string; returnvalue: unknown; eventId: string }
  | { state: 'failed'; host: string; jobId: string; failedReason: string; eventId: string };

export interface HostEventsOptions {
  connection: Redis;
  prefix: string;
  onSettled: (event: SettledEvent) => void;
  log?: StapleLogger;
}

/**
 * The completed and failed events of several host queues, as one stream of settlements: one
 * BullMQ QueueEvents (one blocking reader) per host queue. `listen(hosts)` resolves once each reader
 * is running, so jobs added afterwards are seen (events are not replayed); `follow(registry)` also
 * picks up host queues as they appear, reading each new one from its registration time on.
 */
export class HostEvents {
  private readonly readers = new Map<string, QueueEvents>();
  private readonly log: StapleLogger;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: HostEventsOptions) {
    this.log = options.log ?? silentLogger;
  }

  /** Starts reading these hosts' events (from now, or from `since` epoch ms); resolves when reading. */
  async listen(hosts: Iterable<string>, since?: number): Promise<void> {
    const starting: Promise<void>[] = [];
    for (const host of hosts) {
      if (this.closed || this.readers.has(host)) continue;
      const reader = new QueueEvents(hostQueueName(host), {
        connection: this.options.connection,
        prefix: this.options.prefix,
        ...(since === undefined ? {} : { lastEventId: `${Math.max(0, since)}-0` }),
      });
      reader.on('completed', ({ jobId, returnvalue }, eventId) =>
        this.options.onSettled({ state: 'completed', host, jobId, returnvalue, eventId }),
      );
      reader.on('failed', ({ jobId, failedReason }, eventId) =>
        this.options.onSettled({ state: 'failed', host, jobId, failedReason, eventId }),
      );
      reader.on('error', (err) => this.log.warn({ err, host }, 'queue events: connection error (retrying)'));
      this.readers.set(host, reader);
      starting.push(reader.waitUntilReady().then(() => undefined));
    }
    await Promise.all(starting);
  }

  /**
   * Keeps listening to every registered host queue: those there now from now on, each one found
   * later from a little before its registration (a job may have settled in between).
   */
  async follow(registry: HostRegistry, everyMs: number = QUEUE_DEFAULTS.hostSyncMs): Promise<void> {
    await this.listen(await registry.hosts());
    const poll = async (): Promise<void> => {
      try {
        const fresh = (await registry.hosts()).filter((host) => !this.readers.has(host));
        if (fresh.length > 0) await this.listen(fresh, Date.now() - 2 * everyMs);
      } catch (err) {
        this.log.warn({ err }, 'queue events: cannot read the host registry');
      }
    };
    this.timer = setInterval(() => void poll(), everyMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all([...this.readers.values()].map((reader) => reader.close()));
    this.readers.clear();
  }
}
