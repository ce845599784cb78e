/**
 * The core pipeline end to end: 2,000 certificates from the simulator, `staplewarm warm` (the real
 * CLI, real BullMQ, real HTTP), then every key checked against the Redis contract v1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOcspResponse } from '@staplewarm/ocsp';
import { generatePki, startResponder, type PkiManifest, type Responder } from '@staplewarm/responder-sim';
import { SCAN_THREAD_NICE } from '@staplewarm/scan';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, testPrefix } from '@staplewarm/testing';

const COUNT = 2_000;

describe('warm 2,000 simulator certificates', () => {
  let dir: string;
  let manifest: PkiManifest;
  let responder: Responder;
  let redis: Redis;
  const prefix = testPrefix('warm2k');

  beforeAll(async () => {
    redis = await connectTestRedis();
    dir = mkdtempSync(join(tmpdir(), 'sw-sim-'));
    const port = await freePort();
    manifest = await generatePki({
      dir,
      count: COUNT,
      ocspUrls: [`http://127.0.0.1:${port}/`],
      revoked: (i) => i % 100 === 7,
      mustStapleEvery: 10,
    });
    responder = await startResponder({ pkiDir: dir, port });
  });

  afterAll(async () => {
    await responder?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a verified staple for every certificate, as the contract says', async () => {
    const run = await runCli(
      ['warm', '--certs', join(dir, 'live'), '--redis', REDIS_URL, '--prefix', prefix, '--rate', '0', '--json'],
      { STAPLEWARM_LOG_LEVEL: 'info' }, // for the "scan finished" line
      180_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      stored: { good: number; revoked: number };
      failed: Record<string, number>;
      complete: boolean;
    };
    const revoked = manifest.leaves.filter((l) => l.revokedAt).length;
    expect(revoked).toBe(20);
    expect(summary.stored).toEqual({ good: COUNT - revoked, revoked });
    expect(summary.failed).toEqual({});

    // The scan thread ran niced (Linux: per thread), and the log says at what nice; never raised.
    const logLines = run.stderr.split('\n').filter((line) => line.startsWith('{'));
    const scanned = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'scan finished');
    expect(scanned, run.stderr).toBeDefined();
    expect(scanned?.scanThreadNice).toBe(process.platform === 'linux' ? Math.max(SCAN_THREAD_NICE, getPriority()) : undefined);

    const now = Date.now();
    const pipeline = redis.pipeline();
    for (const leaf of manifest.leaves) {
      pipeline.getBuffer(`${prefix}staple:${leaf.fingerprint}`);
      pipeline.pttl(`${prefix}staple:${leaf.fingerprint}`);
      pipeline.hgetall(`${prefix}meta:${leaf.fingerprint}`);
      pipeline.get(`${prefix}host:${leaf.name}`);
      pipeline.get(`${prefix}host:www.${leaf.name}`);
    }
    const replies = ((await pipeline.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    });
    manifest.leaves.forEach((leaf, i) => {
      const [der, pttl, meta, host, wwwHost] = replies.slice(i * 5, i * 5 + 5) as [Buffer, number, Record<string, string>, string, string];
      const response = parseOcspResponse(der);
      const single = response.responses[0];
      const status = leaf.revokedAt ? 'revoked' : 'good';
      expect(single?.status).toBe(status);
      expect(meta.status).toBe(status);
      expect(meta.serial).toBe(leaf.serial);
      expect(meta.mustStaple).toBe(leaf.mustStaple ? '1' : '0');
      expect(meta.names?.split(',').sort()).toEqual([leaf.name, `www.${leaf.name}`].sort());
      expect(meta.nextUpdate).toBe(single?.nextUpdate?.toISOString());
      // The key lives exactly until nextUpdate (the certificate and the signer outlive it here).
      expect(Math.abs(now + pttl - (single?.nextUpdate?.getTime() ?? 0))).toBeLessThan(30_000);
      expect(host).toBe(leaf.fingerprint);
      expect(wwwHost).toBe(leaf.fingerprint);
    });
  });

  it('stores bytes that openssl verifies (a good and a revoked sample)', async () => {
    for (const leaf of [manifest.leaves[0], manifest.leaves.find((l) => l.revokedAt)]) {
      if (!leaf) throw new Error('sample missing');
      const resp = join(dir, `${leaf.name}.der`);
      writeFileSync(resp, (await redis.getBuffer(`${prefix}staple:${leaf.fingerprint}`)) ?? Buffer.alloc(0));
      const cert = join(dir, leaf.dir, 'cert.pem');
      const out = execFileSync(
        'openssl',
        [
          'ocsp',
          '-respin',
          resp,
          '-CAfile',
          join(dir, manifest.root.certPath),
          '-issuer',
          join(dir, manifest.issuer.certPath),
          '-cert',
          cert,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(out).toContain(`${cert}: ${leaf.revokedAt ? 'revoked' : 'good'}`);
    }
  });
});
