import type { StapleStore } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import { QUEUE_DEFAULTS } from '../defaults.js';
import { FETCH_JOB, silentLogger, type StapleJobData, type StapleLogger } from '../jobs/job.js';
import type { StapleQueue } from '../jobs/queue.js';
import { OVERFLOW_HOST } from '../jobs/host-queues.js';
import { RefreshRecords } from './refresh-records.js';
import { DEFAULT_REFRESH_POLICY, needsFetch, nextAttemptAt, type RefreshAttempt, type RefreshPolicy } from './schedule.js';

export interface RefreshSchedulerOptions {
  /** The staple queues: refresh jobs are ordinary fetch jobs, delayed, in their host's queue. */
  queue: StapleQueue;
  store: StapleStore;
  /** Connection for the scheduler's records (the BullMQ prefix's `refresh:<fp>` hashes). */
  connection: Redis;
  /** BullMQ key prefix shared by the fleet. */
  prefix: string;
  policy?: RefreshPolicy;
  /** Attempts per job before it fails (BullMQ retries with the worker's backoff). @defaultValue QUEUE_DEFAULTS.attempts (5) */
  attempts?: number;
  /** The clock, epoch ms. */
  now?: () => number;
  log?: StapleLogger;
}

/** What one `track` call changed. */
export interface TrackResult {
  tracked: number;
  /** Certificates not tracked before this call. */
  added: number;
  /** Certificates tracked before and gone now: their scheduled job was removed. */
  removed: number;
  /** Jobs submitted: added, or moved to a new time (BullMQ keeps a job whose id it already holds). */
  scheduled: number;
  /** Of those, jobs due at once (missing, due or new certificates). */
  dueNow: number;
}

/** A settled attempt at a tracked certificate: the queue event's time. */
export interface Settlement {
  fingerprint: string;
  at: number;
}

const CHUNK = 1_000;
/** How long a settled refresh job stays in Redis (~1 KB each): longer than settling takes. */
const SETTLED_JOB_AGE_SECONDS = 30;
const JOB_ID = /^([0-9a-f]{64})(?:-\d+)?$/;

/**
 * Job id of a refresh: `<fp>-<due time, epoch ms>`. Every process computes the same due time for a
 * certificate (from the store, the attempt record and the fingerprint), so the same id: BullMQ
 * adds it once however many `serve` processes schedule it. Each next attempt is due strictly after
 * the last one settled, so it never reuses the id of a job that just ran.
 * (BullMQ refuses ':' in custom ids.)
 */
export function refreshJobId(fingerprint: string, dueAt: number): string {
  return `${fingerprint}-${Math.max(0, Math.floor(dueAt))}`;
}

/** The fingerprint a staple job is about: refresh ids (`<fp>-<ms>`) and warm ids (`<fp>`). */
export function fingerprintOfJob(jobId: string): string | undefined {
  return JOB_ID.exec(jobId)?.[1];
}

/**
 * Keeps one job per tracked certificate in the queue, at the time the schedule says. Reconciling
 * is idempotent ("make sure the job for this certificate is the one due at nextAttemptAt"), so it
 * runs on every scan and after every settled attempt, in any number of processes. A certificate's
 * current job is found through BullMQ deduplication (id = fingerprint), and a job at a new time
 * replaces a delayed one; a job already waiting or running is left alone, and its settlement
 * schedules the next.
 */
export class RefreshScheduler {
  private readonly options: RefreshSchedulerOptions;
  private readonly policy: RefreshPolicy;
  private readonly records: RefreshRecords;
  private readonly now: () => number;
  private readonly log: StapleLogger;
  private targets = new Map<string, StapleJobData>();
  /** Each tracked (or just untracked) certificate's host queue. */
  private hosts = new Map<string, string>();
  /** One reconciliation at a time: scans and settlements interleave otherwise. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: RefreshSchedulerOptions) {
    this.options = options;
    this.policy = options.policy ?? DEFAULT_REFRESH_POLICY;
    this.records = new RefreshRecords(options.connection, options.prefix);
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLogger;
  }

  target(fingerprint: string): StapleJobData | undefined {
    return this.targets.get(fingerprint);
  }

  /**
   * Replaces the tracked set with a scan's targets: removes the scheduled jobs of certificates no
   * longer there (a job already running finishes, and nothing schedules it again), then makes
   * sure every tracked certificate has its job, new ones due at once.
   */
  track(targets: readonly StapleJobData[]): Promise<TrackResult> {
    return this.serialize(async () => {
      const next = new Map(targets.map((t) => [t.fingerprint, t]));
      const gone = [...this.targets.keys()].filter((fp) => !next.has(fp));
      const added = new Set([...next.keys()].filter((fp) => !this.targets.has(fp)));
      this.targets = next;
      await this.unschedule(gone);
      this.hosts = await this.options.queue.route(targets);
      const { scheduled, dueNow } = await this.reconcile([...next.keys()], added);
      return { tracked: next.size, added: added.size, removed: gone.length, scheduled, dueNow };
    });
  }

