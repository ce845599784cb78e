import { DEFAULT_REFRESH_POLICY } from '@staplewarm/queue';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config.js';
import { refreshPolicyFrom } from './refresh-policy.js';

describe('refreshPolicyFrom', () => {
  it('is the default rule without flags', () => {
    expect(refreshPolicyFrom({})).toEqual(DEFAULT_REFRESH_POLICY);
  });

  it('takes the window and the delays from the flags', () => {
    expect(refreshPolicyFrom({ refreshWindow: '0.6, 0.7', refreshRetryMinMs: '500', refreshRetryMissingMaxMs: '2000' })).toEqual({
      ...DEFAULT_REFRESH_POLICY,
      windowStart: 0.6,
      windowEnd: 0.7,
      retryMinMs: 500,
      missingRetryMaxMs: 2000,
    });
  });

  it('names the flag that is wrong', () => {
    expect(() => refreshPolicyFrom({ refreshWindow: 'half' })).toThrow(/--refresh-window/);
    expect(() => refreshPolicyFrom({ refreshRetryBaseMs: '-1' })).toThrow(/--refresh-retry-base-ms/);
    expect(() => refreshPolicyFrom({ refreshWindow: '0.8,0.5' })).toThrow(ConfigError);
    expect(() => refreshPolicyFrom({ refreshRetryMinMs: '0' })).toThrow(/loop/);
  });
});
