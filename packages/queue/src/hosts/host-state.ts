import type { Redis } from 'ioredis';
import type { HostRateState } from './host-rate.js';

/** A host's shared rate state and its version (compare-and-set token). Version 0: no state stored. */
export interface VersionedHostState {
  state: HostRateState | undefined;
  version: number;
}

/**
 * How long a host's 429 history outlives its last change: then the host gets its full budget again
 * (and finds its limit anew), so a deep cut after a burst of 429s does not slow it for good.
 */
export const HOST_STATE_TTL_MS = 5 * 60_000;

/**
 * Writes `ARGV[3..]` (field/value pairs) as the new state when the stored version is `ARGV[1]`, bumps
 * the version, sets the TTL `ARGV[2]`. Returns {1, newVersion}, or {0, version, fields...} on a
 * conflict so the caller can decide again on the current state without another round trip.
 */
const COMPARE_AND_SET = `
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then
  return {0, version, redis.call('HGETALL', KEYS[1])}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', version + 1, unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, version + 1}
`;

/**
 * The hosts' 429 history in Redis, shared by every worker process on every machine:
 * `<prefix>:hosts:<host>` hashes (`rate`, `ceiling`, `pausedUntil`, `episodes`, `version`), each
 * expiring HOST_STATE_TTL_MS after its last change. Updates are compare-and-set, so concurrent
 * 429s in several processes are decided one after the other on the latest state.
 */
export class HostStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  key(host: string): string {
    return `${this.prefix}:hosts:${host}`;
  }

  /** The current state of each host, in one pipelined round trip. */
  async read(hosts: readonly string[]): Promise<VersionedHostState[]> {
    if (hosts.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const host of hosts) pipeline.hgetall(this.key(host));
    const replies = (await pipeline.exec()) ?? [];
    return hosts.map((_, i) => {
      const [err, hash] = replies[i] ?? [];
      if (err) throw err;
      return decode(hash as Record<string, string>);
    });
  }

  /** Stores `next` if the host is still at `expectedVersion`; otherwise returns what is stored now. */
  async compareAndSet(
    host: string,
    expectedVersion: number,
    next: HostRateState,
  ): Promise<{ stored: true; version: number } | { stored: false; current: VersionedHostState }> {
    const fields = ['rate', next.rate, 'ceiling', next.ceiling, 'pausedUntil', next.pausedUntil, 'episodes', next.episodes];
    const reply = (await this.redis.eval(COMPARE_AND_SET, 1, this.key(host), expectedVersion, HOST_STATE_TTL_MS, ...fields)) as
      [1, number] | [0, number, string[]];
    if (reply[0] === 1) return { stored: true, version: reply[1] };
    const flat = reply[2];
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
    return { stored: false, current: decode(hash) };
  }
}

function decode(hash: Record<string, string> | undefined): VersionedHostState {
  const version = Number(hash?.version ?? 0);
  const [rate, ceiling, pausedUntil, episodes] = ['rate', 'ceiling', 'pausedUntil', 'episodes'].map((f) => Number(hash?.[f]));
  if (!hash || !version || ![rate, ceiling, pausedUntil, episodes].every((n) => Number.isFinite(n))) {
    return { state: undefined, version: Number.isFinite(version) ? version : 0 };
  }
  return { state: { rate: rate!, ceiling: ceiling!, pausedUntil: pausedUntil!, episodes: episodes! }, version };
}
