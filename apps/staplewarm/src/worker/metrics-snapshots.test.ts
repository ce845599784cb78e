import type { StapleMeta } from '@staplewarm/store';
import { describe, expect, it } from 'vitest';
import { certificateStateOf } from './metrics-snapshots.js';

const now = Date.UTC(2026, 10, 23);
const meta = (fields: Partial<StapleMeta>): StapleMeta => ({
  fingerprint: 'ab'.repeat(32),
  names: ['a.test'],
  mustStaple: false,
  ...fields,
});

describe('certificateStateOf', () => {
  it('counts a certificate with a usable staple by its status', () => {
    expect(certificateStateOf(meta({ status: 'good', expiresAt: new Date(now + 1) }), now)).toBe('stapled_good');
    expect(certificateStateOf(meta({ status: 'revoked', expiresAt: new Date(now + 1) }), now)).toBe('stapled_revoked');
  });

  it('counts a stapled certificate whose last refresh failed as stapled: it still has a staple', () => {
    expect(certificateStateOf(meta({ status: 'good', expiresAt: new Date(now + 1), lastErrorCode: 'timeout' }), now)).toBe('stapled_good');
  });

  it('counts a certificate without a usable staple as failing after an error, else missing', () => {
    expect(certificateStateOf(meta({ lastErrorCode: 'http-500' }), now)).toBe('failing');
    expect(certificateStateOf(meta({ status: 'good', expiresAt: new Date(now), lastErrorCode: 'timeout' }), now)).toBe('failing');
    expect(certificateStateOf(meta({ status: 'good', expiresAt: new Date(now - 1) }), now)).toBe('missing');
    expect(certificateStateOf(meta({}), now)).toBe('missing');
  });

  it('falls back to nextUpdate when expiresAt is absent', () => {
    expect(certificateStateOf(meta({ status: 'good', nextUpdate: new Date(now + 1) }), now)).toBe('stapled_good');
  });
});
