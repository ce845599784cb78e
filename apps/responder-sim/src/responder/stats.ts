/** Counters the responder keeps, read with `stats()` or `GET /_sim/stats`. */
import { FAULT_NAMES, type FaultName } from './faults.js';

export interface ResponderStats {
  /** OCSP requests received (the /_sim control endpoints are not counted). */
  requests: number;
  byMethod: { GET: number; POST: number; other: number };
  byOutcome: {
    /** A signed response for the requested certificate (good or revoked). */
    ok: number;
    /** HTTP 429 from the rate limit (`only429` counts as a fault). */
    rateLimited: number;
    /** Requests a fault switch answered (details in byFault). */
    faults: number;
    /** `unauthorized`: unknown serial, another issuer, or an unsupported CertID hash. */
    unknown: number;
    /** `malformedRequest`, 405 for other methods, or a body over the size cap. */
    malformed: number;
  };
  /** Status of the `ok` responses. */
  byStatus: { good: number; revoked: number };
  byFault: Record<FaultName, number>;
  /** Requests in the last second. */
  reqPerSec: number;
  /** Requests held open by the `hang` fault right now. */
  hanging: number;
  /** Signatures made: cache misses plus fault variants. */
  signatures: number;
}

/** Requests per second over a sliding second, in 100 ms buckets. Pure: the clock is passed in. */
export class RateMeter {
  private readonly counts = new Array<number>(10).fill(0);
  private readonly slots = new Array<number>(10).fill(-1);

  record(now: number): void {
    const slot = Math.floor(now / 100);
    const i = slot % 10;
    if (this.slots[i] !== slot) {
      this.slots[i] = slot;
      this.counts[i] = 0;
    }
    this.counts[i]!++;
  }

  perSecond(now: number): number {
    const current = Math.floor(now / 100);
    let total = 0;
    for (let i = 0; i < 10; i++) {
      if (current - this.slots[i]! < 10) total += this.counts[i]!;
    }
    return total;
  }
}

export type Outcome = keyof ResponderStats['byOutcome'];

export function emptyStats(): Omit<ResponderStats, 'reqPerSec' | 'hanging' | 'signatures'> {
  return {
    requests: 0,
    byMethod: { GET: 0, POST: 0, other: 0 },
    byOutcome: { ok: 0, rateLimited: 0, faults: 0, unknown: 0, malformed: 0 },
    byStatus: { good: 0, revoked: 0 },
    byFault: Object.fromEntries(FAULT_NAMES.map((name) => [name, 0])) as Record<FaultName, number>,
  };
}
