/**
 * Is this Redis allowed to evict keys? Contract v1 and BullMQ both assume it is not: an evicting Redis
 * drops staples (served again only after the next refresh) and queue keys (jobs lost, or BullMQ's
 * scripts failing on half a job) without a word. Every policy but `noeviction` can do this here:
 * `volatile-*` policies pick among keys with an expiry, and every staple, meta and host key has one.
 */
import type { Redis } from 'ioredis';

/** The only `maxmemory-policy` staplewarm supports. */
export const REQUIRED_EVICTION_POLICY = 'noeviction';

/** Where the policy was read: `INFO memory` (allowed on most managed services) or `CONFIG GET`. */
export type EvictionPolicySource = 'info' | 'config';

/**
 * What {@link checkEvictionPolicy} found.
 * - `noeviction`: Redis never evicts; writes fail with OOM when memory is full, and nothing is lost.
 * - `evicting`: another policy. `maxmemoryBytes` is the configured limit when Redis told it; 0 means
 *   no limit is set right now (nothing is evicted until one is, e.g. by `CONFIG SET` or a provider).
 * - `unknown`: Redis refused both ways of asking (a managed service or an ACL user without `INFO`
 *   and `CONFIG`); `reason` holds its answers.
 */
export type EvictionFinding =
  | { kind: 'noeviction'; policy: typeof REQUIRED_EVICTION_POLICY; source: EvictionPolicySource }
  | { kind: 'evicting'; policy: string; maxmemoryBytes?: number; source: EvictionPolicySource }
  | { kind: 'unknown'; reason: string };

/**
 * Reads Redis' `maxmemory-policy`: from `INFO memory` first (what BullMQ reads too, and what managed
 * services that disable `CONFIG` still answer), else `CONFIG GET`. A command Redis refuses (unknown,
 * renamed, or denied by ACL) is not an error: the finding is then `unknown`. Connection errors are
 * ioredis's own and propagate, as everywhere in this package.
 */
export async function checkEvictionPolicy(redis: Redis): Promise<EvictionFinding> {
  const refusals: string[] = [];
  try {
    const found = fromInfo(await redis.info('memory'));
    if (found) return finding(found, 'info');
    refusals.push('INFO memory has no maxmemory_policy');
  } catch (err) {
    refusals.push(`INFO: ${refusalOf(err)}`);
  }
  try {
    const found = fromConfig(await redis.config('GET', 'maxmemory*'));
    if (found) return finding(found, 'config');
    refusals.push('CONFIG GET returned no maxmemory-policy');
  } catch (err) {
    refusals.push(`CONFIG GET: ${refusalOf(err)}`);
  }
  return { kind: 'unknown', reason: refusals.join('; ') };
}

/**
 * One line for an operator, or undefined when there is nothing to warn about (`noeviction`). For
 * `unknown` it says what to check by hand.
 */
export function evictionWarning(found: EvictionFinding): string | undefined {
  switch (found.kind) {
    case 'noeviction':
      return undefined;
    case 'evicting': {
      const limit =
        found.maxmemoryBytes === undefined
          ? ''
          : found.maxmemoryBytes === 0
            ? ' (no maxmemory limit is set now, so nothing is evicted until one is)'
            : ` (maxmemory ${found.maxmemoryBytes} bytes)`;
      return (
        `Redis maxmemory-policy is ${found.policy}${limit}: an evicting Redis silently drops staples and queued jobs; ` +
        `set maxmemory-policy ${REQUIRED_EVICTION_POLICY}`
      );
    }
    case 'unknown':
      return `could not read Redis maxmemory-policy (${found.reason}); make sure it is ${REQUIRED_EVICTION_POLICY}`;
  }
}

interface Policy {
  policy: string;
  maxmemoryBytes?: number;
}

function finding({ policy, maxmemoryBytes }: Policy, source: EvictionPolicySource): EvictionFinding {
  if (policy === REQUIRED_EVICTION_POLICY) return { kind: 'noeviction', policy, source };
  return maxmemoryBytes === undefined ? { kind: 'evicting', policy, source } : { kind: 'evicting', policy, maxmemoryBytes, source };
}

/** `maxmemory_policy:allkeys-lru` and `maxmemory:67108864` lines of `INFO memory`. */
function fromInfo(info: string): Policy | undefined {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return policyOf(fields.get('maxmemory_policy'), fields.get('maxmemory'));
}

/** `CONFIG GET maxmemory*` answers a flat list of name/value pairs. */
function fromConfig(reply: unknown): Policy | undefined {
  if (!Array.isArray(reply)) return undefined;
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]));
  return policyOf(fields.get('maxmemory-policy'), fields.get('maxmemory'));
}

function policyOf(policy: string | undefined, maxmemory: string | undefined): Policy | undefined {
  if (!policy) return undefined;
  const bytes = Number(maxmemory);
  return maxmemory !== undefined && maxmemory !== '' && Number.isSafeInteger(bytes) ? { policy, maxmemoryBytes: bytes } : { policy };
}

/** Redis answered with an error (ioredis `ReplyError`): the command is refused here. Anything else is rethrown. */
function refusalOf(err: unknown): string {
  if (err instanceof Error && err.name === 'ReplyError') return err.message;
  throw err;
}
