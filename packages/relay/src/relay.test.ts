/**
 * The relay's decisions with an in-memory store and a recording fetcher: what it answers, when it
 * asks Redis, when it asks for a fetch, and how it waits. The clock is a variable.
 */
import { parseOcspRequest, parseOcspResponse } from '@staplewarm/ocsp';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RelayOptions } from './options.js';
import type { RelayResult } from './ports.js';
import { OcspRelay, type RelayAnswer } from './relay.js';
import type { RequestForm } from './request-form.js';
import {
  DAY,
  FakeFetcher,
  FakeSource,
  HOUR,
  NOW,
  nginxPath,
  relayPki,
  requestFor,
  signedResponse,
  type RelayPki,
} from './testing/fixtures.js';

let p: RelayPki;
let source: FakeSource;
let fetcher: FakeFetcher;
let clock: number;
let fetchesRequested: number;
let results: RelayResult[];

beforeAll(() => {
  p = relayPki();
});

beforeEach(() => {
  source = new FakeSource();
  source.addIssuer(p);
  fetcher = new FakeFetcher();
  clock = NOW;
  fetchesRequested = 0;
  results = [];
});

function relay(options: RelayOptions = {}, certIdHash: 'sha1' | 'sha256' = 'sha1'): OcspRelay {
  return new OcspRelay(
    {
      source,
      fetcher,
      certIdHash,
      now: () => clock,
      observer: { answered: (result) => results.push(result), fetchRequested: () => fetchesRequested++ },
    },
    { missWaitMs: 300, ...options },
  );
}

const get = (der: Buffer): RequestForm => ({ method: 'GET', target: nginxPath(der) });
const post = (der: Buffer): RequestForm => ({ method: 'POST', body: der });

function expectStaple(answer: RelayAnswer, der: Buffer, result: string): void {
  expect(answer.kind === 'staple' && answer.result).toBe(result);
  if (answer.kind === 'staple') expect(answer.entry.der).toEqual(der);
}

describe('OcspRelay: stored staples', () => {
  it('answers a GET and a POST for the CertID of a stored staple with its exact bytes', async () => {
    const der = signedResponse(p, p.leaf);
    source.addCertificate(p, p.leaf);
    source.setStaple(p, p.leaf, der);
    const r = relay();
    expectStaple(await r.answer(get(requestFor(p, p.leaf))), der, 'redis');
    expectStaple(await r.answer(post(requestFor(p, p.leaf))), der, 'memory');
    expect(fetcher.requested).toEqual([]);
  });

  it('serves from memory for memoryTtlMs, then reads Redis again and sees a newer staple', async () => {
    const first = signedResponse(p, p.leaf);
    source.addCertificate(p, p.leaf);
    source.setStaple(p, p.leaf, first);
    const r = relay({ memoryTtlMs: 10_000 });
    await r.answer(get(requestFor(p, p.leaf)));
    const reads = source.calls.certificate;
    const second = signedResponse(p, p.leaf, { thisUpdate: NOW });
    source.setStaple(p, p.leaf, second);
    clock += 9_999;
    expectStaple(await r.answer(get(requestFor(p, p.leaf))), first, 'memory');
    expect(source.calls.certificate).toBe(reads);
    clock += 1;
    expectStaple(await r.answer(get(requestFor(p, p.leaf))), second, 'redis');
  });

  it('never serves a staple from memory past the expiry Redis gave it', async () => {
    const der = signedResponse(p, p.leaf);
    source.addCertificate(p, p.leaf);
    source.setStaple(p, p.leaf, der, 2_000);
    const r = relay({ memoryTtlMs: 60_000 });
    await r.answer(get(requestFor(p, p.leaf)));
    clock += 1_999;
    expectStaple(await r.answer(get(requestFor(p, p.leaf))), der, 'memory');
    clock += 1;
    source.certificates.delete(`${p.issuerId}:${p.leaf.serialNumber}`); // Redis expired it
    const answer = await r.answer(get(requestFor(p, p.leaf)));
    expect(answer.kind).toBe('unavailable');
  });

  it('answers the SHA-256 CertID from a SHA-256 staple when staples are fetched with SHA-256', async () => {
    const der = signedResponse(p, p.leaf, { hash: 'sha256' });
    source.addCertificate(p, p.leaf);
    source.setStaple(p, p.leaf, der);
    expectStaple(await relay({}, 'sha256').answer(get(requestFor(p, p.leaf, 'sha256'))), der, 'redis');
  });

  it('answers the other CertID hash unauthorized, without fetching: a SHA-1 response does not answer a SHA-256 request', async () => {
    source.addCertificate(p, p.leaf);
    source.setStaple(p, p.leaf, signedResponse(p, p.leaf, { hash: 'sha1' }));
    const answer = await relay().answer(get(requestFor(p, p.leaf, 'sha256')));
    expect(answer.kind === 'ocsp-status' && [answer.status, answer.result]).toEqual(['unauthorized', 'other_hash']);
    expect(fetcher.requested).toEqual([]);
  });
});

