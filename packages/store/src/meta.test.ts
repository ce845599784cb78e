import { describe, expect, it } from 'vitest';
import { decodeMeta, isoTime, normalizeNames } from './meta.js';

describe('meta encoding', () => {
  it('writes times that compare as strings in time order', () => {
    const a = isoTime(Date.parse('2026-01-02T03:04:05Z'));
    const b = isoTime(Date.parse('2026-01-02T03:04:05.001Z'));
    expect(a).toBe('2026-01-02T03:04:05.000Z');
    expect(a < b).toBe(true);
  });

  it('lowercases and dedupes names, keeping wildcards', () => {
    expect(normalizeNames(['A.test', '*.A.test', 'a.test'])).toEqual(['a.test', '*.a.test']);
  });

  it('decodes a hash, leaving absent and garbled fields undefined', () => {
    const meta = decodeMeta('ff', {
      status: 'revoked',
      thisUpdate: '2026-01-02T03:04:05.000Z',
      nextUpdate: 'not a date',
      names: 'a.test,*.a.test',
      mustStaple: '1',
      serial: '0a',
      revocationReason: 'keyCompromise',
      lastErrorCode: 'timeout',
    });
    expect(meta).toEqual({
      fingerprint: 'ff',
      status: 'revoked',
      thisUpdate: new Date('2026-01-02T03:04:05.000Z'),
      names: ['a.test', '*.a.test'],
      mustStaple: true,
      serial: '0a',
      revocationReason: 'keyCompromise',
      lastErrorCode: 'timeout',
    });
  });

  it('decodes an empty hash (missing key) as null', () => {
    expect(decodeMeta('ff', {})).toBeNull();
  });

  it('ignores a status outside the contract', () => {
    expect(decodeMeta('ff', { status: 'weird' })?.status).toBeUndefined();
  });
});
