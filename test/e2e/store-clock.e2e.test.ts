/**
 * Workers whose clock is off against Redis' (issue 11): the store decides expiry by Redis' `TIME`,
 * so a skewed worker can neither age out the fleet's staples nor store a response that Redis already
 * considers expired (which, through `SET ... PXAT <past>`, would delete the live staple it replaces).
 *
 * Real Redis, real BullMQ (StaplePool in-process, `deps.now` skewed), real simulator. Two PKIs:
 * `long` answers with 7-day responses, `short` with 30-minute ones. The simulator's
 * `olderThisUpdate` fault serves a response an hour older than its current one: for `short` that
 * response expired 31 minutes ago by Redis' clock, yet a worker 1 h behind finds it fresh.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcspClient } from '@staplewarm/fetch';
import { OcspVerifier } from '@staplewarm/ocsp';
import { JobTracker, StaplePool, StapleQueue, planJobs, silentLogger, type JobSettlement } from '@staplewarm/queue';
import { generatePki, startResponder, type PkiManifest, type Responder } from '@staplewarm/responder-sim';
import { scanCertificateStores, type ScannedTarget } from '@staplewarm/scan';
import { StapleStore } from '@staplewarm/store';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, testPrefix } from '@staplewarm/testing';

const HOUR = 3_600_000;
const COUNT = 8;

interface Pki {
  dir: string;
  manifest: PkiManifest;
  responder: Responder;
  targets: ScannedTarget[];
}

/** What must not move: the staple's bytes (their SHA-256), its expiry, and the meta fields describing it. */
interface Stored {
  der: string | null;
  expireAt: number;
  meta: Record<string, string>;
}

