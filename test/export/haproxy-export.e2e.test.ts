/**
 * `staplewarm export haproxy` (--dir, --socket) and `serve --haproxy-socket` against Debian's real
 * HAProxy 2.6: `<crt>.ocsp` files make HAProxy staple the verified response from Redis from its very
 * first handshake; an empty one leaves it unstapled but gives it the OCSP slot that the runtime API
 * then fills without a reload; and serve pushes a replaced staple within seconds, and everything
 * again to a restarted HAProxy. Each test warms a fleet of its own and cleans up after itself.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli } from '@staplewarm/testing';
import { ServeProcess } from '../e2e/serve-harness.js';
import { sleep } from '../openresty/processes.js';
import { LOCAL_RESPONDERS, missingCommands, requireCommands, warmFleet, warnSkipped, type Fleet } from '../relay/harness.js';
import { verifyStaple } from '../relay/staple-check.js';
import {
  HAPROXY,
  exportHaproxy,
  haproxyCommand,
  haproxyPid,
  ocspFile,
  stapleOf,
  startHaproxy,
  writeCrtDir,
  writeHaproxyConfig,
  type ExportRunJson,
  type RunningHaproxy,
} from './haproxy-harness.js';

const missing = missingCommands([HAPROXY, 'openssl']);
const skip = warnSkipped('haproxy export e2e', missing);

/** How many OCSP slots HAProxy has (`show ssl ocsp-response`: one "Certificate ID key" line each). */
async function slots(socket: string): Promise<number> {
  return (await haproxyCommand(socket, 'show ssl ocsp-response')).split('\n').filter((l) => /^\s*Certificate ID key/.test(l)).length;
}

/**
 * Handshakes every `everyMs` until `accept` takes the staple (null when unstapled), or until
 * `deadline.until` (epoch ms; it may be moved while polling) passes: undefined then. `at` is the
 * performance.now() of the handshake that was accepted.
 */
async function pollStaple(
  haproxy: RunningHaproxy,
  leaf: { name: string; fingerprint: string },
  root: Buffer,
  accept: (staple: Buffer | null) => Promise<boolean>,
  deadline: { until: number },
  everyMs = 200,
): Promise<{ staple: Buffer | null; handshakes: number; at: number } | undefined> {
  for (let handshakes = 1; ; handshakes++) {
    const staple = await stapleOf(haproxy.port, leaf.name, leaf.fingerprint, root);
    const at = performance.now();
    if (await accept(staple)) return { staple, handshakes, at };
    if (Date.now() > deadline.until) return undefined;
    await sleep(everyMs);
  }
}

/** A deadline `ms` from now, for pollStaple. */
const within = (ms: number): { until: number } => ({ until: Date.now() + ms });

