import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePki } from '../pki/generate.js';
import type { PkiManifest } from '../pki/manifest.js';
import { postOcsp } from '../testing/http.js';
import { opensslRequest, withTempDir } from '../testing/openssl.js';
import { startResponder } from './responder.js';
import { RateMeter } from './stats.js';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then `rate` per second', () => {
    const bucket = new TokenBucket(10, 2, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, false]);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(10_000) && bucket.take(10_000) && !bucket.take(10_000)).toBe(true); // capped at burst
  });
});

describe('RateMeter', () => {
  it('counts the requests of the last second', () => {
    const meter = new RateMeter();
    for (let t = 0; t < 1000; t += 10) meter.record(t);
    expect(meter.perSecond(999)).toBe(100);
    expect(meter.perSecond(1550)).toBe(40); // buckets 1.0-1.5 s are empty
    expect(meter.perSecond(5000)).toBe(0);
  });
});

describe('origin rate limit over HTTP', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let manifest: PkiManifest;

  beforeAll(async () => {
    ({ dir, cleanup } = await withTempDir());
    manifest = await generatePki({ dir, count: 1 });
  });
  afterAll(() => cleanup());

  it('answers 429 with Retry-After beyond the rate', async () => {
    const responder = await startResponder({ pkiDir: dir, rate: 0.1 });
    try {
      const der = await opensslRequest(dir, manifest, { leaves: [1] });
      const first = await postOcsp(responder.url, der);
      const second = await postOcsp(responder.url, der);
      expect([first.status, second.status]).toEqual([200, 429]);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(responder.stats().byOutcome).toMatchObject({ ok: 1, rateLimited: 1 });
    } finally {
      await responder.close();
    }
  });

  it('omits Retry-After when asked, or sends the configured value', async () => {
    for (const [retryAfter, header] of [
      [false, null],
      [7, '7'],
    ] as const) {
      const responder = await startResponder({ pkiDir: dir, rate: 0.1, retryAfter });
      try {
        const der = await opensslRequest(dir, manifest, { leaves: [1] });
        await postOcsp(responder.url, der);
        const limited = await postOcsp(responder.url, der);
        expect(limited.status).toBe(429);
        expect(limited.headers.get('retry-after')).toBe(header);
      } finally {
        await responder.close();
      }
    }
  });
});
