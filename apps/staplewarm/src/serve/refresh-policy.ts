// The pure schedule alone: `serve --help` must not load BullMQ.
import { DEFAULT_REFRESH_POLICY, refreshPolicyProblems, type RefreshPolicy } from '@staplewarm/queue/schedule';
import { ConfigError } from '../config.js';

/** The advanced `serve` flags that tune the refresh rule (docs/refresh.md), as commander gives them. */
export interface RefreshFlags {
  refreshWindow?: string;
  refreshMarginMs?: string;
  refreshRetryMinMs?: string;
  refreshRetryBaseMs?: string;
  refreshRetryMaxMs?: string;
  refreshRetryMissingMaxMs?: string;
}

/** Flags over the defaults, validated: a bad value is a ConfigError naming the flag. */
export function refreshPolicyFrom(flags: RefreshFlags): RefreshPolicy {
  const policy: RefreshPolicy = { ...DEFAULT_REFRESH_POLICY };
  if (flags.refreshWindow !== undefined) {
    const match = /^\s*([0-9.]+)\s*,\s*([0-9.]+)\s*$/.exec(flags.refreshWindow);
    if (!match) throw new ConfigError('--refresh-window', `expected start,end fractions such as 0.5,0.75, got "${flags.refreshWindow}"`);
    policy.windowStart = Number(match[1]);
    policy.windowEnd = Number(match[2]);
  }
  const ms = (value: string | undefined, flag: string, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(flag, `expected milliseconds >= 0, got "${value}"`);
    return n;
  };
  policy.safetyMarginMs = ms(flags.refreshMarginMs, '--refresh-margin-ms', policy.safetyMarginMs);
  policy.retryMinMs = ms(flags.refreshRetryMinMs, '--refresh-retry-min-ms', policy.retryMinMs);
  policy.retryBaseMs = ms(flags.refreshRetryBaseMs, '--refresh-retry-base-ms', policy.retryBaseMs);
  policy.retryMaxMs = ms(flags.refreshRetryMaxMs, '--refresh-retry-max-ms', policy.retryMaxMs);
  policy.missingRetryMaxMs = ms(flags.refreshRetryMissingMaxMs, '--refresh-retry-missing-max-ms', policy.missingRetryMaxMs);
  const problems = refreshPolicyProblems(policy);
  if (problems.length > 0) throw new ConfigError('refresh policy', problems.join('; '));
  return policy;
}
