import type { Redis } from 'ioredis';

/**
 * What a `serve` process holding a suspected shrink publishes, so that `staplewarm accept-shrink`,
 * run from any machine that reaches the fleet's Redis, can show the operator what they confirm.
 */
export interface HeldShrink {
  /** The serve process: `<host name>:<pid>`. */
  process: string;
  /** The hold's id; a confirmation names it. */
  id: string;
  /** The process's `--certs`. */
  stores: string[];
  /** Certificates of the last accepted scan. */
  known: number;
  /** Certificates the latest scan found. */
  found: number;
  /** Certificates kept tracked although the latest scan did not find them. */
  held: number;
  /** Consecutive suspected scans so far, and how many accept the shrink on their own. */
  scans: number;
  confirmScans: number;
  /** When the hold began (ISO 8601). */
  since: string;
}

/** How long a confirmation waits for its process to read it: a scan interval is at most a day. */
const CONFIRMATION_TTL_MS = 2 * 86_400_000;

/**
 * The Redis side of the shrink guard, beside the queue (`<queue prefix>:shrink:*`, like the
 * scheduler's `refresh:` records; not part of the staple contract):
 * - `shrink:held:<process>`: a HeldShrink (JSON) per process holding a suspected shrink, rewritten
 *   at every scan of the hold and expiring a little after the next scan is due, so a process that
 *   died does not stay listed;
 * - `shrink:accept:<process>`: the id of the hold the operator confirmed. A confirmation names a
 *   hold, so it approves what the operator was shown and never a shrink that begins later.
 */
export class ShrinkConfirmations {
  /** `queuePrefix`: the BullMQ prefix of the fleet (`ocsp:bull`). */
  constructor(
    private readonly redis: Redis,
    private readonly queuePrefix: string,
  ) {}

  /** Publishes (or refreshes) a process's hold for `ttlMs`. */
  async publish(hold: HeldShrink, ttlMs: number): Promise<void> {
    await this.redis.set(this.heldKey(hold.process), JSON.stringify(hold), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  /** The hold of `process` is over (accepted, or the stores came back): unlist it, forget its confirmation. */
  async release(process: string): Promise<void> {
    await this.redis.del(this.heldKey(process), this.acceptKey(process));
  }

  /** Is the hold `holdId` of `process` confirmed? */
  async isConfirmed(process: string, holdId: string): Promise<boolean> {
    return (await this.redis.get(this.acceptKey(process))) === holdId;
  }

  /** Confirms one listed hold (as `holds()` returned it). */
  async confirm(hold: Pick<HeldShrink, 'process' | 'id'>): Promise<void> {
    await this.redis.set(this.acceptKey(hold.process), hold.id, 'PX', CONFIRMATION_TTL_MS);
  }

  /** Every hold published under this prefix, oldest first (SCAN, never KEYS). Entries that do not parse are skipped. */
  async holds(): Promise<HeldShrink[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', this.heldKey('*'), 'COUNT', 1_000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys);
    return values
      .map(parseHold)
      .filter((hold): hold is HeldShrink => hold !== undefined)
      .sort((a, b) => a.since.localeCompare(b.since) || a.process.localeCompare(b.process));
  }

  private heldKey(process: string): string {
    return `${this.queuePrefix}:shrink:held:${process}`;
  }

  private acceptKey(process: string): string {
    return `${this.queuePrefix}:shrink:accept:${process}`;
  }
}

function parseHold(value: string | null): HeldShrink | undefined {
  if (value === null) return undefined;
  try {
    const hold = JSON.parse(value) as Partial<HeldShrink>;
    const numbers = [hold.known, hold.found, hold.held, hold.scans, hold.confirmScans];
    if (typeof hold.process !== 'string' || typeof hold.id !== 'string' || typeof hold.since !== 'string') return undefined;
    if (!Array.isArray(hold.stores) || !numbers.every((n) => typeof n === 'number')) return undefined;
    return hold as HeldShrink;
  } catch {
    return undefined;
  }
}

/** `accept-shrink --process <name>` named a process that holds no suspected shrink. */
export class NoHeldShrinkError extends Error {
  override readonly name = 'NoHeldShrinkError';
  readonly code = 'no-held-shrink';
  constructor(readonly processes: readonly string[]) {
    super(`no suspected shrink is held by ${processes.join(', ')} (\`staplewarm accept-shrink --list\` shows the holds)`);
  }
}

/** One line per hold, as `accept-shrink` prints them. Pure. */
export function formatHolds(holds: readonly HeldShrink[]): string {
  return holds
    .map(
      (h) =>
        `  ${h.process}: found ${h.found} of ${h.known} known certificates, ${h.held} held since ${h.since} ` +
        `(scan ${h.scans} of ${h.confirmScans}); stores ${h.stores.join(' ')}`,
    )
    .join('\n');
}
