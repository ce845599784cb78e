import { createHash } from 'node:crypto';
import { OVERFLOW_HOST } from './host-queues.js';
import type { StapleJobData } from './job.js';

/** One job to add: its id, its host queue and the certificates it fetches. */
export interface PlannedJob {
  id: string;
  host: string;
  /** One target: a plain job (data = the target, id = its fingerprint); more: a batch job. */
  targets: StapleJobData[];
}

/**
 * Splits targets into jobs of at most `batchSize` certificates of one host queue, in the order given
 * (`routes`: fingerprint → host queue, as `StapleQueue.route` gives them). A job of one certificate
 * is a plain job (id = fingerprint, what `serve` and the relay add too); a batch's id is derived
 * from its certificates, so enqueueing the same batch again (a second `warm` while the first one's
 * jobs still wait) adds nothing. Pure: no Redis.
 */
export function planJobs(targets: readonly StapleJobData[], routes: ReadonlyMap<string, string>, batchSize: number): PlannedJob[] {
  const size = Math.max(1, Math.floor(batchSize));
  const open = new Map<string, StapleJobData[]>();
  const jobs: PlannedJob[] = [];
  const close = (host: string, list: StapleJobData[]): void => {
    jobs.push({ id: list.length === 1 ? list[0]!.fingerprint : batchJobId(list), host, targets: list });
  };
  for (const target of targets) {
    const host = routes.get(target.fingerprint) ?? OVERFLOW_HOST;
    let list = open.get(host);
    if (!list) open.set(host, (list = []));
    list.push(target);
    if (list.length >= size) {
      close(host, list);
      open.delete(host);
    }
  }
  for (const [host, list] of open) close(host, list);
  return jobs;
}

/** `batch-` and 128 bits of the SHA-256 of its fingerprints: never a fingerprint, refresh or other batch id. */
export function batchJobId(targets: readonly Pick<StapleJobData, 'fingerprint'>[]): string {
  const hash = createHash('sha256');
  for (const target of targets) hash.update(target.fingerprint).update(',');
  return `batch-${hash.digest('hex').slice(0, 32)}`;
}
