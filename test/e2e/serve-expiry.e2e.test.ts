/**
 * A responder down for longer than a response's validity: the staples expire out of Redis (an
 * expired staple is never served), the certificates count as failing, and the first good answer
 * after the outage restores them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki, startResponder, type PkiManifest, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, testPrefix } from '../helpers/services.js';
import { ServeProcess, readStaples, waitFor } from './serve-harness.js';

const COUNT = 20;

describe('serve through an outage longer than the validity window', () => {
  let dir: string;
  let manifest: PkiManifest;
  let responder: Responder;
  let redis: Redis;
  let serve: ServeProcess | undefined;
  const prefix = testPrefix('serve-expiry');
  const staples = () => readStaples(redis, prefix, manifest.leaves.map((l) => l.fingerprint));

  beforeAll(async () => {
    redis = await connectTestRedis();
    dir = mkdtempSync(join(tmpdir(), 'sw-serve-expiry-'));
    const port = await freePort();
    manifest = await generatePki({ dir, count: COUNT, ocspUrls: [`http://127.0.0.1:${port}/`] });
    // 90-second responses with thisUpdate a minute back: each staple lives 30 s after its fetch.
    responder = await startResponder({ pkiDir: dir, port, validityHours: 0.025 });
  });

  afterAll(async () => {
    await ServeProcess.stopAll();
    await responder?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets staples expire, counts the certificates as failing, and restores them after the outage', async () => {
    serve = new ServeProcess(
      [
        '--certs', join(dir, 'live'), '--prefix', prefix, '--rate', '0',
        // The refresh point 3-5 s after each fetch; retries every 0.5-3 s, at most 2 s apart without a staple.
        '--refresh-window', '0.7,0.72',
        '--refresh-retry-min-ms', '500', '--refresh-retry-base-ms', '1000', '--refresh-retry-max-ms', '3000', '--refresh-retry-missing-max-ms', '2000',
      ],
      { STAPLEWARM_ATTEMPTS: '1' },
    );
    await serve.ready();
    await waitFor(async () => (await staples()).every((s) => s.der !== null), 15_000, 'the cold start');

    responder.setFaults({ http5xx: true });
    const outageStart = Date.now();
    const during = await waitFor(async () => {
      const now = await staples();
      return now.every((s) => s.der === null) && now;
    }, 40_000, 'the staples to expire');
    expect(Date.now() - outageStart).toBeLessThan(35_000); // gone by their nextUpdate, not kept
    for (const s of during) {
      expect(s.meta.lastErrorCode).toBe('http-500');
      expect(Date.parse(s.meta.expiresAt ?? '')).toBeLessThanOrEqual(Date.now());
    }
    const status = await runCli(['status', '--redis', REDIS_URL, '--prefix', prefix, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ certificates: COUNT, failing: COUNT, missing: COUNT, stapled: { good: 0, revoked: 0 } });

    responder.setFaults({});
    const restored = await waitFor(async () => {
      const now = await staples();
      return now.every((s) => s.der !== null && s.meta.lastError === undefined) && now;
    }, 10_000, 'the staples to come back');
    expect(restored.every((s) => s.meta.status === 'good')).toBe(true);
    expect(await serve.stop()).toBe(0);
    serve = undefined;
  });
});