describe('workers whose clock is off against Redis', () => {
  const prefix = testPrefix('clock');
  const bull = `${prefix}bull`;
  let redis: Redis;
  let connection: Redis;
  let store: StapleStore;
  let long: Pki;
  let short: Pki;
  /** A `short` certificate kept out of the first round: it has never had a staple. */
  let fresh: ScannedTarget;
  let stapled: ScannedTarget[];
  let before: Map<string, Stored>;

  async function pki(label: string, validityHours: number): Promise<Pki> {
    const dir = mkdtempSync(join(tmpdir(), `sw-clock-${label}-`));
    const port = await freePort();
    const manifest = await generatePki({ dir, count: COUNT, ocspUrls: [`http://127.0.0.1:${port}/`], domain: `${label}.test` });
    const responder = await startResponder({ pkiDir: dir, port, validityHours });
    const report = await scanCertificateStores([join(dir, 'live')], { now: Date.now() });
    return { dir, manifest, responder, targets: report.targets };
  }

  /** One worker with its clock `offsetMs` off Redis' works these certificates once (one attempt each). */
  async function round(offsetMs: number, targets: readonly ScannedTarget[]): Promise<Map<string, JobSettlement>> {
    const queue = new StapleQueue({ connection, prefix: bull, attempts: 1 });
    const tracker = new JobTracker({ connection, prefix: bull, queue });
    // The simulators listen on 127.0.0.1, which the responder address policy refuses by default.
    const client = new OcspClient({ connectTimeoutMs: 2_000, responderAllow: ['127.0.0.0/8'] });
    const worker = new StaplePool({
      connection,
      prefix: bull,
      rate: 0,
      concurrency: 16,
      deps: { client, verifier: new OcspVerifier(), store, now: () => Date.now() + offsetMs, log: silentLogger },
    });
    try {
      const routes = await queue.route(targets);
      await Promise.all([tracker.track(planJobs(targets, routes, 1)), worker.start()]);
      await queue.enqueue(targets, { routes });
      return new Map(await tracker.wait({ idleCheckMs: 1_000 }));
    } finally {
      await worker.close();
      await Promise.all([tracker.close(), queue.close(), client.close()]);
    }
  }

  async function snapshot(targets: readonly ScannedTarget[]): Promise<Map<string, Stored>> {
    const out = new Map<string, Stored>();
    for (const t of targets) {
      const der = await redis.getBuffer(store.keys.staple(t.fingerprint));
      const meta = await redis.hgetall(store.keys.meta(t.fingerprint));
      out.set(t.fingerprint, {
        der: der ? createHash('sha256').update(der).digest('hex') : null,
        expireAt: await redis.pexpiretime(store.keys.staple(t.fingerprint)),
        // `fetchedAt` is the writer's clock (information only): a rewrite with the same bytes moves it.
        meta: Object.fromEntries(
          ['status', 'thisUpdate', 'nextUpdate', 'producedAt', 'expiresAt', 'serial'].map((f) => [f, meta[f] ?? '']),
        ),
      });
    }
    return out;
  }

  /** How each certificate's job ended: `kept:older`, `stored:good`, `failed:expired-in-redis`... */
  const outcomes = (settled: Map<string, JobSettlement>, targets: readonly ScannedTarget[]) =>
    targets.map((t) => {
      const s = settled.get(t.fingerprint);
      if (s?.state === 'completed')
        return s.result.outcome === 'kept'
          ? `kept:${s.result.reason}`
          : `${s.result.outcome}:${'status' in s.result ? s.result.status : ''}`;
      return s?.state === 'failed' ? `failed:${s.code}` : String(s?.state);
    });

  beforeAll(async () => {
    redis = await connectTestRedis();
    connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null }); // BullMQ's requirement
    store = new StapleStore(redis, { prefix });
    [long, short] = await Promise.all([pki('long', 168), pki('short', 0.5)]);
    fresh = short.targets[0]!;
    stapled = [...long.targets, ...short.targets.slice(1)];

    // Every certificate but `fresh` gets its staple from a worker whose clock agrees with Redis.
    const settled = await round(0, stapled);
    expect(outcomes(settled, stapled)).toEqual(stapled.map(() => 'stored:good'));
    before = await snapshot(stapled);
    expect([...before.values()].every((s) => s.der !== null && s.expireAt > Date.now())).toBe(true);
  });

  afterAll(async () => {
    await Promise.all([long?.responder.close(), short?.responder.close()]);
    await deletePrefix(redis, prefix);
    connection?.disconnect();
    redis?.disconnect();
    for (const p of [long, short]) if (p) rmSync(p.dir, { recursive: true, force: true });
  });

  it('a worker 1 h ahead leaves every staple as it was, even those it believes expired', async () => {
    const settled = await round(HOUR, stapled);

    // 7-day responses verify by its clock too: rewritten, same bytes and expiry. 30-minute ones look
    // expired to it (verification fails), yet Redis keeps serving them for another half hour.
    expect(outcomes(settled, long.targets)).toEqual(long.targets.map(() => 'stored:good'));
    expect(outcomes(settled, short.targets.slice(1))).toEqual(short.targets.slice(1).map(() => 'failed:expired'));
    expect(await snapshot(stapled)).toEqual(before);
  });

  it('a worker 1 h behind never writes a response Redis considers expired: every good staple stays', async () => {
    // The CA revokes two certificates. A revoked response replaces a good one whatever its
    // thisUpdate, so if the expired revoked response were written, the good staple would be deleted.
    const revoked = short.targets.slice(1, 3);
    short.responder.setRevoked(revoked.map((t) => t.certId.serialNumber));
    for (const p of [long, short]) p.responder.setFaults({ olderThisUpdate: true });
    const settled = await round(-HOUR, [...stapled, fresh]);
    for (const p of [long, short]) p.responder.setFaults({});

    // `long`: an older response, alive by both clocks, refused by last-known-good. `short` (revoked
    // ones included): fresh by the worker's clock, expired by Redis' clock, refused as expired: the
    // attempt fails (the certificate got no new staple) and says why.
    expect(outcomes(settled, long.targets)).toEqual(long.targets.map(() => 'kept:older'));
    expect(outcomes(settled, short.targets)).toEqual(short.targets.map(() => 'failed:expired-in-redis'));
    expect(await snapshot(stapled)).toEqual(before);
    for (const t of revoked) expect(await redis.hget(store.keys.meta(t.fingerprint), 'status')).toBe('good');

    // The certificate that never had a staple: no staple and no host alias, only the reason in its meta.
    expect(await redis.exists(store.keys.staple(fresh.fingerprint))).toBe(0);
    expect(await redis.hget(store.keys.meta(fresh.fingerprint), 'lastErrorCode')).toBe('expired-in-redis');
    for (const name of fresh.names) expect(await redis.exists(store.keys.host(name))).toBe(0);
  });
});
