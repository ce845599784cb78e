/**
 * A misbehaving responder: transient faults are retried until they succeed; permanent ones are
 * reported by reason, and never replace a staple already stored (last-known-good).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki, startResponder, type Faults, type PkiManifest, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, testPrefix } from '@staplewarm/testing';

const COUNT = 30;

interface Summary {
  stored: { good: number; revoked: number };
  kept: number;
  failed: Record<string, number>;
  failures: { fingerprint: string; code: string; reason: string }[];
  complete: boolean;
}

describe('warm against a faulty responder', () => {
  let dir: string;
  let manifest: PkiManifest;
  let responder: Responder;
  let redis: Redis;
  const prefix = testPrefix('faults');
  // Short timeouts and few attempts keep permanent-fault runs to a few seconds.
  const env = { STAPLEWARM_ATTEMPTS: '2', STAPLEWARM_RETRY_BASE_MS: '200', STAPLEWARM_RESPONSE_TIMEOUT_MS: '700' };
  const warm = async (extraEnv: Record<string, string> = {}) => {
    const run = await runCli(['warm', '--certs', join(dir, 'live'), '--redis', REDIS_URL, '--prefix', prefix, '--json', '--force'], {
      ...env,
      ...extraEnv,
    });
    return { code: run.code, summary: JSON.parse(run.stdout) as Summary, stderr: run.stderr };
  };
  const staples = async () => Promise.all(manifest.leaves.map((leaf) => redis.getBuffer(`${prefix}staple:${leaf.fingerprint}`)));

  beforeAll(async () => {
    redis = await connectTestRedis();
    dir = mkdtempSync(join(tmpdir(), 'sw-faults-'));
    const port = await freePort();
    manifest = await generatePki({ dir, count: COUNT, ocspUrls: [`http://127.0.0.1:${port}/`] });
    responder = await startResponder({ pkiDir: dir, port });
  });

  afterAll(async () => {
    await responder?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries transient faults until every staple is stored', async () => {
    responder.setFaults({ http5xx: { every: 4 }, garbage: { every: 9 }, tryLater: { every: 11 } });
    const { code, summary } = await warm({ STAPLEWARM_ATTEMPTS: '12', STAPLEWARM_RETRY_BASE_MS: '50' });
    expect(summary.failures).toEqual([]);
    expect(summary.stored.good).toBe(COUNT);
    expect(summary.complete).toBe(true);
    expect(code).toBe(0);
    expect(responder.stats().requests).toBeGreaterThan(COUNT); // some were retried
  });

  const permanent: [string, Faults, string][] = [
    ['HTTP 500', { http5xx: true }, 'http-500'],
    ['garbage bodies', { garbage: true }, 'malformed'],
    ['tryLater', { tryLater: true }, 'unsuccessful:tryLater'],
    ['a hanging responder', { hang: true }, 'timeout'],
    ['a wrong signer', { wrongSigner: true }, 'unauthorized-signer'],
    ['expired responses', { expired: true }, 'expired'],
  ];
  it.each(permanent)('reports %s by reason and keeps every stored staple', async (_label, faults, code) => {
    const before = await staples();
    expect(before.every((der) => der && der.length > 0)).toBe(true);
    responder.setFaults(faults);
    const run = await warm();
    responder.setFaults({});
    expect(run.code).toBe(1);
    expect(run.summary.complete).toBe(false);
    if (code === 'timeout') {
      // After a few timeouts the host is marked down for every worker: later attempts fail fast as host-down.
      expect((run.summary.failed.timeout ?? 0) + (run.summary.failed['host-down'] ?? 0)).toBe(COUNT);
    } else {
      expect(run.summary.failed).toEqual({ [code]: COUNT });
    }
    expect(run.summary.failures[0]?.reason).toMatch(/127\.0\.0\.1/); // the reason names the responder
    expect(await staples()).toEqual(before);
    const meta = await redis.hgetall(`${prefix}meta:${manifest.leaves[0]?.fingerprint ?? ''}`);
    expect(code === 'timeout' ? ['timeout', 'host-down'] : [code]).toContain(meta.lastErrorCode);
    expect(meta.status).toBe('good');
  });

  it('keeps the stored staple when the responder serves an older one', async () => {
    const before = await staples();
    responder.setFaults({ olderThisUpdate: true });
    const run = await warm();
    responder.setFaults({});
    expect(run.summary.kept).toBe(COUNT);
    expect(await staples()).toEqual(before);
  });

  it('clears lastError with the next good fetch', async () => {
    const { code } = await warm();
    expect(code).toBe(0);
    const meta = await redis.hgetall(`${prefix}meta:${manifest.leaves[0]?.fingerprint ?? ''}`);
    expect(meta.lastError).toBeUndefined();
  });
});
