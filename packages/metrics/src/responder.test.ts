import { describe, expect, it } from 'vitest';
import { isMetricsError } from './errors.js';
import { assertResponderHost, responderHost } from './responder.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isMetricsError(err) ? err.code : 'not a MetricsError';
  }
  return undefined;
}

describe('responderHost', () => {
  it('keeps the host (and a non-default port), lowercased, and drops the path', () => {
    expect(responderHost('http://R3.O.LENCR.org/MFMwUTBP')).toBe('r3.o.lencr.org');
    expect(responderHost(new URL('http://127.0.0.1:8888/ocsp'))).toBe('127.0.0.1:8888');
    expect(responderHost('http://ocsp.example.com:80/')).toBe('ocsp.example.com');
    expect(responderHost('http://[::1]:9000/')).toBe('[::1]:9000');
  });

  it('rejects what is not a URL', () => {
    expect(codeOf(() => responderHost('ocsp.example.com'))).toBe('invalid-label');
  });
});

describe('assertResponderHost', () => {
  it('accepts hosts and rejects URLs, paths and empty strings', () => {
    expect(codeOf(() => assertResponderHost('ocsp.example.com'))).toBeUndefined();
    expect(codeOf(() => assertResponderHost('127.0.0.1:8888'))).toBeUndefined();
    expect(codeOf(() => assertResponderHost('[::1]:9000'))).toBeUndefined();
    expect(codeOf(() => assertResponderHost('http://ocsp.example.com/'))).toBe('invalid-label');
    expect(codeOf(() => assertResponderHost('ocsp.example.com/abc'))).toBe('invalid-label');
    expect(codeOf(() => assertResponderHost(''))).toBe('invalid-label');
  });
});