  /**
   * Records settled attempts (each counted once, whatever process reports it) and schedules the
   * next attempt of each certificate. Untracked certificates are ignored: another process tracks
   * them, or they were removed.
   */
  settle(settlements: readonly Settlement[]): Promise<number> {
    return this.serialize(async () => {
      const latest = new Map<string, number>();
      for (const s of settlements) {
        if (this.targets.has(s.fingerprint)) latest.set(s.fingerprint, Math.max(s.at, latest.get(s.fingerprint) ?? 0));
      }
      const fps = [...latest.keys()];
      let scheduled = 0;
      for (let i = 0; i < fps.length; i += CHUNK) {
        const chunk = fps.slice(i, i + CHUNK);
        const states = await this.options.store.states(chunk);
        const records = await this.records.settle(
          chunk.map((fp) => {
            const at = latest.get(fp) ?? 0;
            return { fingerprint: fp, at, stillDue: needsFetch(states.get(fp), at, fp, this.policy) };
          }),
        );
        scheduled += (await this.ensureJobs(chunk, states, records)).scheduled;
      }
      return scheduled;
    });
  }

  /** Waits for reconciliations in progress. */
  async idle(): Promise<void> {
    await this.tail.catch(() => undefined);
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.catch(() => undefined).then(work);
    this.tail = run;
    return run;
  }

  /** `added`: certificates new to this process, whose last attempt may have settled unseen (see `recordMissed`). */
  private async reconcile(fps: readonly string[], added: ReadonlySet<string>): Promise<{ scheduled: number; dueNow: number }> {
    const total = { scheduled: 0, dueNow: 0 };
    for (let i = 0; i < fps.length; i += CHUNK) {
      const chunk = fps.slice(i, i + CHUNK);
      // Records first, then states: a settled attempt is recorded after its staple was stored, so
      // states read after a record never miss that staple (read together, a stale "missing" beside
      // a fresh record scheduled a second fetch at once).
      const records = await this.records.read(chunk);
      const states = await this.options.store.states(chunk);
      await this.recordMissed(
        chunk.filter((fp) => added.has(fp)),
        states,
        records,
      );
      const result = await this.ensureJobs(chunk, states, records);
      total.scheduled += result.scheduled;
      total.dueNow += result.dueNow;
    }
    return total;
  }