describe('OcspRelay: refusals', () => {
  it('answers unauthorized for an issuer the index does not know, and remembers it for unknownTtlMs', async () => {
    const stranger = relayPki(); // another CA
    const r = relay({ unknownTtlMs: 5_000 });
    for (let i = 0; i < 3; i++) {
      const answer = await r.answer(get(requestFor(stranger, stranger.leaf)));
      expect(answer.kind === 'ocsp-status' && answer.status).toBe('unauthorized');
      if (answer.kind === 'ocsp-status') expect(parseOcspResponse(answer.der).responseStatus).toBe('unauthorized');
    }
    expect(source.calls.issuer).toBe(1);
    clock += 5_000;
    await r.answer(get(requestFor(stranger, stranger.leaf)));
    expect(source.calls.issuer).toBe(2);
    expect(fetcher.requested).toEqual([]);
  });

  it('answers 503 with a long Retry-After, and fetches nothing, for a certificate of a known issuer it does not know', async () => {
    const answer = await relay().answer(get(requestFor(p, p.other)));
    expect(answer).toMatchObject({ kind: 'unavailable', result: 'unknown_certificate', retryAfterSeconds: 60 });
    expect(fetcher.requested).toEqual([]);
  });

  it('answers malformedRequest to a request for two certificates, to garbage and to an empty path', async () => {
    // OCSPRequest { TBSRequest { requestList { Request, Request } } }, from two single requests.
    const one = requestFor(p, p.leaf);
    const requestOf = (der: Buffer): Buffer => der.subarray(6); // three 2-byte headers precede the Request
    expect(one[1]).toBeLessThan(0x80); // (short lengths: the single request is under 128 bytes)
    const twoRequests = sequence(sequence(sequence(requestOf(one), requestOf(requestFor(p, p.other)))));
    expect(parseOcspRequest(twoRequests).certIds).toHaveLength(2);
    const der = signedResponse(p, p.leaf);
    source.addCertificate(p, p.leaf);
    source.setStaple(p, p.leaf, der);
    // The first Request alone is answered: only the second one makes the request malformed.
    expectStaple(await relay().answer(post(one)), der, 'redis');
    for (const form of [post(twoRequests), post(Buffer.from('hello')), { method: 'GET' as const, target: '/' }]) {
      const answer = await relay().answer(form);
      expect(answer.kind === 'ocsp-status' && answer.result).toBe('malformed');
    }
  });

  it('answers unauthorized to a CertID hashed with neither SHA-1 nor SHA-256', async () => {
    const sha1 = requestFor(p, p.leaf);
    // Replace the SHA-1 OID (1.3.14.3.2.26) by MD5's arc count-alike 1.3.14.3.2.3 (same length).
    const other = Buffer.from(sha1);
    other[other.indexOf(Buffer.from([0x2b, 0x0e, 0x03, 0x02, 0x1a])) + 4] = 0x03;
    const answer = await relay().answer(post(other));
    expect(answer.kind === 'ocsp-status' && answer.result).toBe('unauthorized');
  });

  it('remembers the reading of request forms of a normal size only', async () => {
    const r = relay();
    await r.answer(get(requestFor(p, p.leaf)));
    await r.answer(get(requestFor(p, p.leaf)));
    expect(r.formsRemembered).toBe(1);
    await r.answer({ method: 'GET', target: `/${'A'.repeat(2_000)}` });
    expect(r.formsRemembered).toBe(1);
  });

  it('logs a failing store once, not once per request', async () => {
    source.failure = new Error('connection refused');
    const logged: object[] = [];
    const r = new OcspRelay({
      source,
      fetcher,
      certIdHash: 'sha1',
      now: () => clock,
      log: { info() {}, warn() {}, error: (o) => logged.push(o) },
    });
    for (let i = 0; i < 50; i++) await r.answer(get(requestFor(p, p.leaf)));
    expect(logged).toHaveLength(1);
  });

  it('answers 503 (error) when the store fails, and recovers', async () => {
    source.failure = new Error('connection refused');
    const r = relay();
    expect(await r.answer(get(requestFor(p, p.leaf)))).toMatchObject({ kind: 'unavailable', result: 'error', retryAfterSeconds: 10 });
    source.failure = undefined;
    source.addCertificate(p, p.leaf);
    source.setStaple(p, p.leaf, signedResponse(p, p.leaf));
    expect((await r.answer(get(requestFor(p, p.leaf)))).kind).toBe('staple');
  });
});

