/**
 * 429 with and without Retry-After: the simulator answers 429 to everything for a while, then
 * recovers. staplewarm must pause the host (no request during the pause), spend no attempt on the
 * 429s, and finish with every certificate stapled.
 */
import { startResponder, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, testPrefix } from '@staplewarm/testing';
import { makePki, sampleResponder, waitFor, type TestPki } from './rate-limit-fixtures.js';

const CERTS = 300;

/** The longest time between two samples during which the responder received no request. */
function longestSilenceMs(samples: { at: number; requests: number }[], from: number): number {
  let longest = 0;
  let quietSince: number | undefined;
  for (let i = 1; i < samples.length; i++) {
    const [before, now] = [samples[i - 1]!, samples[i]!];
    if (now.at < from) continue;
    if (now.requests === before.requests) {
      quietSince ??= before.at;
      longest = Math.max(longest, now.at - quietSince);
    } else {
      quietSince = undefined;
    }
  }
  return longest;
}

describe.each([
  // The storm outlasts the first pause, so jobs meet 429 twice: with 2 attempts, a 429 that counted would fail them.
  { retryAfter: 2 as const, minPauseMs: 1_500, stormMs: 2_500 },
  // No Retry-After: exponential backoff, the first pause between 0.5 and 1 s.
  { retryAfter: false as const, minPauseMs: 400, stormMs: 1_500 },
])('429 storm, Retry-After: $retryAfter', ({ retryAfter, minPauseMs, stormMs }) => {
  let redis: Redis;
  let pki: TestPki;
  let responder: Responder;
  const prefix = testPrefix('storm');

  beforeAll(async () => {
    redis = await connectTestRedis();
    const port = await freePort();
    pki = await makePki('storm', CERTS, port);
    responder = await startResponder({ pkiDir: pki.dir, port, latencyMs: 5, retryAfter, presign: true, faults: { only429: true } });
  });

  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });

  afterAll(async () => {
    await responder?.close();
    await pki?.remove();
    redis.disconnect();
  });

  it('pauses the host, spends no attempt, and staples everything once the responder recovers', async () => {
    const sampler = sampleResponder(responder, 20);
    const warm = runCli(['warm', '--certs', pki.live, '--redis', REDIS_URL, '--prefix', prefix, '--json'], { STAPLEWARM_ATTEMPTS: '2' });
    await waitFor('the first 429', () => responder.stats().byFault.only429 > 0);
    const stormStarted = Date.now();
    await new Promise((resolve) => setTimeout(resolve, stormMs));
    responder.setFaults({});
    const run = await warm;
    sampler.stop();

    const summary = JSON.parse(run.stdout) as { stored: { good: number }; failed: Record<string, number>; complete: boolean };
    expect(summary).toMatchObject({ stored: { good: CERTS }, failed: {}, complete: true });
    expect(run.code).toBe(0);
    // Paused: a silence of at least the Retry-After (or the first backoff step) right after the storm began.
    expect(longestSilenceMs(sampler.samples, stormStarted)).toBeGreaterThanOrEqual(minPauseMs);
    // The storm cost a few waves of requests, not 300 certificates times their attempts.
    const stats = responder.stats();
    expect(stats.byFault.only429).toBeLessThan(CERTS);
    expect(stats.byOutcome.ok).toBe(CERTS);
  });
});
