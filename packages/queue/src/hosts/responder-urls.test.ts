import { describe, expect, it } from 'vitest';
import { MAX_OCSP_URLS, responderHostOf, responderUrls } from './responder-urls.js';

describe('responderUrls', () => {
  it('keeps the first four distinct URLs in order and counts the rest', () => {
    const urls = Array.from({ length: 100 }, (_, i) => `http://ocsp${i}.test/`);
    expect(responderUrls(urls)).toEqual({ used: urls.slice(0, MAX_OCSP_URLS), ignored: 96 });
    expect(MAX_OCSP_URLS).toBe(4);
  });

  it('drops repeated URLs before counting', () => {
    const [a, b] = ['http://a.test/', 'http://b.test/'];
    expect(responderUrls([a, a, b, a, b])).toEqual({ used: [a, b], ignored: 0 });
    expect(responderUrls([])).toEqual({ used: [], ignored: 0 });
  });
});

describe('responderHostOf', () => {
  it('is host[:port], lowercased, for http(s) only', () => {
    expect(responderHostOf('http://OCSP.Example.test:8080/x')).toBe('ocsp.example.test:8080');
    expect(responderHostOf('https://[::1]/')).toBe('[::1]');
    expect(responderHostOf('ldap://ca.test/ocsp')).toBe('');
    expect(responderHostOf('not a url')).toBe('');
  });
});
