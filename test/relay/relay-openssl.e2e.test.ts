/**
 * `staplewarm relay` with the CA gone: openssl's OCSP client (POST) and curl (GET) get the staples
 * `staplewarm warm` stored, and openssl verifies them against the root, for SHA-1 and SHA-256
 * CertIDs. Unknown issuers get `unauthorized`.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { encodeOcspRequest, certIdFor, parseCertificates } from '@staplewarm/ocsp';
import type { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestRedis, deletePrefix } from '@staplewarm/testing';
import { run } from '../openresty/processes.js';
import {
  LOCAL_RESPONDERS,
  metricValue,
  missingCommands,
  opensslOcsp,
  requireCommands,
  startRelay,
  warmFleet,
  warnSkipped,
  type Fleet,
  type StaplewarmProcess,
} from './harness.js';

const missing = missingCommands(['openssl', 'curl']);
const skip = warnSkipped('relay openssl/curl e2e', missing);

describe.skipIf(skip)('relay: openssl and curl against the relay, the CA stopped', () => {
  let redis: Redis;
  let sha1: Fleet;
  let sha256: Fleet;
  let relay: StaplewarmProcess;
  let relay256: StaplewarmProcess;

  beforeAll(async () => {
    requireCommands(missing);
    redis = await connectTestRedis();
    [sha1, sha256] = await Promise.all([
      warmFleet({ count: 3, revoked: [2], label: 'openssl' }),
      warmFleet({ count: 2, hash: 'sha256', label: 'openssl256' }),
    ]);
    // The CAs' responders are gone: whatever the relay answers comes from Redis.
    await Promise.all([sha1.sim.close(), sha256.sim.close()]);
    [relay, relay256] = await Promise.all([
      startRelay(sha1.prefix, LOCAL_RESPONDERS),
      startRelay(sha256.prefix, { ...LOCAL_RESPONDERS, STAPLEWARM_CERTID_HASH: 'sha256' }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([relay?.stop(), relay256?.stop()]);
    for (const fleet of [sha1, sha256]) {
      if (!fleet) continue;
      await deletePrefix(redis, fleet.prefix);
      fleet.cleanup();
    }
    redis?.disconnect();
  });

  /** The DER request for leaf `i` of `fleet` in `hash`, as staplewarm (and nginx) write it. */
  const requestOf = (fleet: Fleet, i: number, hash: 'sha1' | 'sha256'): Buffer => {
    const [leaf] = parseCertificates(readFileSync(fleet.leaf(i).certPem));
    const [issuer] = parseCertificates(readFileSync(fleet.issuerPem));
    if (!leaf || !issuer) throw new Error('fixture did not parse');
    return encodeOcspRequest(certIdFor(leaf, issuer, hash));
  };

  /** curl GET, then `openssl ocsp -respin` on the body: verified against the root, for that certificate. */
  const curlAndVerify = async (
    fleet: Fleet,
    i: number,
    url: string,
    extra: string[] = [],
    hash: 'sha1' | 'sha256' = 'sha1',
  ): Promise<{ headers: string; verify: string }> => {
    const body = join(fleet.dir, `curl-${i}-${Math.random().toString(36).slice(2)}.der`);
    const curl = await run('curl', ['-sS', '-D', '-', '-o', body, ...extra, url]);
    expect(curl.code, curl.stderr).toBe(0);
    const leaf = fleet.leaf(i);
    // openssl looks the certificate's status up by a CertID in `hash`, which must be the response's.
    const verify = await run('openssl', [
      'ocsp',
      `-${hash}`,
      '-respin',
      body,
      '-issuer',
      fleet.issuerPem,
      '-cert',
      leaf.certPem,
      '-CAfile',
      fleet.rootPem,
    ]);
    return { headers: curl.stdout, verify: verify.stdout + verify.stderr };
  };

  it('answers openssl ocsp -url (POST, SHA-1) with a staple that verifies: good, and revoked', async () => {
    const good = await opensslOcsp(sha1, 0, relay.url);
    expect(good.stderr + good.stdout).toContain('Response verify OK');
    expect(good.stdout).toContain(`${sha1.leaf(0).certPem}: good`);
    const revoked = await opensslOcsp(sha1, 1, relay.url);
    expect(revoked.stderr + revoked.stdout).toContain('Response verify OK');
    expect(revoked.stdout).toContain(`${sha1.leaf(1).certPem}: revoked`);
  });

  it('answers a GET by curl, escaped or not and under a path prefix, with RFC 5019 headers, bytes that openssl verifies', async () => {
    const b64 = requestOf(sha1, 2, 'sha1').toString('base64');
    for (const url of [`${relay.url}${encodeURIComponent(b64)}`, `${relay.url}ocsp/r1/${encodeURIComponent(b64)}`]) {
      const { headers, verify } = await curlAndVerify(sha1, 2, url);
      expect(verify).toContain('Response verify OK');
      expect(verify).toContain(': good');
      expect(headers).toMatch(/^HTTP\/1\.1 200/);
      expect(headers).toMatch(/\r\nContent-Type: application\/ocsp-response\r\n/i);
      expect(headers).toMatch(/\r\nCache-Control: max-age=\d+, public, no-transform, must-revalidate\r\n/i);
      expect(headers).toMatch(/\r\nLast-Modified: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\r\n/i);
      expect(headers).toMatch(/\r\nExpires: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\r\n/i);
      expect(headers).toMatch(/\r\nETag: "[0-9a-f]{32}"\r\n/i);
    }
    // Unescaped base64 (+ / = as they are) works too: curl sends the path as given.
    const { verify } = await curlAndVerify(sha1, 2, `${relay.url}${b64}`, ['--path-as-is']);
    expect(verify).toContain('Response verify OK');
  });

  it('closes an HTTP/1.0 connection after the answer (curl --http1.0)', async () => {
    const b64 = encodeURIComponent(requestOf(sha1, 0, 'sha1').toString('base64'));
    const { headers, verify } = await curlAndVerify(sha1, 0, `${relay.url}${b64}`, ['--http1.0']);
    expect(headers).toMatch(/^HTTP\/1\.1 200/);
    expect(headers).toMatch(/\r\nConnection: close\r\n/i);
    expect(verify).toContain('Response verify OK');
  });

  it('answers SHA-256 CertIDs (RFC 9919) by POST and GET when the fleet fetches SHA-256', async () => {
    const post = await opensslOcsp(sha256, 0, relay256.url, ['-sha256']);
    expect(post.stderr + post.stdout).toContain('Response verify OK');
    expect(post.stdout).toContain(`${sha256.leaf(0).certPem}: good`);
    const b64 = encodeURIComponent(requestOf(sha256, 1, 'sha256').toString('base64'));
    const { verify } = await curlAndVerify(sha256, 1, `${relay256.url}${b64}`, [], 'sha256');
    expect(verify).toContain('Response verify OK');
    expect(verify).toContain(': good');
  });

  it('answers the hash the fleet does not fetch with unauthorized, both ways', async () => {
    const sha256ToSha1Fleet = await opensslOcsp(sha1, 0, relay.url, ['-sha256']);
    expect(sha256ToSha1Fleet.stdout + sha256ToSha1Fleet.stderr).toContain('Responder Error: unauthorized (6)');
    const sha1ToSha256Fleet = await opensslOcsp(sha256, 0, relay256.url);
    expect(sha1ToSha256Fleet.stdout + sha1ToSha256Fleet.stderr).toContain('Responder Error: unauthorized (6)');
  });

  it('answers a certificate of an issuer staplewarm does not know with unauthorized', async () => {
    // Each fleet has its own CA: the SHA-1 relay has never seen the SHA-256 fleet's issuer.
    const stranger = await opensslOcsp(sha256, 0, relay.url);
    expect(stranger.stdout + stranger.stderr).toContain('Responder Error: unauthorized (6)');
    const der = join(sha1.dir, 'garbage.der');
    writeFileSync(der, Buffer.from('not an OCSP request'));
    const garbage = await run('curl', [
      '-sS',
      '-o',
      '-',
      '--data-binary',
      `@${der}`,
      '-H',
      'Content-Type: application/ocsp-request',
      relay.url,
    ]);
    expect(Buffer.from(garbage.stdout, 'latin1')).toEqual(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]));
  });

  it('counts every answer on /metrics by result', async () => {
    expect(await metricValue(relay.metricsUrl, 'staplewarm_relay_requests_total', 'result="unauthorized"')).toBeGreaterThanOrEqual(1);
    expect(await metricValue(relay.metricsUrl, 'staplewarm_relay_requests_total', 'result="other_hash"')).toBeGreaterThanOrEqual(1);
    expect(await metricValue(relay.metricsUrl, 'staplewarm_relay_requests_total', 'result="malformed"')).toBe(1);
    const served =
      (await metricValue(relay.metricsUrl, 'staplewarm_relay_requests_total', 'result="redis"')) +
      (await metricValue(relay.metricsUrl, 'staplewarm_relay_requests_total', 'result="memory"'));
    expect(served).toBeGreaterThanOrEqual(6);
    expect(await metricValue(relay.metricsUrl, 'staplewarm_relay_request_duration_seconds_count', 'result="redis"')).toBeGreaterThanOrEqual(
      1,
    );
    expect(await (await fetch(relay.metricsUrl.replace('/metrics', '/healthz'))).text()).toBe('ok\n');
  });

  it('stops cleanly on SIGTERM, at once, although a client holds a keep-alive connection', async () => {
    const b64 = encodeURIComponent(requestOf(sha1, 0, 'sha1').toString('base64'));
    const socket = net.connect(relay.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`GET /${b64} HTTP/1.1\r\nHost: relay\r\n\r\n`);
    await once(socket, 'data'); // answered; the connection stays open
    const started = Date.now();
    const exited = once(relay.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    relay.child.kill('SIGTERM');
    const [code, signal] = await exited;
    socket.destroy();
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(relay.output()).toContain('"relay: stopped"');
  });
});
