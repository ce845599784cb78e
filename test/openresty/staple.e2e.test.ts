// resty.staple end to end: real nginx (Debian's, with the Lua module), real Redis, real TLS clients.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, fillRedis, LOCAL_RESPONDER_ENV, type FilledStaple } from './fixtures.js';
import { REDIS_PORT, REDIS_URL, redisUp, requireAll, skipSuite } from './environment.js';
import { startNginx, type NginxOptions, type RunningNginx } from './nginx.js';
import { createTestPki, type TestPki, type TestSite } from './pki.js';
import { freePort, run, sleep, startOcspResponder, startPrivateRedis, type OcspResponder, type PrivateRedis } from './processes.js';
import { startRedisProxy } from './redis-proxy.js';
import { handshake, sClient } from './tls-client.js';
import { REPO_ROOT, runCli } from '@staplewarm/testing';

const cli = (args: string[]) => runCli(args, LOCAL_RESPONDER_ENV);

const SPECS = [
  { names: ['alpha.staple.test'] },
  { names: ['beta.staple.test', 'www.beta.staple.test'] },
  { names: ['*.wild.staple.test'] },
  { names: ['revoked.staple.test'], revoked: true },
  { names: ['expiring.staple.test'] },
  { names: ['unstapled.staple.test'] },
  { names: ['stale.staple.test'] },
];

/** `der` with its nextUpdate moved to 2020 (signature no longer valid: only the module's date check matters). */
function withPastNextUpdate(der: Buffer): Buffer {
  // nextUpdate [0] EXPLICIT GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 6960 SingleResponse).
  const marker = Buffer.from([0xa0, 0x11, 0x18, 0x0f]);
  const at = der.indexOf(marker);
  if (at < 0) throw new Error('no nextUpdate in the response');
  const out = Buffer.from(der);
  out.write('20200101000000Z', at + marker.length, 'latin1');
  return out;
}

