// A cold cache under a burst of handshakes: every one misses the fast cache at once and asks
// Redis. redis.pool_size caps the connections a worker opens (busy and idle together) and
// redis.backlog queues the lookups beyond them; past the backlog a lookup fails at once, without
// the outage backoff. Redis is reached through a counting proxy that also slows every reply, so
// lookups overlap as they do when Redis is busy or far away (redis-proxy.ts).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_PORT, REDIS_URL, redisUp, requireAll, skipSuite } from './environment.js';
import { deleteKeys, fillRedis, LOCAL_RESPONDER_ENV, type FilledStaple } from './fixtures.js';
import { startNginx, type RunningNginx } from './nginx.js';
import { createTestPki, type TestPki } from './pki.js';
import { freePort, startOcspResponder } from './processes.js';
import { startRedisProxy } from './redis-proxy.js';
import { handshake } from './tls-client.js';
import { runCli } from '@staplewarm/testing';

const LATENCY_MS = 100;

describe.skipIf(skipSuite('resty.staple Redis pool tests'))('redis.pool_size and redis.backlog', () => {
  let dir: string;
  let pki: TestPki;
  let filled: FilledStaple[];
  const started: { stop(): Promise<void> }[] = [];
  const prefix = `swtest:pool:${randomBytes(4).toString('hex')}:`;
  const NAMES = ['a.pool.test', 'b.pool.test', 'c.pool.test', 'late.pool.test'];

  /** nginx (one worker, so the bound is exact) reading Redis through a fresh counting proxy. */
  const nginxBehindProxy = async (subdir: string, redis: { pool_size: number; backlog: number }) => {
    const proxy = await startRedisProxy(REDIS_PORT, LATENCY_MS);
    started.push(proxy);
    const nginx: RunningNginx = await startNginx({
      dir: path.join(dir, subdir),
      sites: pki.sites,
      defaultSite: pki.sites[0] ?? (undefined as never),
      staple: { redis: { host: '127.0.0.1', port: proxy.port, timeout_ms: 5000, ...redis }, prefix },
      workers: 1,
    });
    started.push(nginx);
    return { proxy, nginx };
  };
  /** `n` handshakes at once, cycling through the first three names; returns each one's staple (or null). */
  const burst = async (nginx: RunningNginx, n: number) => {
    const root = await readFile(pki.rootCert);
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const name = NAMES[i % 3] as string;
        const got = await handshake(nginx.ports.auto, name, root);
        const expected = filled.find((f) => f.fingerprint === got.fingerprint);
        return { name, staple: got.staple, expected: expected?.der };
      }),
    );
  };

  beforeAll(async () => {
    requireAll();
    dir = await mkdtemp(path.join(os.tmpdir(), 'staple-pool-'));
    const responderPort = await freePort();
    pki = await createTestPki(
      path.join(dir, 'pki'),
      NAMES.map((name) => ({ names: [name] })),
      `http://127.0.0.1:${responderPort}`,
    );
    started.push(await startOcspResponder(pki.ca, responderPort));
    filled = await fillRedis({ certsDir: pki.certsDir, redisUrl: REDIS_URL, prefix, cli: (args) => runCli(args, LOCAL_RESPONDER_ENV) });
  });

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    if (redisUp) await deleteKeys(REDIS_URL, prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('40 handshakes at once on a cold cache open at most pool_size (4) connections, and all are stapled', async () => {
    const { proxy, nginx } = await nginxBehindProxy('pool-4', { pool_size: 4, backlog: 64 });
    const results = await burst(nginx, 40);
    for (const r of results) expect(r.staple, r.name).toEqual(r.expected);
    expect(proxy.opened).toBeGreaterThanOrEqual(1);
    expect(proxy.opened).toBeLessThanOrEqual(4);
    expect(proxy.peak).toBeLessThanOrEqual(4);
  });

  it('past pool_size + backlog a lookup fails at once (no staple), Redis is not backed off, and nothing opens more', async () => {
    const { proxy, nginx } = await nginxBehindProxy('pool-1', { pool_size: 1, backlog: 2 });
    const results = await burst(nginx, 20);
    const stapled = results.filter((r) => r.staple !== null);
    // One connection busy and two lookups waiting: the rest of the burst goes without a staple.
    expect(stapled.length).toBeGreaterThanOrEqual(3);
    expect(stapled.length).toBeLessThan(20);
    for (const r of stapled) expect(r.staple).toEqual(r.expected);
    expect(proxy.opened).toBe(1);
    const log = await nginx.errorLog();
    expect(log).toContain('redis: connection pool full (1 connections busy, 2 lookups waiting)');
    // Busy is not down: the next handshake asks Redis again and is stapled.
    expect(log).not.toContain('unavailable');
    const late = await handshake(nginx.ports.auto, 'late.pool.test', await readFile(pki.rootCert));
    expect(late.staple).toEqual(filled.find((f) => f.fingerprint === late.fingerprint)?.der);
    expect(proxy.opened).toBe(1);
  });
});
