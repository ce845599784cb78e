/**
 * Issue 11, part 2, end to end with the real CLI: a certificate's OCSP URL is a place the worker
 * connects to on its writer's behalf. Under the default responder address policy a certificate
 * naming a loopback listener gets no connection at all, and `warm` says why (address and setting);
 * `--responder-allow 127.0.0.0/8` opens it. A certificate listing 100 OCSP URLs gets at most 4
 * tried, each through its own host's limiter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki, startResponder, type PkiManifest, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, runCli, testPrefix } from '@staplewarm/testing';

/** The setting every refusal names (the CLI's flag and variable). */
const SETTING = '--responder-allow / STAPLEWARM_RESPONDER_ALLOW';
/** runCli allows loopback responders; these runs use the default policy instead. */
const DEFAULT_POLICY = { STAPLEWARM_RESPONDER_ALLOW: '' };

interface Listener {
  port: number;
  url: string;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

async function listen(server: Server | HttpServer): Promise<Listener> {
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A plain TCP listener that counts connections and relays each to the simulator (its port known later). */
function countingProxy(target: () => number): Promise<Listener> {
  return listen(
    createServer((client) => {
      const upstream = connect(target(), '127.0.0.1');
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream).pipe(client);
    }),
  );
}

/** An HTTP listener answering every request with `status` (a 429 with Retry-After: 3600). */
function answering(status: number): Promise<Listener> {
  return listen(createHttpServer((_req, res) => res.writeHead(status, status === 429 ? { 'retry-after': '3600' } : {}).end()));
}

/** A test PKI of one leaf whose AIA lists `ocspUrls`, and the simulator that answers for it. */
async function pkiFor(ocspUrls: string[]): Promise<{ dir: string; manifest: PkiManifest; simulator: Responder }> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-policy-'));
  const manifest = await generatePki({ dir, count: 1, ocspUrls, caIssuersUrl: false });
  const simulator = await startResponder({ pkiDir: dir, port: 0 });
  return { dir, manifest, simulator };
}

interface WarmJson {
  stored: { good: number; revoked: number };
  failed: Record<string, number>;
  failures: { code: string; reason: string; names: string[] }[];
  complete: boolean;
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('responder address policy (staplewarm warm)', () => {
  let redis: Redis;
  const cleanup: (() => Promise<void> | void)[] = [];
  const prefix = (label: string): string => {
    const made = testPrefix(label);
    cleanup.push(() => deletePrefix(redis, made));
    return made;
  };

  beforeAll(async () => {
    redis = await connectTestRedis();
  });

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
    redis.disconnect();
  });

  it('makes no connection to a loopback responder by default and names the address and the setting; --responder-allow opens it', async () => {
    let simulatorPort = 0;
    const proxy = await countingProxy(() => simulatorPort);
    cleanup.push(() => proxy.close());
    const { dir, manifest, simulator } = await pkiFor([proxy.url]);
    cleanup.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => simulator.close(),
    );
    simulatorPort = Number(new URL(simulator.url).port);
    const leaf = manifest.leaves[0]!;
    const live = join(dir, 'live');

    const under = prefix('policy');
    const args = ['warm', '--certs', live, '--redis', REDIS_URL, '--prefix', under];
    const refused = await runCli(args, DEFAULT_POLICY);
    expect(refused.code, refused.stderr).toBe(1);
    const why = `${proxy.url}: 127.0.0.1 (loopback) is refused by the responder address policy; to allow it: ${SETTING}`;
    expect(refused.stdout).toMatch(/^failed +1 +\(address-refused 1\)$/m);
    expect(refused.stdout).toContain(why);
    expect(occurrences(refused.stdout, '--responder-allow')).toBe(1);
    expect(proxy.connections()).toBe(0);

    const json = await runCli([...args, '--json'], DEFAULT_POLICY);
    const summary = JSON.parse(json.stdout) as WarmJson;
    expect(summary.failed).toEqual({ 'address-refused': 1 });
    expect(summary.failures).toEqual([expect.objectContaining({ code: 'address-refused', names: expect.arrayContaining([leaf.name]) })]);
    expect(summary.failures[0]!.reason).toContain(why);
    expect(summary.complete).toBe(false);
    // Recorded as the certificate's lastError, the staple untouched (there is none).
    const meta = await redis.hgetall(`${under}meta:${leaf.fingerprint}`);
    expect(meta.lastError).toContain(why);
    expect(await redis.exists(`${under}staple:${leaf.fingerprint}`)).toBe(0);
    expect(proxy.connections()).toBe(0);

    const allowed = await runCli([...args, '--json', '--responder-allow', '127.0.0.0/8'], DEFAULT_POLICY);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect((JSON.parse(allowed.stdout) as WarmJson).stored).toEqual({ good: 1, revoked: 0 });
    expect(proxy.connections()).toBeGreaterThan(0);
    expect((await redis.getBuffer(`${under}staple:${leaf.fingerprint}`))?.length).toBeGreaterThan(0);
  });

  it('tries at most 4 of 100 OCSP URLs, each host through its own limiter', async () => {
    let simulatorPort = 0;
    const proxy = await countingProxy(() => simulatorPort);
    // The first four fail; the fifth, the simulator, would answer if it were ever tried.
    const failing = [await answering(503), await answering(500), await answering(503), await answering(403)];
    const rest = await Promise.all(Array.from({ length: 95 }, () => answering(200)));
    const listeners = [...failing, proxy, ...rest];
    cleanup.push(() => Promise.all(listeners.map((l) => l.close())).then(() => undefined));
    const { dir, manifest, simulator } = await pkiFor(listeners.map((l) => l.url));
    cleanup.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => simulator.close(),
    );
    simulatorPort = Number(new URL(simulator.url).port);
    const leaf = manifest.leaves[0]!;

    const under = prefix('policy100');
    const args = ['warm', '--certs', join(dir, 'live'), '--redis', REDIS_URL, '--prefix', under, '--rate', '100', '--json'];
    const run = await runCli(args, { STAPLEWARM_ATTEMPTS: '1' });
    expect(run.code).toBe(1);
    // The job's error is the first retryable one: the first URL's 503.
    expect((JSON.parse(run.stdout) as WarmJson).failed).toEqual({ 'http-503': 1 });
    expect(await redis.exists(`${under}staple:${leaf.fingerprint}`)).toBe(0);
    expect(failing.map((l) => l.connections())).toEqual([1, 1, 1, 1]);
    expect(proxy.connections()).toBe(0);
    expect(rest.reduce((sum, l) => sum + l.connections(), 0)).toBe(0);
    expect(occurrences(run.stderr, 'certificate lists 100 distinct OCSP URLs: only the first 4 are tried')).toBe(1);

    // Each host tried drew from its own shared budget (a Bottleneck limiter per host in Redis).
    const budgets = await Promise.all(listeners.map((l) => redis.exists(`b_${under}bull:hosts-127.0.0.1:${l.port}_settings`)));
    expect(budgets.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(budgets.slice(4).every((n) => n === 0)).toBe(true);
  });
});
