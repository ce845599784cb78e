/** The request forms real clients send, and paths that carry no request. */
import { certIdFor, parseOcspRequest } from '@staplewarm/ocsp';
import { beforeAll, describe, expect, it } from 'vitest';
import { derCandidates, readRequestForm } from './request-form.js';
import { relayPki, requestFor, type RelayPki } from './testing/fixtures.js';

let p: RelayPki;
let der: Buffer;
let b64: string;

beforeAll(() => {
  p = relayPki();
  // Find a serial whose request's base64 holds all three of + / = (escaped or not, they must survive).
  for (let i = 0; ; i++) {
    const leaf = i === 0 ? p.leaf : (p = relayPki()).leaf;
    der = requestFor(p, leaf);
    b64 = der.toString('base64');
    if (b64.includes('+') && b64.includes('/') && b64.endsWith('=')) break;
    if (i > 400) throw new Error('no request with + / and = in its base64');
  }
});

const serialOf = (target: string): string | undefined => {
  const reading = readRequestForm({ method: 'GET', target });
  return reading.ok ? reading.request.certIds[0]?.serialNumber : undefined;
};

describe('readRequestForm: GET', () => {
  it.each([
    ['escaped as nginx and openssl do (+ / = as %2B %2F %3D)', () => `/${encodeURIComponent(b64)}`],
    ['unescaped', () => `/${b64}`],
    ['under a path prefix', () => `/ocsp/r3/${encodeURIComponent(b64)}`],
    ['unescaped under a path prefix', () => `/ocsp/${b64}`],
    ['with lowercase escapes', () => `/${encodeURIComponent(b64).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())}`],
    ['with + turned into a space by form encoding', () => `/${b64.replaceAll('+', '%20')}`],
    ['with a query string', () => `/${encodeURIComponent(b64)}?x=1`],
    ['in base64url', () => `/${b64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`],
    ['as an absolute-form target (sent to a proxy): only the path counts', () => `http://ocsp.ca.example:8080/${encodeURIComponent(b64)}`],
  ])('reads the request %s', (_what, target) => {
    expect(b64).toMatch(/\+/);
    expect(serialOf(target())).toBe(p.leaf.serialNumber);
  });

  it('finds nothing in paths without a request', () => {
    for (const target of ['/', '', '/favicon.ico', '/healthz', '/%', '/%zz', `/${'M'.repeat(100)}`, '/MEUwQzBBMD8wPTAJ']) {
      const reading = readRequestForm({ method: 'GET', target });
      expect(reading.ok, target).toBe(false);
    }
  });

  it('bounds the candidates a path with many slashes yields', () => {
    expect(derCandidates(`${'/MA'.repeat(1000)}`).length).toBeLessThanOrEqual(16);
  });
});

describe('readRequestForm: POST', () => {
  it('reads the DER body', () => {
    const reading = readRequestForm({ method: 'POST', body: der });
    expect(reading.ok && reading.request).toEqual(parseOcspRequest(der));
    expect(reading.ok && reading.request.certIds[0]?.issuerKeyHash).toBe(certIdFor(p.leaf, p.issuer).issuerKeyHash);
  });

  it('refuses a base64 body, an empty body and trailing bytes, with the reason', () => {
    for (const body of [Buffer.from(b64), Buffer.alloc(0), Buffer.concat([der, Buffer.from([0])])]) {
      const reading = readRequestForm({ method: 'POST', body });
      expect(reading.ok).toBe(false);
      expect(!reading.ok && reading.reason).toMatch(/OCSP request/);
    }
  });
});
