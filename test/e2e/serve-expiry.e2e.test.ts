/**
 * A responder down for longer than a response's validity: the staples expire out of Redis (an
 * expired staple is never served), the certificates count as failing, and the first good answer
 * after the outage restores them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, runCli, testPrefix } from '@staplewarm/testing';
import {
  FAST_RETRIES,
  ServeProcess,
  serveArgs,
  startServeFixture,
  waitForStaples,
  waitForStapled,
  type ServeFixture,
} from './serve-harness.js';

const COUNT = 20;

describe('serve through an outage longer than the validity window', () => {
  let fx: ServeFixture;
  let serve: ServeProcess | undefined;
  const prefix = testPrefix('serve-expiry');
  const fps = () => fx.manifest.leaves.map((l) => l.fingerprint);

  beforeAll(async () => {
    // 90-second responses with thisUpdate a minute back: each staple lives 30 s after its fetch.
    fx = await startServeFixture({ label: 'serve-expiry', count: COUNT, prefixes: [prefix], responder: { validityHours: 0.025 } });
  });

  afterAll(() => fx?.close());

  it('lets staples expire, counts the certificates as failing, and restores them after the outage', async () => {
    serve = new ServeProcess(
      serveArgs(
        join(fx.dir, 'live'),
        prefix,
        0,
        // The refresh point 3-5 s after each fetch; retries every 0.5-3 s, at most 2 s apart without a staple.
        '--refresh-window',
        '0.7,0.72',
        ...FAST_RETRIES,
        '--refresh-retry-missing-max-ms',
        '2000',
      ),
      { STAPLEWARM_ATTEMPTS: '1' },
    );
    await serve.ready();
    await waitForStapled(fx.redis, prefix, fps(), 15_000, 'the cold start');

    fx.responder.setFaults({ http5xx: true });
    const outageStart = Date.now();
    const during = await waitForStaples(fx.redis, prefix, fps(), (s) => s.der === null, 40_000, 'the staples to expire');
    expect(Date.now() - outageStart).toBeLessThan(35_000); // gone by their nextUpdate, not kept
    for (const s of during) {
      expect(s.meta.lastErrorCode).toBe('http-500');
      expect(Date.parse(s.meta.expiresAt ?? '')).toBeLessThanOrEqual(Date.now());
    }
    const status = await runCli(['status', '--redis', REDIS_URL, '--prefix', prefix, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      certificates: COUNT,
      failing: COUNT,
      missing: COUNT,
      stapled: { good: 0, revoked: 0 },
    });

    fx.responder.setFaults({});
    const restored = await waitForStaples(
      fx.redis,
      prefix,
      fps(),
      (s) => s.der !== null && s.meta.lastError === undefined,
      10_000,
      'the staples to come back',
    );
    expect(restored.every((s) => s.meta.status === 'good')).toBe(true);
    expect(await serve.stop()).toBe(0);
    serve = undefined;
  });
});