describe.skipIf(skipSuite('resty.staple e2e tests'))('resty.staple in nginx', () => {
  let dir: string;
  let pki: TestPki;
  let responder: OcspResponder;
  let redis: Redis;
  let nginx: RunningNginx;
  let filled: FilledStaple[];
  const prefix = `swtest:${randomBytes(6).toString('hex')}:`;
  const started: { stop(): Promise<void> }[] = [];

  const site = (name: string): TestSite => {
    const found = pki.sites.find((s) => s.names[0] === name);
    if (!found) throw new Error(`no site ${name}`);
    return found;
  };
  const stapleOf = (s: TestSite): FilledStaple => {
    const found = filled.find((f) => f.fingerprint === s.fingerprint);
    if (!found) throw new Error(`nothing filled for ${s.names.join(',')}`);
    return found;
  };
  /** As `openssl x509 -fingerprint -sha256` prints it, which staple{ fingerprint } accepts. */
  const opensslStyle = (hex: string): string => hex.toUpperCase().replace(/(..)(?!$)/g, '$1:');
  const nginxOptions = (subdir: string, staple: NginxOptions['staple'], workers = 2): NginxOptions => ({
    dir: path.join(dir, subdir),
    sites: pki.sites.map((s) => ({ ...s, fingerprint: opensslStyle(s.fingerprint) })),
    defaultSite: site('alpha.staple.test'),
    staple,
    workers,
  });

  beforeAll(async () => {
    requireAll();
    dir = await mkdtemp(path.join(os.tmpdir(), 'staple-e2e-'));
    const responderPort = await freePort();
    pki = await createTestPki(path.join(dir, 'pki'), SPECS, `http://127.0.0.1:${responderPort}`);
    responder = await startOcspResponder(pki.ca, responderPort);
    started.push(responder);
    filled = await fillRedis({ certsDir: pki.certsDir, redisUrl: REDIS_URL, prefix, cli });
    redis = new Redis(REDIS_URL);
    // A certificate staplewarm knows (host keys) but holds no staple for.
    await redis.del(`${prefix}staple:${site('unstapled.staple.test').fingerprint}`);
    nginx = await startNginx(
      nginxOptions('main', { redis: { host: '127.0.0.1', port: REDIS_PORT, timeout_ms: 500 }, prefix, miss_ttl: 60 }),
    );
    started.push(nginx);
  });

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    if (redisUp) await deleteKeys(REDIS_URL, prefix);
    redis?.disconnect();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('staples the Redis value, byte for byte, and openssl reads it as good', async () => {
    const alpha = site('alpha.staple.test');
    const seen = await sClient(nginx.ports.auto, 'alpha.staple.test', pki.rootCert);
    expect(seen.verified, seen.output).toBe(true);
    expect(seen.certStatus, seen.output).toBe('good');
    const got = await handshake(nginx.ports.auto, 'alpha.staple.test', await readFile(pki.rootCert));
    expect(got.fingerprint).toBe(alpha.fingerprint);
    expect(got.staple).toEqual(await redis.getBuffer(`${prefix}staple:${alpha.fingerprint}`));
    // And a real verifier accepts the stapled bytes for this certificate.
    const stapleFile = path.join(dir, 'alpha-staple.der');
    await writeFile(stapleFile, got.staple ?? Buffer.alloc(0));
    const verified = await run('openssl', [
      'ocsp',
      '-respin',
      stapleFile,
      '-CAfile',
      pki.rootCert,
      '-issuer',
      path.join(alpha.dir, 'chain.pem'),
      '-cert',
      path.join(alpha.dir, 'cert.pem'),
    ]);
    expect(verified.stderr).toContain('Response verify OK');
    expect(verified.stdout).toContain('cert.pem: good');
  });

  it('staples a revoked certificate as revoked', async () => {
    const seen = await sClient(nginx.ports.auto, 'revoked.staple.test', pki.rootCert);
    expect(seen.certStatus, seen.output).toBe('revoked');
    expect(stapleOf(site('revoked.staple.test')).status).toBe('revoked');
  });

  it.each(['auto', 'byName', 'byChain', 'byFingerprint'] as const)(
    "gives each SNI name its own certificate's staple (%s)",
    async (listener) => {
      const root = await readFile(pki.rootCert);
      const cases = [
        ['alpha.staple.test', 'alpha.staple.test'],
        ['www.beta.staple.test', 'beta.staple.test'],
        ['beta.staple.test', 'beta.staple.test'],
        ['x.wild.staple.test', '*.wild.staple.test'],
        ['revoked.staple.test', 'revoked.staple.test'],
      ] as const;
      for (const [sni, siteName] of cases) {
        const expected = site(siteName);
        const got = await handshake(nginx.ports[listener], sni, root);
        expect(got.fingerprint, sni).toBe(expected.fingerprint);
        expect(got.staple, sni).toEqual(stapleOf(expected).der);
      }
    },
  );

  it('answers from the fast cache: no Redis GET for a name within the cache TTL', async () => {
    // Its own nginx behind a proxy that keeps what nginx sends: MONITOR would also see every other
    // test on this Redis (and ioredis' monitor mode trips over their traffic).
    const proxy = await startRedisProxy(REDIS_PORT);
    started.push(proxy);
    const cached = await startNginx(
      nginxOptions('fast-cache', { redis: { host: '127.0.0.1', port: proxy.port, timeout_ms: 500 }, prefix, miss_ttl: 60 }),
    );
    started.push(cached);
    const root = await readFile(pki.rootCert);
    const names = ['beta.staple.test', 'www.beta.staple.test', 'x.wild.staple.test', 'unstapled.staple.test'];
    for (const name of names) for (const port of Object.values(cached.ports)) await handshake(port, name, root);
    // The proxy sees the lookups: an empty record below means no lookup, not a deaf proxy.
    expect(proxy.sent()).toContain(`${prefix}staple:`);
    expect(proxy.sent()).toContain(`${prefix}host:`);

    proxy.clearSent();
    for (let round = 0; round < 2; round++) {
      for (const name of names)
        for (const port of Object.values(cached.ports)) {
          const got = await handshake(port, name, root);
          expect(got.staple === null, name).toBe(name === 'unstapled.staple.test');
        }
    }
    expect(proxy.sent()).toBe('');
  });

  it('stops stapling a staple whose key expired', async () => {
    const expiring = site('expiring.staple.test');
    const root = await readFile(pki.rootCert);
    await redis.pexpire(`${prefix}staple:${expiring.fingerprint}`, 2_000);
    expect((await handshake(nginx.ports.auto, 'expiring.staple.test', root)).staple).toEqual(stapleOf(expiring).der);
    await sleep(2_300);
    for (const port of Object.values(nginx.ports)) {
      expect((await handshake(port, 'expiring.staple.test', root)).staple).toBeNull();
    }
  });

  it("never staples a response past its nextUpdate, whatever the key's TTL says", async () => {
    const stale = site('stale.staple.test');
    await redis.set(`${prefix}staple:${stale.fingerprint}`, withPastNextUpdate(stapleOf(stale).der), 'PX', 60_000);
    const root = await readFile(pki.rootCert);
    for (const port of Object.values(nginx.ports)) {
      const got = await handshake(port, 'stale.staple.test', root);
      expect(got.fingerprint).toBe(stale.fingerprint);
      expect(got.staple).toBeNull();
    }
    expect(await nginx.errorLog()).toContain(`not stapling ${prefix}staple:${stale.fingerprint}: past its nextUpdate`);
  });

  it("says its version at start, and it is the release's (apps/staplewarm/package.json)", async () => {
    // The module ships in the staplewarm release; _VERSION in staple.lua must follow that version.
    const release = JSON.parse(await readFile(path.join(REPO_ROOT, 'apps/staplewarm/package.json'), 'utf8')) as { version: string };
    const logged = /\[staple\] configured resty\.staple (\S+):/.exec(await nginx.errorLog());
    expect(logged?.[1]).toBe(release.version);
  });

  it('refuses to start on a misspelt option (nginx fails at init, not during handshakes)', async () => {
    await expect(startNginx(nginxOptions('bad-config', { redis: { host: '127.0.0.1' }, lru_sise: 10 }, 1))).rejects.toThrow(
      /unknown option config\.lru_sise/,
    );
  });

  it('bounds a Redis that accepts but never answers by the timeout, and the handshake goes on', async () => {
    const sockets: Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket)); // never replies
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as net.AddressInfo).port;
    const hung = await startNginx(nginxOptions('hung-redis', { redis: { host: '127.0.0.1', port, timeout_ms: 100 } }, 1));
    try {
      const got = await handshake(hung.ports.auto, 'alpha.staple.test', await readFile(pki.rootCert));
      expect(got.fingerprint).toBe(site('alpha.staple.test').fingerprint);
      expect(got.staple).toBeNull();
      expect(await hung.errorLog()).toMatch(/\[staple\] redis 127\.0\.0\.1:\d+ unavailable \(timeout/);
    } finally {
      await hung.stop();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  describe('with Redis stopped', () => {
    let privateRedis: PrivateRedis;
    let resilient: RunningNginx;
    let privateFilled: FilledStaple[];
    const privatePrefix = 'ocsp:';

    beforeAll(async () => {
      privateRedis = await startPrivateRedis();
      started.push(privateRedis);
      privateFilled = await fillRedis({ certsDir: pki.certsDir, redisUrl: privateRedis.url, prefix: privatePrefix, cli });
      // One worker, so "cached" is certain; max_ttl 1 s, so staleness comes quickly.
      resilient = await startNginx(
        nginxOptions(
          'resilient',
          {
            redis: { host: '127.0.0.1', port: privateRedis.port, timeout_ms: 50 },
            max_ttl: 1,
            error_backoff: 1,
          },
          1,
        ),
      );
      started.push(resilient);
    });

    it('keeps handshaking: cached staples are served, uncached names go without', async () => {
      const root = await readFile(pki.rootCert);
      const alpha = privateFilled.find((f) => f.fingerprint === site('alpha.staple.test').fingerprint);
      if (!alpha) throw new Error('alpha was not filled');
      expect((await handshake(resilient.ports.auto, 'alpha.staple.test', root)).staple).toEqual(alpha.der);
      await privateRedis.stop();

      expect((await handshake(resilient.ports.auto, 'alpha.staple.test', root)).staple).toEqual(alpha.der);
      await sleep(1_200); // past max_ttl: the cached staple is stale, Redis cannot be asked
      expect((await handshake(resilient.ports.auto, 'alpha.staple.test', root)).staple).toEqual(alpha.der);
      for (const port of Object.values(resilient.ports)) {
        const beta = await handshake(port, 'beta.staple.test', root);
        expect(beta.fingerprint).toBe(site('beta.staple.test').fingerprint);
        expect(beta.staple).toBeNull();
      }
      const log = await resilient.errorLog();
      expect(log).toMatch(/\[staple\] redis 127\.0\.0\.1:\d+ unavailable/);
      expect(log).toContain('[test] auto alpha.staple.test true stale');
    });
  });

  describe('with fetch_on_miss', () => {
    let fetching: RunningNginx;
    let fetchingInline: RunningNginx;

    beforeAll(async () => {
      // An empty prefix: Redis has nothing, so every staple must come from the responder.
      const staple = (inline: boolean) => ({
        redis: { host: '127.0.0.1', port: REDIS_PORT },
        prefix: `${prefix}empty:`,
        // The responder is the local openssl one: loopback, refused unless allowed.
        fetch_on_miss: { rate: 5, inline, responder_allow: ['127.0.0.0/8'] },
      });
      fetching = await startNginx(nginxOptions('fetching', staple(false), 1));
      started.push(fetching);
      fetchingInline = await startNginx(nginxOptions('fetching-inline', staple(true), 1));
      started.push(fetchingInline);
    });

    it('inline: the first handshake waits for the responder and gets the staple', async () => {
      const got = await handshake(fetchingInline.ports.auto, 'alpha.staple.test', await readFile(pki.rootCert));
      expect(got.staple).not.toBeNull();
      expect(await fetchingInline.errorLog()).toContain('[test] auto alpha.staple.test true fetch');
      const seen = await sClient(fetchingInline.ports.auto, 'alpha.staple.test', pki.rootCert);
      expect(seen.certStatus, seen.output).toBe('good');
    });

    it('fetches a missing staple from the responder in the background, validates it and caches it', async () => {
      const root = await readFile(pki.rootCert);
      const first = await handshake(fetching.ports.auto, 'beta.staple.test', root);
      expect(first.staple).toBeNull(); // the fetch runs in a timer; this handshake did not wait
      await expect
        .poll(async () => (await handshake(fetching.ports.auto, 'beta.staple.test', root)).staple !== null, {
          timeout: 5_000,
          interval: 100,
        })
        .toBe(true);
      const seen = await sClient(fetching.ports.auto, 'beta.staple.test', pki.rootCert);
      expect(seen.certStatus, seen.output).toBe('good');
      // validate_ocsp_response refuses a revoked response, so nothing is stapled for it.
      await handshake(fetching.ports.auto, 'revoked.staple.test', root);
      await sleep(500);
      expect((await handshake(fetching.ports.auto, 'revoked.staple.test', root)).staple).toBeNull();
    });
  });
});
