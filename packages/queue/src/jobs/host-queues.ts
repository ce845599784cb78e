/**
 * One BullMQ queue per responder host. With a single queue, the jobs of a host that must wait for its
 * budget sat in front of every other host's: a store sorted by CA was served one CA after another
 * (5 CAs at 500/s each took 5x the floor). With a queue per host, each host's jobs wait only for
 * that host's budget, and the order of the certificate store no longer matters.
 *
 * Hosts are few (one per issuing CA, a handful per fleet). The registry, a sorted set of host →
 * last enqueue time under the BullMQ prefix, lets every worker process find the queues to work;
 * past `maxHostQueues` hosts (a hostile store naming thousands) the others share one overflow queue.
 */
import type { Redis } from 'ioredis';
import type { StapleTarget } from '@staplewarm/ocsp';
import { responderHostOf, responderUrls } from '../hosts/responder-urls.js';

/** Queue names start with this; BullMQ keys are `<prefix>:staple@<host>:*`. */
export const STAPLE_QUEUE_BASE = 'staple';

/** The queue of the hosts past `maxHostQueues`, and of certificates without a usable URL. */
export const OVERFLOW_HOST = '*';

/**
 * The queue name for a responder host (`host[:port]`, lowercase). BullMQ refuses `:` in names, so
 * the host is percent-encoded: `staple@ocsp.example.com%3A8080`, never ambiguous.
 */
export function hostQueueName(host: string): string {
  return `${STAPLE_QUEUE_BASE}@${host === OVERFLOW_HOST ? 'other' : encodeURIComponent(host)}`;
}

/** The host whose queue a certificate's job goes to: that of the first URL the worker will try. */
export function primaryHostOf(target: Pick<StapleTarget, 'ocspUrls'>): string {
  const [first] = responderUrls(target.ocspUrls).used;
  const host = first === undefined ? '' : responderHostOf(first);
  return host === '' ? OVERFLOW_HOST : host;
}

/**
 * KEYS[1]: the registry (sorted set). ARGV: cap, host... For each host: known → score = now;
 * unknown and room left → added; unknown and full → reported. Returns the hosts that did not fit.
 * Atomic, so concurrent enqueuers never pass the cap together. "now" is Redis' clock, like the
 * forgetting below: processes whose clocks disagree never see each other's hosts as idle.
 */
const REGISTER = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local full = {}
local size = redis.call('ZCARD', KEYS[1])
for i = 2, #ARGV do
  local host = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], host) then
    redis.call('ZADD', KEYS[1], now, host)
  elseif size < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], now, host)
    size = size + 1
  else
    full[#full + 1] = host
  end
end
return full
`;

/** KEYS[1]: the registry. ARGV: idle ms, then hosts. Returns those not enqueued to for idle ms (Redis' clock). */
const STALE = `
local t = redis.call('TIME')
local before = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[1])
return redis.call('ZRANGEBYSCORE', KEYS[1], 0, before)
`;

/** KEYS[1]: the registry. ARGV: host, idle ms. Removes the host if it is still not enqueued to for idle ms. */
const FORGET = `
local t = redis.call('TIME')
local before = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[2])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= before then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

const REGISTER_COMMAND = 'staplewarmRegisterHostsV1';

/** The responder hosts that have a queue, shared by every process of the fleet through Redis. */
export class HostRegistry {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly maxHosts: number,
  ) {
    this.key = `${prefix}:${STAPLE_QUEUE_BASE}:hosts`;
    if (!(REGISTER_COMMAND in redis)) redis.defineCommand(REGISTER_COMMAND, { numberOfKeys: 1, lua: REGISTER });
  }

  /**
   * Registers hosts about to get jobs; returns, for each, the host whose queue to use: itself, or
   * OVERFLOW_HOST when the registry is full and it is not in it.
   */
  async register(hosts: readonly string[]): Promise<Map<string, string>> {
    const distinct = [...new Set(hosts)].filter((host) => host !== OVERFLOW_HOST);
    const routes = new Map<string, string>(hosts.map((host) => [host, host]));
    if (distinct.length === 0) return routes;
    const call = (this.redis as unknown as Record<string, (...args: (string | number)[]) => Promise<string[]>>)[REGISTER_COMMAND]!;
    const full = await call.call(this.redis, this.key, this.maxHosts, ...distinct);
    for (const host of full) routes.set(host, OVERFLOW_HOST);
    return routes;
  }

  /** Every registered host, and the overflow queue. */
  async hosts(): Promise<string[]> {
    return [...(await this.redis.zrange(this.key, 0, -1)), OVERFLOW_HOST];
  }

  /** Forgets hosts not enqueued to for `idleMs` (by Redis' clock) whose queues `isIdle` says are empty. */
  async forgetIdle(idleMs: number, isIdle: (host: string) => Promise<boolean>): Promise<string[]> {
    const stale = (await this.redis.eval(STALE, 1, this.key, idleMs)) as string[];
    const forgotten: string[] = [];
    for (const host of stale) {
      if (!(await isIdle(host))) continue;
      // Only if nobody registered it meanwhile: an enqueuer registers before it adds jobs.
      const removed = await this.redis.eval(FORGET, 1, this.key, host, idleMs);
      if (removed === 1) forgotten.push(host);
    }
    return forgotten;
  }
}
