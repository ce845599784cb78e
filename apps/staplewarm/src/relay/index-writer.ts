/**
 * warm and serve write the relay's CertID index while they hold what it needs: every scanned
 * certificate's target, with its issuer's name (`StapleTarget.issuerName`, which the worker does not
 * need and job data leaves out).
 */
import type { StapleTarget } from '@staplewarm/ocsp';
import { CertIdIndex } from '@staplewarm/store';
import type { Redis } from 'ioredis';

/** Targets per pipeline: about a millisecond of Redis time each. */
const CHUNK = 1_000;

/** The job data of a target: everything but the index-only `issuerName` (BullMQ memory per job). */
export function jobDataOf<T extends StapleTarget>(target: T): Omit<T, 'issuerName'> {
  const { issuerName: _omitted, ...data } = target;
  return data;
}

export class CertIdIndexWriter {
  private readonly index: CertIdIndex;

  constructor(redis: Redis, prefix: string) {
    this.index = new CertIdIndex(redis, { prefix });
  }

  /** Indexes every target (fresh ones too: the relay answers for all), one pipeline per 1,000. */
  async write(targets: readonly StapleTarget[]): Promise<number> {
    let indexed = 0;
    for (let i = 0; i < targets.length; i += CHUNK) indexed += await this.index.write(targets.slice(i, i + CHUNK));
    return indexed;
  }
}
