/**
 * The relay's MissFetcher over the shared staple queue: the one place that knows how a relay miss
 * becomes a job. The queue's internals are being redesigned (a queue per responder host); this
 * depends only on StapleQueue.enqueue (job id = fingerprint, so a job already queued for the
 * certificate, by a scanner or another relay, is not duplicated).
 */
import type { StapleTarget } from '@staplewarm/ocsp';
import type { MissFetcher } from '@staplewarm/relay';
import { StapleQueue, type StapleLogger } from '@staplewarm/queue';
import type { Redis } from 'ioredis';

export interface QueueMissFetcherOptions {
  /** ioredis connection for BullMQ (maxRetriesPerRequest: null). */
  connection: Redis;
  /** BullMQ prefix of the fleet (`queuePrefix(config.prefix)`). */
  prefix: string;
  /** Attempts per job, as every other staple job (STAPLEWARM_ATTEMPTS). */
  attempts: number;
  /** Where queue connection errors go. */
  log?: StapleLogger;
}

export class QueueMissFetcher implements MissFetcher {
  private readonly queue: StapleQueue;

  constructor(options: QueueMissFetcherOptions) {
    this.queue = new StapleQueue({
      connection: options.connection,
      prefix: options.prefix,
      attempts: options.attempts,
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /** One urgent job (head of the wait list): a server is waiting for this staple. */
  async request(target: StapleTarget): Promise<void> {
    await this.queue.enqueue([target], { urgent: true });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
