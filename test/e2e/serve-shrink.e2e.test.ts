/**
 * The shrink guard of `serve`, with the real binary: a rescan that suddenly finds far fewer
 * certificates (certbot's archive/ unreadable, an empty mount point) keeps every certificate
 * scheduled and refreshed, and says so in its log and on /metrics, until the operator confirms with
 * `staplewarm accept-shrink` or STAPLEWARM_SHRINK_CONFIRM_SCANS scans agree; then the removal
 * proceeds as for any removed certificate.
 */
import { copyFileSync, mkdirSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { hostQueueName } from '@staplewarm/queue';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, freePort, runCli, testPrefix } from '@staplewarm/testing';
import {
  FAST_REFRESH,
  ServeProcess,
  readStaples,
  serveArgs,
  startServeFixture,
  waitFor,
  waitForStapled,
  type ServeFixture,
} from './serve-harness.js';

const COUNT = 12;

describe('serve holds a suspected shrink', () => {
  let fx: ServeFixture;
  let serve: ServeProcess;
  let queue: Queue;
  let metricsPort: number;
  let certs: string;
  const prefix = testPrefix('serve-shrink');
  const fps = () => fx.manifest.leaves.map((l) => l.fingerprint);
  const live = () => join(certs, 'live');
  const archive = () => join(certs, 'archive');
  const acceptShrink = (...more: string[]) => runCli(['accept-shrink', '--redis', REDIS_URL, '--prefix', prefix, ...more]);
  /** How each certificate's last attempt reads: changes whenever it is refreshed. */
  const attempts = async () => (await readStaples(fx.redis, prefix, fps())).map((s) => `${s.meta.fetchedAt}|${s.meta.lastErrorAt}`);
  const jobs = () => Promise.all(fps().map((fp) => queue.getDeduplicationJobId(fp)));
  /**
   * The certificates seen with a refresh job scheduled within `ms`. FAST_REFRESH runs each one
   * every few seconds and a certificate has no job between one's end and the next one's scheduling,
   * so "scheduled" is "seen with a job at some point", polled.
   */
  const scheduledWithin = async (ms: number, enough = COUNT): Promise<number> => {
    const seen = new Set<string>();
    const deadline = Date.now() + ms;
    while (seen.size < enough && Date.now() < deadline) {
      (await jobs()).forEach((id, i) => id !== null && seen.add(fps()[i] ?? ''));
      await new Promise((r) => setTimeout(r, 100));
    }
    return seen.size;
  };
  const allScheduled = async () => expect(await scheduledWithin(15_000)).toBe(COUNT);
  const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const sample = (text: string, series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  /** SIGHUP, then the log line of the scan it ran. */
  const rescan = async () => {
    const before = serve.scans().length;
    serve.hup();
    return waitFor(async () => serve.scans()[before], 15_000, `scan #${before + 1}\n${serve.stderr}`);
  };
  /**
   * The line starting with `start`, with these fields, logged after the latest scan's own line (which
   * it follows by a moment: wait for it).
   */
  const logged = (start: string, fields: Record<string, unknown>) =>
    waitFor(
      async () =>
        serve.logs
          .slice(serve.logs.findLastIndex((l) => l.msg?.startsWith('scan: tracking')))
          .find((l) => l.msg?.startsWith(start) && Object.entries(fields).every(([k, v]) => l[k] === v)),
      5_000,
      `the log line "${start}" with ${JSON.stringify(fields)}\n${serve.stderr}`,
    );

  beforeAll(async () => {
    fx = await startServeFixture({ label: 'serve-shrink', count: COUNT, prefixes: [prefix], responder: { validityHours: 2 } });
    // certbot's layout: live/<name>/*.pem are links into archive/<name>/*1.pem.
    certs = join(fx.dir, 'letsencrypt');
    for (const leaf of fx.manifest.leaves) {
      mkdirSync(join(archive(), leaf.name), { recursive: true });
      mkdirSync(join(live(), leaf.name), { recursive: true });
      for (const file of ['cert', 'chain', 'fullchain']) {
        copyFileSync(join(fx.dir, leaf.dir, `${file}.pem`), join(archive(), leaf.name, `${file}1.pem`));
        symlinkSync(join('..', '..', 'archive', leaf.name, `${file}1.pem`), join(live(), leaf.name, `${file}.pem`));
      }
    }
    queue = new Queue(hostQueueName(new URL(fx.responder.url).host), { connection: fx.redis, prefix: `${prefix}bull` });
    metricsPort = await freePort();
    // Rescans only on SIGHUP; refreshes every few seconds (FAST_REFRESH), so "still refreshed" shows quickly.
    serve = new ServeProcess(
      serveArgs(live(), prefix, 0, '--scan-interval', '3600', '--metrics-port', String(metricsPort), ...FAST_REFRESH),
      // The default, spelled out: the second test counts on it.
      { STAPLEWARM_SHRINK_CONFIRM_SCANS: '3' },
    );
    expect((await serve.ready()).tracked).toBe(COUNT);
    await waitForStapled(fx.redis, prefix, fps(), 20_000, 'every staple');
  });

  afterAll(async () => {
    await ServeProcess.stopAll();
    await queue?.close();
    await fx?.close();
  });

  it('keeps refreshing when archive/ becomes unreadable, until the operator confirms with accept-shrink', async () => {
    renameSync(archive(), `${archive()}.gone`);
    const held = await rescan();
    expect(held).toMatchObject({ tracked: COUNT, removed: 0, held: COUNT });
    await logged('scan: suspected shrink', { level: 40, known: COUNT, found: 0, held: COUNT, scans: 1, confirmScans: 3 });
    let metrics = await scrape();
    expect(sample(metrics, 'staplewarm_scan_held_certificates{reason="suspected_shrink"}')).toBe(COUNT);
    expect(sample(metrics, 'staplewarm_scan_suspected_shrinks_total')).toBe(1);

    // Still scheduled, and still refreshed.
    await allScheduled();
    const before = await attempts();
    await new Promise((r) => setTimeout(r, 5_000));
    const after = await attempts();
    expect(after.every((v, i) => v !== before[i])).toBe(true);
    await allScheduled();

    // The operator looks, then confirms.
    const listed = await acceptShrink('--list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`found 0 of ${COUNT} known certificates, ${COUNT} held since .* \\(scan 1 of 3\\); stores ${live()}`),
    );
    await allScheduled(); // --list confirms nothing
    const confirmed = await acceptShrink();
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stdout).toContain('confirmed it');

    // serve sees the confirmation within seconds and rescans by itself.
    const accepted = await waitFor(
      async () => serve.scans().find((s) => s.removed === COUNT),
      10_000,
      `the accepting scan\n${serve.stderr}`,
    );
    expect(accepted).toMatchObject({ tracked: 0, held: 0 });
    await logged('scan: shrink accepted', { level: 40, reason: 'confirmed', removed: COUNT });
    await new Promise((r) => setTimeout(r, 1_000)); // a job already running when they were dropped may still settle
    expect(await scheduledWithin(3_000, 1)).toBe(0);
    const dropped = await attempts();
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await attempts()).toEqual(dropped);
    metrics = await scrape();
    expect(sample(metrics, 'staplewarm_scan_held_certificates{reason="suspected_shrink"}')).toBe(0);
    expect((await acceptShrink('--list')).stdout).toContain('no serve process holds a suspected shrink');
  });

  it('accepts an emptied store once three scans in a row agree', async () => {
    renameSync(`${archive()}.gone`, archive());
    expect(await rescan()).toMatchObject({ tracked: COUNT, added: COUNT });
    await allScheduled();

    // An empty mount point where the store was.
    renameSync(live(), `${live()}.unmounted`);
    mkdirSync(live());
    expect(await rescan()).toMatchObject({ tracked: COUNT, removed: 0, held: COUNT });
    await logged('scan: suspected shrink', { found: 0, scans: 1, known: COUNT });
    expect(await rescan()).toMatchObject({ tracked: COUNT, removed: 0, held: COUNT });
    await logged('scan: suspected shrink', { found: 0, scans: 2 });
    await allScheduled();
    expect(sample(await scrape(), 'staplewarm_scan_suspected_shrinks_total')).toBe(2); // one per episode, not per scan

    expect(await rescan()).toMatchObject({ tracked: 0, removed: COUNT, held: 0 });
    await logged('scan: shrink accepted', { reason: 'agreed', removed: COUNT });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await scheduledWithin(3_000, 1)).toBe(0);
    expect(sample(await scrape(), 'staplewarm_scan_held_certificates{reason="suspected_shrink"}')).toBe(0);
    expect(await serve.stop()).toBe(0);
  });
});
