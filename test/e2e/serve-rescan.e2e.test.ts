/**
 * `serve` follows the certificate stores: directories added while it runs are warmed within one
 * scan interval (or at once on SIGHUP), removed ones stop being refreshed; and a `warm` run next to
 * it after a partial loss fetches only the missing staples.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LeafEntry } from '@staplewarm/responder-sim';
import { refreshDueAt, refreshJobId, hostQueueName } from '@staplewarm/queue';
import { StapleStore } from '@staplewarm/store';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, freePort, runCli, testPrefix } from '@staplewarm/testing';
import {
  FAST_REFRESH,
  ServeProcess,
  countStapled,
  readStaples,
  serveArgs,
  startServeFixture,
  waitFor,
  waitForStapled,
  type ServeFixture,
} from './serve-harness.js';

// The shortest interval serve accepts (10 s to 1 day).
const SCAN_INTERVAL_S = 10;

describe('serve rescans its certificate stores', () => {
  let fx: ServeFixture;
  let certs: string;
  let queue: Queue;
  let serve: ServeProcess | undefined;
  const prefix = testPrefix('serve-rescan');
  const leaves = (from: number, to: number): LeafEntry[] => fx.manifest.leaves.filter((l) => l.index >= from && l.index <= to);
  const fpsOf = (list: LeafEntry[]) => list.map((l) => l.fingerprint);
  /** A certbot lineage as a deployment would have it: the certificate and its chain. */
  const addLineage = (leaf: LeafEntry) => {
    mkdirSync(join(certs, leaf.name));
    for (const file of ['cert.pem', 'chain.pem', 'fullchain.pem']) copyFileSync(join(fx.dir, leaf.dir, file), join(certs, leaf.name, file));
  };
  const removeLineage = (leaf: LeafEntry) => rmSync(join(certs, leaf.name), { recursive: true });
  const fetchedAt = async (list: LeafEntry[]) =>
    (await readStaples(fx.redis, prefix, fpsOf(list))).map((s) => `${s.meta.fetchedAt}|${s.meta.lastErrorAt}`);
  /** Starts serve (after stopping one a failed test may have left running). */
  const startServe = async (scanInterval: number, fastRefresh: boolean, extra: string[] = []) => {
    await ServeProcess.stopAll();
    return new ServeProcess(
      // Clock control (FAST_REFRESH): the simulator re-serves its cached response, which leaves the
      // staple due, so "no longer refreshed" shows quickly.
      serveArgs(certs, prefix, 0, ...extra, '--scan-interval', String(scanInterval), ...(fastRefresh ? FAST_REFRESH : [])),
    );
  };

  beforeAll(async () => {
    fx = await startServeFixture({ label: 'serve-rescan', count: 30, prefixes: [prefix], responder: { validityHours: 2 } });
    certs = join(fx.dir, 'certs');
    mkdirSync(certs);
    queue = new Queue(hostQueueName(new URL(fx.responder.url).host), { connection: fx.redis, prefix: `${prefix}bull` });
  });

  afterAll(async () => {
    await ServeProcess.stopAll();
    await queue?.close();
    await fx?.close();
  });

  it('warms added certificates within one scan interval and stops refreshing removed ones', async () => {
    leaves(1, 20).forEach(addLineage);
    serve = await startServe(SCAN_INTERVAL_S, true);
    expect((await serve.ready()).tracked).toBe(20);
    await waitForStapled(fx.redis, prefix, fpsOf(leaves(1, 20)), 15_000, 'the first 20 staples');

    const addedAt = Date.now();
    leaves(21, 25).forEach(addLineage);
    leaves(1, 5).forEach(removeLineage);
    await waitForStapled(fx.redis, prefix, fpsOf(leaves(21, 25)), SCAN_INTERVAL_S * 1000 + 5_000, 'the added certificates to be stapled');
    const warmedIn = Math.max(
      ...(await readStaples(fx.redis, prefix, fpsOf(leaves(21, 25)))).map((s) => Date.parse(s.meta.fetchedAt ?? '') - addedAt),
    );
    expect(warmedIn).toBeLessThan(SCAN_INTERVAL_S * 1000 + 3_000);
    await waitFor(
      async () => serve?.scans().some((s) => s.removed === 5 && s.tracked === 20),
      10_000,
      'a scan that drops the removed certificates',
    );

    // Removed: no job left, and their records stop moving while the kept ones keep being refreshed.
    await new Promise((r) => setTimeout(r, 500)); // a job already running when they were dropped may still settle
    for (const fp of fpsOf(leaves(1, 5))) expect(await queue.getDeduplicationJobId(fp)).toBeNull();
    const removedBefore = await fetchedAt(leaves(1, 5));
    const keptBefore = await fetchedAt(leaves(6, 25));
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await fetchedAt(leaves(1, 5))).toEqual(removedBefore);
    const keptAfter = await fetchedAt(leaves(6, 25));
    expect(keptAfter.every((v, i) => v !== keptBefore[i])).toBe(true);
    for (const fp of fpsOf(leaves(1, 5))) expect(await queue.getDeduplicationJobId(fp)).toBeNull();
    expect(await serve.stop()).toBe(0);
  });

  it('rescans at once on SIGHUP, and serves /metrics', async () => {
    const metricsPort = await freePort();
    serve = await startServe(3_600, false, ['--metrics-port', String(metricsPort)]); // the default rule: nothing due for an hour
    expect((await serve.ready()).tracked).toBe(20);
    leaves(26, 30).forEach(addLineage);
    serve.hup();
    await waitForStapled(fx.redis, prefix, fpsOf(leaves(26, 30)), 5_000, 'the certificates added before SIGHUP');
    expect(serve.scans().at(-1)).toMatchObject({ tracked: 25, added: 5 });
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/^staplewarm_fetches_total\{[^}]*outcome="ok"[^}]*\} [1-9]/m);
  });

  it('lets warm fetch only what is missing after a partial loss while serve runs', async () => {
    const lost = leaves(6, 9);
    await fx.redis.del(...lost.map((l) => `${prefix}staple:${l.fingerprint}`));
    const run = await runCli(['warm', '--certs', certs, '--redis', REDIS_URL, '--prefix', prefix, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { targets: number; fresh: number; fetched: number; stored: { good: number } };
    expect(summary).toMatchObject({ targets: 25, fresh: 21, fetched: 4, stored: { good: 4 } });
    expect(await countStapled(fx.redis, prefix, fpsOf(leaves(6, 30)))).toBe(leaves(6, 30).length);
    // serve saw those jobs settle and moved each certificate's next refresh to its new staple's point.
    const states = await new StapleStore(fx.redis, { prefix }).states(fpsOf(lost));
    for (const fp of fpsOf(lost)) {
      const due = refreshDueAt(states.get(fp) ?? { hasStaple: false }, fp) ?? 0;
      await waitFor(async () => (await queue.getDeduplicationJobId(fp)) === refreshJobId(fp, due), 5_000, `the next refresh of ${fp}`);
    }
    expect(await serve?.stop()).toBe(0);
    serve = undefined;
  });
});
