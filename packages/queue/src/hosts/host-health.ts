import { retryDelay, type BackoffPolicy } from '../jobs/backoff.js';

/**
 * A circuit breaker per responder host, in each process. After `failuresToOpen` transport failures
 * in a row (timeout, refused, reset) the host counts as down for a cool-down: its jobs fail their
 * attempt at once instead of each holding a worker slot for a connect or response timeout (a host
 * that hangs would otherwise fill every slot and stall every other host). After the cool-down one
 * request at a time probes it: an answer closes the breaker, a failure reopens it for longer.
 * Pure: time and randomness are arguments.
 */
export interface HostHealthPolicy {
  /** @defaultValue 5 */
  failuresToOpen: number;
  /** Cool-down by consecutive opening. @defaultValue 5 s doubling to 60 s, with jitter */
  coolDown: BackoffPolicy;
}

export const DEFAULT_HOST_HEALTH_POLICY: HostHealthPolicy = { failuresToOpen: 5, coolDown: { baseMs: 5_000, maxMs: 60_000 } };

export class HostHealth {
  private failures = 0;
  private openings = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly policy: HostHealthPolicy,
    private readonly random: () => number,
  ) {}

  /**
   * May a request go to the host now? Undefined: yes. Otherwise the time to try again: the end of
   * the cool-down, or (while a probe is out) a second later.
   */
  blockedUntil(now: number): number | undefined {
    if (this.openUntil > now) return this.openUntil;
    if (this.openings === 0) return undefined;
    if (this.probing) return now + 1_000;
    this.probing = true;
    return undefined;
  }

  /** Until when the breaker is open (epoch ms; 0 or past when it is not). */
  get openedUntil(): number {
    return this.openUntil;
  }

  /** A request got an answer (any HTTP status): the host is up. */
  succeeded(): void {
    this.failures = 0;
    this.openings = 0;
    this.openUntil = 0;
    this.probing = false;
  }

  /** A request got no answer. Returns when the breaker opened until, or 0 when it did not open. */
  failed(now: number): number {
    if (this.openUntil > now) return 0; // sent before it opened: already counted
    this.failures++;
    const halfOpen = this.openings > 0;
    if (!halfOpen && this.failures < this.policy.failuresToOpen) return 0;
    this.openings++;
    this.failures = 0;
    this.probing = false;
    this.openUntil = now + retryDelay(this.openings, this.policy.coolDown, this.random);
    return this.openUntil;
  }
}