describe('OcspRelay: a known certificate without a staple', () => {
  it('asks the pipeline for one fetch, built from the index, and answers every waiting request when it lands', async () => {
    source.addCertificate(p, p.leaf);
    const der = signedResponse(p, p.leaf);
    fetcher.onRequest = () => setTimeout(() => source.setStaple(p, p.leaf, der), 30);
    const r = relay({ missWaitMs: 2_000 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => r.answer(i % 2 ? post(requestFor(p, p.leaf)) : get(requestFor(p, p.leaf)))),
    );
    for (const answer of answers) expectStaple(answer, der, 'fetched');
    expect(fetcher.requested).toHaveLength(1);
    expect(fetchesRequested).toBe(1);
    const [target] = fetcher.requested;
    expect(target).toMatchObject({
      fingerprint: p.leaf.fingerprint,
      names: p.leaf.dnsNames,
      certNotAfter: p.leaf.notAfter.getTime(),
      ocspUrls: ['http://ocsp.relay.test/'],
      certId: { hashAlgorithm: 'sha1', serialNumber: p.leaf.serialNumber },
      issuerSpki: p.issuer.spkiDer.toString('base64'),
    });
    expect(Buffer.from(target?.request ?? '', 'base64')).toEqual(requestFor(p, p.leaf));
    // One lookup for all 20 requests: the index was read once, then polled by that one lookup only.
    expect(source.calls.issuer).toBe(1);
    expect(source.calls.certificate).toBeLessThan(10);
  });

  it('answers 503 with Retry-After when no staple arrives in missWaitMs, and does not ask again for refetchAfterMs', async () => {
    source.addCertificate(p, p.leaf);
    const r = relay({ missWaitMs: 150, refetchAfterMs: 30_000 });
    const started = Date.now();
    const answer = await r.answer(get(requestFor(p, p.leaf)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(answer).toMatchObject({ kind: 'unavailable', result: 'unavailable', retryAfterSeconds: 10 });
    await r.answer(get(requestFor(p, p.leaf)));
    expect(fetcher.requested).toHaveLength(1);
    clock += 30_000;
    await r.answer(get(requestFor(p, p.leaf)));
    expect(fetcher.requested).toHaveLength(2);
  });

  it('waits without adding a job for a certificate never attempted (its first fetch is queued with its index entry)', async () => {
    source.addCertificate(p, p.leaf, { meta: null });
    const answer = await relay({ missWaitMs: 100 }).answer(get(requestFor(p, p.leaf)));
    expect(answer).toMatchObject({ kind: 'unavailable', result: 'unavailable' });
    expect(fetcher.requested).toEqual([]);
  });

  it('fetches in its own hash when the stored staple has the other one (the deployment changed hash)', async () => {
    source.addCertificate(p, p.leaf);
    source.setStaple(p, p.leaf, signedResponse(p, p.leaf, { hash: 'sha256' }));
    const answer = await relay({ missWaitMs: 100 }).answer(get(requestFor(p, p.leaf, 'sha1')));
    expect(answer.kind).toBe('unavailable');
    expect(fetcher.requested.map((t) => t.certId.hashAlgorithm)).toEqual(['sha1']);
  });

  it('treats an expired or unknown-status staple as missing', async () => {
    source.addCertificate(p, p.leaf);
    source.setStaple(p, p.leaf, signedResponse(p, p.leaf, { thisUpdate: NOW - 8 * DAY }));
    await relay({ missWaitMs: 50 }).answer(get(requestFor(p, p.leaf)));
    source.setStaple(p, p.leaf, signedResponse(p, p.leaf, { status: 'unknown' }));
    clock += HOUR;
    await relay({ missWaitMs: 50 }).answer(get(requestFor(p, p.leaf)));
    expect(fetcher.requested).toHaveLength(2);
  });

  it('ends a wait at once when closed', async () => {
    source.addCertificate(p, p.leaf);
    const r = relay({ missWaitMs: 10_000 });
    const started = Date.now();
    const pending = r.answer(get(requestFor(p, p.leaf)));
    setTimeout(() => r.close(), 50);
    expect((await pending).kind).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

/** A DER SEQUENCE of `parts` (definite length, short or long form). */
function sequence(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const length =
    body.length < 0x80 ? [body.length] : body.length < 0x100 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff];
  return Buffer.concat([Buffer.from([0x30, ...length]), body]);
}
