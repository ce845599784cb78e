import type { Redis } from 'ioredis';
import type { RefreshAttempt } from './schedule.js';

/**
 * The scheduler's memory of each certificate's last settled attempt, in Redis beside the queue
 * (`<queue prefix>:refresh:<fp>`, a hash `at`, `streak`), so every `serve` process and every
 * restart computes the same next attempt. Not part of the staple contract: readers never need it.
 * A record expires 30 days after its last attempt, so removed certificates leave nothing behind.
 */
export const REFRESH_RECORD_TTL_MS = 30 * 86_400_000;

/**
 * Settles one attempt atomically, and only if it is newer than the one recorded: two processes
 * handling the same event, or one handling it late, never count it twice or go back in time.
 * Mirrors `settleAttempt` in schedule.ts (the streak grows while the staple stays due).
 * KEYS[1] record; ARGV: at (epoch ms), still due (1/0), ttl ms. Returns {at, streak}.
 */
const SETTLE_SCRIPT = `
local prev = redis.call('HMGET', KEYS[1], 'at', 'streak')
local prevAt = tonumber(prev[1])
if prevAt and prevAt >= tonumber(ARGV[1]) then return {prev[1], prev[2] or '0'} end
local streak = 0
if ARGV[2] == '1' then streak = (tonumber(prev[2]) or 0) + 1 end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'streak', streak)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {ARGV[1], tostring(streak)}
`;
const SETTLE_COMMAND = 'staplewarmSettleRefresh';

type SettleCall = (key: string, at: number, stillDue: 0 | 1, ttlMs: number) => Promise<unknown>;

export class RefreshRecords {
  private readonly settleCall: SettleCall;

  /** `queuePrefix`: the BullMQ prefix of the fleet (`ocsp:bull`). Registers a script on `redis`. */
  constructor(
    private readonly redis: Redis,
    private readonly queuePrefix: string,
  ) {
    redis.defineCommand(SETTLE_COMMAND, { numberOfKeys: 1, lua: SETTLE_SCRIPT });
    const method = (redis as unknown as Record<string, SettleCall>)[SETTLE_COMMAND];
    if (typeof method !== 'function') throw new TypeError(`ioredis did not define ${SETTLE_COMMAND}`);
    this.settleCall = method.bind(redis);
  }

  key(fingerprint: string): string {
    return `${this.queuePrefix}:refresh:${fingerprint}`;
  }

  /** The records of these certificates (absent: never attempted, or forgotten). One pipeline. */
  async read(fingerprints: readonly string[]): Promise<Map<string, RefreshAttempt>> {
    const pipeline = this.redis.pipeline();
    for (const fp of fingerprints) pipeline.hmget(this.key(fp), 'at', 'streak');
    const replies = (await pipeline.exec()) ?? [];
    const records = new Map<string, RefreshAttempt>();
    fingerprints.forEach((fp, i) => {
      const [err, value] = replies[i] ?? [];
      if (err) throw err;
      const record = parseRecord(value);
      if (record) records.set(fp, record);
    });
    return records;
  }

  /** Records attempts that settled; returns each certificate's record afterwards. */
  async settle(attempts: readonly { fingerprint: string; at: number; stillDue: boolean }[]): Promise<Map<string, RefreshAttempt>> {
    const replies = await Promise.all(
      attempts.map((a) => this.settleCall(this.key(a.fingerprint), a.at, a.stillDue ? 1 : 0, REFRESH_RECORD_TTL_MS)),
    );
    const records = new Map<string, RefreshAttempt>();
    attempts.forEach((a, i) => {
      const record = parseRecord(replies[i]);
      if (record) records.set(a.fingerprint, record);
    });
    return records;
  }
}

function parseRecord(value: unknown): RefreshAttempt | undefined {
  if (!Array.isArray(value)) return undefined;
  const at = Number(value[0]);
  const streak = Number(value[1] ?? 0);
  if (value[0] === null || !Number.isFinite(at) || !Number.isInteger(streak)) return undefined;
  return { at, streak };
}
