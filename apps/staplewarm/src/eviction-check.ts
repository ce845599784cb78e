import type { StapleLogger } from '@staplewarm/queue';
import { checkEvictionPolicy, evictionWarning, type EvictionFinding } from '@staplewarm/store';
import type { Redis } from 'ioredis';

export interface EvictionCheckOptions {
  /** Also write the warning as one plain line on stderr (warm: for the person at the terminal). */
  stderr?: boolean;
}

/**
 * The start-up check of `warm`, `worker` and `serve`: warns when Redis may evict keys
 * (`maxmemory-policy` other than `noeviction`), which would silently drop staples and BullMQ jobs.
 * Advice only: it never throws and never stops a start. A Redis that will not say (a managed service
 * refusing INFO and CONFIG) is logged at info, with what to check by hand.
 */
export async function warnIfRedisEvicts(
  redis: Redis,
  log: StapleLogger,
  opts: EvictionCheckOptions = {},
): Promise<EvictionFinding | undefined> {
  let found: EvictionFinding;
  try {
    found = await checkEvictionPolicy(redis);
  } catch (err) {
    log.warn({ err }, 'could not check Redis maxmemory-policy');
    return undefined;
  }
  const message = evictionWarning(found) ?? '';
  switch (found.kind) {
    case 'noeviction':
      break;
    case 'evicting':
      log.warn({ maxmemoryPolicy: found.policy, maxmemoryBytes: found.maxmemoryBytes }, message);
      if (opts.stderr) process.stderr.write(`staplewarm: warning: ${message}\n`);
      break;
    case 'unknown':
      log.info({ reason: found.reason }, message);
      break;
  }
  return found;
}
