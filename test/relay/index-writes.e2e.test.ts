/**
 * The scanners write the relay's CertID index: `warm` and `serve` (the real CLI) index every
 * certificate they scan, under both CertID hashes, and leave the index-only issuer name out of the
 * jobs they queue (BullMQ memory per certificate), whether a job holds one certificate (serve) or a
 * batch (warm).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issuerHashes, parseCertificates } from '@staplewarm/ocsp';
import { generatePki, type PkiManifest } from '@staplewarm/responder-sim';
import { issuerIdOf } from '@staplewarm/store';
import { StapleQueue } from '@staplewarm/queue';
import type { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, STAPLEWARM_BIN, connectTestRedis, deletePrefix, testPrefix } from '@staplewarm/testing';
import { stopProcess } from '../openresty/processes.js';
import { LOCAL_RESPONDERS } from './harness.js';

const COUNT = 30;

describe('the scanners write the CertID index', () => {
  let redis: Redis;
  let dir: string;
  let manifest: PkiManifest;
  const prefixes: string[] = [];

  beforeAll(async () => {
    redis = await connectTestRedis();
    dir = mkdtempSync(join(tmpdir(), 'sw-relay-index-'));
    // Nothing answers at this URL: no job runs, the queued jobs stay for inspection.
    manifest = await generatePki({ dir, count: COUNT, ocspUrls: ['http://127.0.0.1:9/'] });
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(redis, prefix);
    redis?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every leaf's certid key holds its fingerprint; both issuer keys name the issuer. */
  async function expectIndexed(prefix: string): Promise<void> {
    const [issuer] = parseCertificates(readFileSync(join(dir, manifest.issuer.certPath)));
    if (!issuer) throw new Error('issuer did not parse');
    const hashes = issuerHashes(issuer.subjectNameDer, issuer.spkiDer);
    const id = issuerIdOf(hashes.sha256);
    for (const hash of ['sha1', 'sha256'] as const) {
      expect(await redis.hget(`${prefix}issuer:${hash}:${hashes[hash].issuerNameHash}:${hashes[hash].issuerKeyHash}`, 'id')).toBe(id);
    }
    const stored = await redis.mget(manifest.leaves.map((leaf) => `${prefix}certid:${id}:${leaf.serial}`));
    expect(stored).toEqual(manifest.leaves.map((leaf) => leaf.fingerprint));
  }

  /** The certificates of the jobs in `states` over every host queue (warm's batches hold several). */
  async function queuedCertificates(queue: StapleQueue, states: ('wait' | 'delayed')[]): Promise<object[]> {
    const jobs = (await Promise.all((await queue.hosts()).map((host) => queue.queueOf(host).getJobs(states, 0, COUNT)))).flat();
    return jobs.flatMap((job) => ('targets' in job.data ? job.data.targets : [job.data]));
  }

  /** The jobs in `states` (over every host queue) carry what a worker needs, not the issuer name. */
  async function expectLeanJobs(prefix: string, states: ('wait' | 'delayed')[]): Promise<void> {
    const queue = new StapleQueue({ connection: redis.duplicate(), prefix: `${prefix}bull` });
    try {
      const certificates = await queuedCertificates(queue, states);
      expect(certificates).toHaveLength(COUNT);
      for (const data of certificates) {
        expect(data).toHaveProperty('request');
        expect(data).toHaveProperty('issuerSpki');
        expect(data).not.toHaveProperty('issuerName');
      }
    } finally {
      await queue.close();
    }
  }

  /** Runs a scanner until its jobs are queued (no worker takes them), then stops it and checks. */
  async function runScanner(args: string[], prefix: string): Promise<void> {
    const child = spawn(
      process.execPath,
      [STAPLEWARM_BIN, ...args, '--certs', join(dir, 'live'), '--redis', REDIS_URL, '--prefix', prefix],
      {
        env: { ...process.env, ...LOCAL_RESPONDERS, STAPLEWARM_LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      },
    );
    const queue = new StapleQueue({ connection: redis.duplicate(), prefix: `${prefix}bull` });
    const queued = async (): Promise<number> => (await queuedCertificates(queue, ['wait', 'delayed'])).length;
    try {
      // A scanner indexes a batch, then queues it: wait for every job (due now, or delayed).
      const deadline = Date.now() + 60_000;
      while ((await queued()) < COUNT && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      await queue.close();
      await stopProcess(child);
    }
  }

  it('warm --no-work', async () => {
    const prefix = testPrefix('relay-index-warm');
    prefixes.push(prefix);
    await runScanner(['warm', '--no-work'], prefix);
    await expectIndexed(prefix);
    await expectLeanJobs(prefix, ['wait']);
  });

  it('serve --no-work', async () => {
    const prefix = testPrefix('relay-index-serve');
    prefixes.push(prefix);
    await runScanner(['serve', '--no-work', '--metrics-port', '0'], prefix);
    await expectIndexed(prefix);
    await expectLeanJobs(prefix, ['wait', 'delayed']);
  });
});
