import { describe, expect, it } from 'vitest';
import { FetchError } from './errors.js';
import { parseResponderUrl } from './ocsp-url.js';
import { requestBytes } from './testing/local-server.js';

describe('parseResponderUrl', () => {
  const der = requestBytes(83);

  it('appends the URL-escaped base64 request (RFC 6960 A.1)', () => {
    const target = parseResponderUrl('http://ocsp.example.test', der);
    expect(target.origin).toBe('http://ocsp.example.test');
    expect(target.postPath).toBe('/');
    expect(target.getPath).toMatch(/^\/[A-Za-z0-9%]+$/);
    expect(target.getPath).toContain('%2B');
    expect(target.getPath).toContain('%2F');
    expect(target.getPath).toContain('%3D');
    expect(Buffer.from(decodeURIComponent(target.getPath?.slice(1) ?? ''), 'base64')).toEqual(der);
    expect(target.getUrlBytes).toBe(Buffer.byteLength(`http://ocsp.example.test${target.getPath ?? ''}`));
  });

  it('keeps a path and does not double a trailing slash', () => {
    expect(parseResponderUrl('http://ca.test/ocsp', der).getPath).toMatch(/^\/ocsp\/[^/]/);
    expect(parseResponderUrl('http://ca.test/ocsp/', der).getPath).toMatch(/^\/ocsp\/[^/]/);
    expect(parseResponderUrl('http://ca.test/ocsp/', der).postPath).toBe('/ocsp/');
  });

  it('offers no GET form for a URL with a query string', () => {
    const target = parseResponderUrl('http://ca.test/ocsp?x=1', der);
    expect(target.getPath).toBeUndefined();
    expect(target.postPath).toBe('/ocsp?x=1');
  });

  it.each(['ldap://ca.test/ocsp', 'not a url', ''])('rejects %j as bad-url', (url) => {
    expect(() => parseResponderUrl(url, der)).toThrow(FetchError);
    try {
      parseResponderUrl(url, der);
    } catch (err) {
      expect((err as FetchError).code).toBe('bad-url');
      expect((err as FetchError).retryable).toBe(false);
    }
  });
});