  /**
   * A certificate that (re)enters tracking may have had an attempt settle while no process here
   * tracked it: it was dropped while its job ran (a removal, an accepted shrink) or `serve` was down.
   * Its record then lacks that attempt, so the slot computed from it is the job that already ran;
   * BullMQ keeps that id for a while and would refuse to add it again, leaving the certificate with
   * no job until the next scan. Such an attempt is recorded here (at the job's finish), which moves
   * the slot on; `records` (and the `states` of those certificates, read again) are updated in place.
   */
  private async recordMissed(
    fps: readonly string[],
    states: Awaited<ReturnType<StapleStore['states']>>,
    records: Map<string, RefreshAttempt>,
  ): Promise<void> {
    if (fps.length === 0) return;
    const slots = fps.map((fp) => refreshJobId(fp, nextAttemptAt(states.get(fp), records.get(fp), fp, this.policy)));
    const current = await Promise.all(fps.map((fp) => this.queueOf(fp).getDeduplicationJobId(fp)));
    // A job waiting, delayed or running in that slot holds the deduplication id: its settlement will be seen.
    const candidates = fps.map((fp, i) => ({ fp, slot: slots[i] ?? '' })).filter((_, i) => current[i] !== slots[i]);
    const jobs = await Promise.all(candidates.map((c) => this.queueOf(c.fp).getJob(c.slot)));
    const finished = candidates.flatMap((c, i) => {
      const at = jobs[i]?.finishedOn;
      return at === undefined ? [] : [{ fingerprint: c.fp, at }];
    });
    if (finished.length === 0) return;
    // The states were read before these jobs were found finished, and a job may have stored its
    // staple and finished in between (another process's worker, while this one scanned): read
    // them again, or the certificate looks still due and is fetched a second time.
    const fresh = await this.options.store.states(finished.map((f) => f.fingerprint));
    for (const { fingerprint } of finished) {
      const state = fresh.get(fingerprint);
      if (state) states.set(fingerprint, state);
      else states.delete(fingerprint);
    }
    const missed = finished.map((f) => ({ ...f, stillDue: needsFetch(states.get(f.fingerprint), f.at, f.fingerprint, this.policy) }));
    for (const [fp, record] of await this.records.settle(missed)) records.set(fp, record);
    this.log.info({ certificates: missed.length }, 'attempts that settled while the certificates were not tracked: recorded');
  }

  private async ensureJobs(
    fps: readonly string[],
    states: Awaited<ReturnType<StapleStore['states']>>,
    records: Awaited<ReturnType<RefreshRecords['read']>>,
  ): Promise<{ scheduled: number; dueNow: number }> {
    const current = await Promise.all(fps.map((fp) => this.queueOf(fp).getDeduplicationJobId(fp)));
    const now = this.now();
    let dueNow = 0;
    const jobs = new Map<string, Parameters<ReturnType<StapleQueue['queueOf']>['addBulk']>[0]>();
    for (const [i, fp] of fps.entries()) {
      const data = this.targets.get(fp);
      if (!data) continue;
      const at = nextAttemptAt(states.get(fp), records.get(fp), fp, this.policy);
      const jobId = refreshJobId(fp, at);
      if (current[i] === jobId) continue;
      const delay = Math.max(0, at - now);
      if (delay === 0) dueNow++;
      const host = this.hostOf(fp);
      if (!jobs.has(host)) jobs.set(host, []);
      jobs.get(host)!.push({
        name: FETCH_JOB,
        data,
        opts: {
          jobId,
          delay,
          attempts: this.options.attempts ?? QUEUE_DEFAULTS.attempts,
          backoff: { type: 'staple' },
          // Kept a little while, so a process that schedules the same slot late (a scan racing the
          // settlement, a lagging peer) finds the id taken instead of fetching again.
          removeOnComplete: { age: SETTLED_JOB_AGE_SECONDS },
          removeOnFail: { age: SETTLED_JOB_AGE_SECONDS },
          // One job per certificate: a job at a new time replaces a delayed one.
          deduplication: { id: fp, replace: true },
        },
      });
    }
    await Promise.all([...jobs].map(([host, list]) => this.options.queue.queueOf(host).addBulk(list)));
    return { scheduled: [...jobs.values()].reduce((n, list) => n + list.length, 0), dueNow };
  }

  /** The host queue of a certificate (as routed when it was tracked). */
  private hostOf(fingerprint: string): string {
    return this.hosts.get(fingerprint) ?? OVERFLOW_HOST;
  }

  private queueOf(fingerprint: string): ReturnType<StapleQueue['queueOf']> {
    return this.options.queue.queueOf(this.hostOf(fingerprint));
  }

  private async unschedule(fps: readonly string[]): Promise<void> {
    for (let i = 0; i < fps.length; i += CHUNK) {
      const chunk = fps.slice(i, i + CHUNK);
      const ids = await Promise.all(chunk.map((fp) => this.queueOf(fp).getDeduplicationJobId(fp)));
      // remove() leaves a job that is running (locked); it ends, and nothing schedules it again.
      const removed = await Promise.all(ids.map((id, j) => (id ? this.queueOf(chunk[j]!).remove(id) : 0)));
      const kept = ids.filter((id, j) => id && removed[j] === 0).length;
      if (kept > 0) this.log.info({ certificates: kept }, 'removed certificates with a job in progress: it finishes, none follows');
    }
  }
}