describe.skipIf(skip)('export haproxy: .ocsp files and the runtime API of HAProxy 2.6', () => {
  let redis: Redis;
  /** What the running test started: stopped and removed after it, pass or fail. */
  let fleets: Fleet[] = [];
  let haproxies: RunningHaproxy[] = [];
  let serves: ServeProcess[] = [];

  beforeAll(async () => {
    requireCommands(missing);
    redis = await connectTestRedis();
  });

  afterEach(async () => {
    await Promise.all(serves.map((s) => s.stop()));
    await Promise.all(haproxies.map((h) => h.stop()));
    for (const fleet of fleets) {
      await fleet.sim.close();
      await deletePrefix(redis, fleet.prefix);
      fleet.cleanup();
    }
    fleets = [];
    haproxies = [];
    serves = [];
  });

  afterAll(() => {
    redis?.disconnect();
  });

  /** Two leaves warmed into a prefix of their own; their simulator keeps running (revocations). */
  async function newFleet(label: string): Promise<{ fleet: Fleet; root: Buffer; crtDir: string; haproxyDir: string; port: number }> {
    const fleet = await warmFleet({ count: 2, label });
    fleets.push(fleet);
    return {
      fleet,
      root: await readFile(fleet.rootPem),
      crtDir: join(fleet.dir, 'certs'),
      haproxyDir: join(fleet.dir, 'haproxy'),
      port: await freePort(),
    };
  }

  async function haproxyOn(haproxyDir: string, port: number): Promise<RunningHaproxy> {
    const started = await startHaproxy(haproxyDir, port);
    haproxies.push(started);
    return started;
  }

  async function redisStaple(fleet: Fleet, i: number): Promise<Buffer> {
    const staple = await redis.getBuffer(`${fleet.prefix}staple:${fleet.leaf(i).fingerprint}`);
    if (!staple || staple.length === 0) throw new Error(`no staple in Redis for leaf ${i}`);
    return staple;
  }

  async function expectGood(fleet: Fleet, i: number, staple: Buffer | null): Promise<void> {
    expect(staple, `leaf ${i} stapled`).not.toBeNull();
    const verified = await verifyStaple(fleet, i, staple as Buffer);
    expect(verified).toContain('Response verify OK');
    expect(verified).toContain(`${fleet.leaf(i).certPem}: good`);
  }

  it('--dir: the first handshake after HAProxy starts is stapled', async () => {
    const { fleet, root, crtDir, haproxyDir, port } = await newFleet('hx-dir');
    await writeCrtDir(fleet, crtDir, { 0: 'none', 1: 'none' });
    const names = [0, 1].map((i) => fleet.leaf(i).name);

    const first = await exportHaproxy(fleet, ['--dir', crtDir]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(`haproxy-dir -> ${crtDir}: 2 exported, 0 not exported, 2 changed`);
    // The bundles and one .ocsp each: no temporary file left behind, nothing else touched.
    expect((await readdir(crtDir)).sort()).toEqual(names.flatMap((name) => [`${name}.pem`, `${name}.pem.ocsp`]).sort());
    for (const i of [0, 1]) {
      expect(await readFile(ocspFile(crtDir, fleet.leaf(i).name))).toEqual(await redisStaple(fleet, i));
    }

    // Nothing changed in Redis: the same run rewrites nothing.
    const before = await Promise.all(names.map((name) => stat(ocspFile(crtDir, name))));
    const second = await exportHaproxy(fleet, ['--dir', crtDir, '--json']);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const runs = JSON.parse(second.stdout) as ExportRunJson[];
    expect(runs).toEqual([
      {
        kind: 'haproxy-dir',
        target: crtDir,
        report: { exported: 2, revoked: 0, withdrawn: {}, changed: 0, failed: 0, errors: [] },
        problems: [],
      },
    ]);
    const after = await Promise.all(names.map((name) => stat(ocspFile(crtDir, name))));
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));

    await writeHaproxyConfig(haproxyDir, crtDir, port);
    const haproxy = await haproxyOn(haproxyDir, port);
    expect(await slots(haproxy.socket)).toBe(2);
    for (const i of [0, 1]) {
      const leaf = fleet.leaf(i);
      // One handshake, no retry: HAProxy read the .ocsp file at start and never fetches.
      const staple = await stapleOf(port, leaf.name, leaf.fingerprint, root);
      expect(staple, `no staple on the first handshake for ${leaf.name}\n${haproxy.output()}`).not.toBeNull();
      expect(staple).toEqual(await readFile(ocspFile(crtDir, leaf.name)));
      await expectGood(fleet, i, staple);
    }
    expect(haproxy.output()).not.toMatch(/ocsp/i);
  }, 120_000);

  it('--dir writes an empty .ocsp for a certificate without a staple, and HAProxy starts', async () => {
    const { fleet, root, crtDir, haproxyDir, port } = await newFleet('hx-empty');
    await writeCrtDir(fleet, crtDir, { 0: 'none', 1: 'none' });
    const [leaf0, leaf1] = [fleet.leaf(0), fleet.leaf(1)];
    expect(await redis.del(`${fleet.prefix}staple:${leaf1.fingerprint}`)).toBe(1);

    const result = await exportHaproxy(fleet, ['--dir', crtDir]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`haproxy-dir -> ${crtDir}: 1 exported, 1 not exported (no-staple 1), 2 changed`);
    expect((await stat(ocspFile(crtDir, leaf1.name))).size).toBe(0);
    expect(await readFile(ocspFile(crtDir, leaf0.name))).toEqual(await redisStaple(fleet, 0));

    await writeHaproxyConfig(haproxyDir, crtDir, port);
    const haproxy = await haproxyOn(haproxyDir, port);
    // The empty file still gave leaf 1 its OCSP slot: what `--socket` and `serve` push into later.
    expect(await slots(haproxy.socket), haproxy.output()).toBe(2);
    expect(await stapleOf(port, leaf1.name, leaf1.fingerprint, root), 'leaf 1 has no staple to give').toBeNull();
    await expectGood(fleet, 0, await stapleOf(port, leaf0.name, leaf0.fingerprint, root));
  }, 120_000);

  it('--socket: a HAProxy started with empty .ocsp files serves pushed staples without a reload', async () => {
    const { fleet, root, crtDir, haproxyDir, port } = await newFleet('hx-socket');
    await writeCrtDir(fleet, crtDir, { 0: 'empty', 1: 'none' });
    const [leaf0, leaf1] = [fleet.leaf(0), fleet.leaf(1)];
    await writeHaproxyConfig(haproxyDir, crtDir, port);
    const haproxy = await haproxyOn(haproxyDir, port);
    expect(await haproxyPid(haproxy.socket)).toBe(haproxy.pid);
    expect(await slots(haproxy.socket)).toBe(1);
    expect(await stapleOf(port, leaf0.name, leaf0.fingerprint, root), 'unstapled before the push').toBeNull();

    const result = await exportHaproxy(fleet, ['--socket', haproxy.socket, '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runs = JSON.parse(result.stdout) as ExportRunJson[];
    expect(runs).toEqual([
      {
        kind: 'haproxy-socket',
        target: haproxy.socket,
        report: { exported: 1, revoked: 0, withdrawn: { 'not-loaded': 1 }, changed: 1, failed: 0, errors: [] },
        problems: [],
      },
    ]);

    const staple = await stapleOf(port, leaf0.name, leaf0.fingerprint, root);
    expect(staple, `no staple after the push\n${haproxy.output()}`).toEqual(await redisStaple(fleet, 0));
    await expectGood(fleet, 0, staple);
    // Leaf 1 had no slot: nothing could be pushed for it.
    expect(await stapleOf(port, leaf1.name, leaf1.fingerprint, root)).toBeNull();
    // The same process, never reloaded; and the socket export wrote no file.
    expect(haproxy.child.exitCode).toBeNull();
    expect(await haproxyPid(haproxy.socket)).toBe(haproxy.pid);
    expect((await stat(ocspFile(crtDir, leaf0.name))).size).toBe(0);
    expect(existsSync(ocspFile(crtDir, leaf1.name))).toBe(false);
  }, 120_000);

  it('serve pushes a replaced staple within seconds', async () => {
    const { fleet, root, crtDir, haproxyDir, port } = await newFleet('hx-serve');
    await writeCrtDir(fleet, crtDir, { 0: 'empty', 1: 'empty' });
    const [leaf0, leaf1] = [fleet.leaf(0), fleet.leaf(1)];
    const live = join(fleet.pkiDir, 'live');
    await writeHaproxyConfig(haproxyDir, crtDir, port);
    let haproxy = await haproxyOn(haproxyDir, port);
    expect(await stapleOf(port, leaf0.name, leaf0.fingerprint, root), 'unstapled before serve').toBeNull();

    const serve = new ServeProcess(['--certs', live, '--prefix', fleet.prefix, '--rate', '0', '--haproxy-socket', haproxy.socket], {
      ...LOCAL_RESPONDERS,
      STAPLEWARM_LOG_LEVEL: 'info',
    });
    serves.push(serve);
    const logs = (): string => `\nserve: ${serve.stderr}\nhaproxy: ${haproxy.output()}`;

    // serve's first full sync pushes what Redis holds.
    const good = await pollStaple(haproxy, leaf0, root, async (staple) => staple !== null, within(30_000));
    expect(good, `serve never pushed leaf 0's staple${logs()}`).toBeDefined();
    const goodStaple = good?.staple as Buffer;
    expect(goodStaple).toEqual(await redisStaple(fleet, 0));
    await expectGood(fleet, 0, goodStaple);
    await expectGood(fleet, 1, await stapleOf(port, leaf1.name, leaf1.fingerprint, root));

    // A revoked response replaces the good one in Redis, and is announced on <prefix>changed. HAProxy
    // is watched from before the warm starts, to time the push from the announcement too.
    const announced = redis.duplicate();
    let announcedAt: number | undefined;
    announced.on('message', (_channel: string, fingerprint: string) => {
      if (fingerprint === leaf0.fingerprint) announcedAt ??= performance.now();
    });
    await announced.subscribe(`${fleet.prefix}changed`);
    const isRevoked = async (staple: Buffer | null): Promise<boolean> =>
      staple !== null && !staple.equals(goodStaple) && (await verifyStaple(fleet, 0, staple)).includes(`${leaf0.certPem}: revoked`);
    const watch = { until: Infinity };
    // Settled at once, so a failed handshake is reported here rather than as an unhandled rejection.
    const watching = pollStaple(haproxy, leaf0, root, isRevoked, watch).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    let warmed = 0;
    try {
      fleet.sim.setRevoked([leaf0.serial]);
      const warm = await runCli(
        ['warm', '--certs', live, '--force', '--redis', REDIS_URL, '--prefix', fleet.prefix, '--rate', '0', '--json'],
        LOCAL_RESPONDERS,
        60_000,
      );
      warmed = performance.now();
      watch.until = Date.now() + 20_000;
      expect(warm.code, warm.stdout + warm.stderr).toBe(0);
      expect(await redis.hget(`${fleet.prefix}meta:${leaf0.fingerprint}`, 'status')).toBe('revoked');
    } finally {
      watch.until = Math.min(watch.until, Date.now() + 20_000);
      announced.disconnect();
    }
    const outcome = await watching;
    if ('error' in outcome) throw outcome.error;
    const revoked = outcome.value;
    expect(revoked, `HAProxy never stapled the revoked response${logs()}`).toBeDefined();
    expect(announcedAt, 'the revoked staple was announced on <prefix>changed').toBeDefined();
    const stapledAt = revoked?.at ?? 0;
    console.log(
      `haproxy export e2e: the revoked response was stapled ${((stapledAt - (announcedAt ?? 0)) / 1000).toFixed(2)} s after its announcement on <prefix>changed, ` +
        `${((stapledAt - warmed) / 1000).toFixed(2)} s after the end of warm --force (negative: before warm exited); ${revoked?.handshakes} handshakes, one every 200 ms`,
    );
    const revokedStaple = revoked?.staple as Buffer;
    expect(revokedStaple).toEqual(await redisStaple(fleet, 0));
    expect(await verifyStaple(fleet, 0, revokedStaple)).toContain('Response verify OK');
    await expectGood(fleet, 1, await stapleOf(port, leaf1.name, leaf1.fingerprint, root));
    // Pushed, not reloaded: the same HAProxy process.
    expect(await haproxyPid(haproxy.socket)).toBe(haproxy.pid);

    // A new HAProxy process starts with the empty .ocsp files again: serve notices it (show info,
    // every 10 s) and pushes everything, with no warm and no change in Redis.
    const oldPid = haproxy.pid;
    await haproxy.stop();
    for (const leaf of [leaf0, leaf1]) expect((await stat(ocspFile(crtDir, leaf.name))).size).toBe(0);
    haproxy = await haproxyOn(haproxyDir, port);
    const restarted = performance.now();
    expect(haproxy.pid).not.toBe(oldPid);
    const again = await pollStaple(haproxy, leaf0, root, async (staple) => staple !== null, within(20_000));
    const restartSeconds = ((again?.at ?? performance.now()) - restarted) / 1000;
    expect(again, `the restarted HAProxy was never fed${logs()}`).toBeDefined();
    console.log(
      `haproxy export e2e: ${restartSeconds.toFixed(2)} s from the HAProxy restart to its first stapled handshake (${again?.handshakes} handshakes)`,
    );
    expect(again?.staple).toEqual(revokedStaple);
    expect(await verifyStaple(fleet, 0, again?.staple as Buffer)).toContain(`${leaf0.certPem}: revoked`);
    await expectGood(fleet, 1, await stapleOf(port, leaf1.name, leaf1.fingerprint, root));
    expect(
      serve.logs.some((l) => l.msg?.startsWith('export haproxy-socket (poll):')),
      serve.stderr,
    ).toBe(true);

    expect(await serve.stop()).toBe(0);
  }, 120_000);
});
