/** RFC 5019 6.2 headers and conditional requests, with the clock passed in. */
import { describe, expect, it } from 'vitest';
import { cacheControl, httpDate, notModified, servedTimes, stapleHeaders } from './http-headers.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const HOUR = 3_600_000;
const times = servedTimes({ thisUpdate: NOW - HOUR, nextUpdate: NOW + 7 * 24 * HOUR, expiresAt: NOW + 7 * 24 * HOUR, etag: '"abc"' });

describe('stapleHeaders', () => {
  it('gives Content-Type, Last-Modified = thisUpdate, Expires = nextUpdate, Cache-Control and ETag', () => {
    expect(stapleHeaders(times, NOW, 3_600)).toEqual({
      'Content-Type': 'application/ocsp-response',
      'Last-Modified': 'Mon, 01 Jun 2026 11:00:00 GMT',
      Expires: 'Mon, 08 Jun 2026 12:00:00 GMT',
      'Cache-Control': 'max-age=3600, public, no-transform, must-revalidate',
      ETag: '"abc"',
    });
  });
});

describe('cacheControl', () => {
  it('counts max-age down to nextUpdate under the cap, and never below 0', () => {
    const soon = { ...times, nextUpdate: NOW + 90_500, expiresAt: NOW + 10 * HOUR };
    expect(cacheControl(soon, NOW, 3_600)).toBe('max-age=90, public, no-transform, must-revalidate');
    expect(cacheControl(soon, NOW + 90_000, 3_600)).toMatch(/^max-age=0,/);
    expect(cacheControl(soon, NOW + HOUR, 3_600)).toMatch(/^max-age=0,/);
  });

  it('counts to expiresAt when the staple expires before nextUpdate (certificate or signer notAfter)', () => {
    expect(cacheControl({ ...times, expiresAt: NOW + 120_000 }, NOW, 3_600)).toMatch(/^max-age=120,/);
  });

  it('caps max-age', () => {
    expect(cacheControl(times, NOW, 60)).toMatch(/^max-age=60,/);
  });
});

describe('notModified', () => {
  it('matches If-None-Match by opaque tag, weak or strong, in a list, or *', () => {
    expect(notModified(times, '"abc"', undefined)).toBe(true);
    expect(notModified(times, 'W/"abc"', undefined)).toBe(true);
    expect(notModified(times, '"x", "abc"', undefined)).toBe(true);
    expect(notModified(times, '*', undefined)).toBe(true);
    expect(notModified(times, '"abd"', undefined)).toBe(false);
  });

  it('lets If-None-Match win over If-Modified-Since', () => {
    expect(notModified(times, '"other"', httpDate(NOW))).toBe(false);
  });

  it('answers If-Modified-Since at or after thisUpdate (whole seconds)', () => {
    expect(notModified({ ...times, thisUpdate: NOW - HOUR + 999 }, undefined, httpDate(NOW - HOUR))).toBe(true);
    expect(notModified(times, undefined, httpDate(NOW - HOUR - 1_000))).toBe(false);
    expect(notModified(times, undefined, 'not a date')).toBe(false);
    expect(notModified(times, undefined, undefined)).toBe(false);
  });
});
