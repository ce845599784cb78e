/**
 * A relay miss goes through the shared, rate-limited pipeline: two relay processes, a worker
 * process, the simulator as the CA. However many clients ask at once, the CA sees one request; a
 * certificate the index does not know costs the CA nothing; and no request can make the relay (or
 * the worker) connect to a place the request names.
 */
import { once } from 'node:events';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { certIdFor, encodeOcspRequest, parseCertificates } from '@staplewarm/ocsp';
import { issuerIdOf } from '@staplewarm/store';
import { issuerHashes } from '@staplewarm/ocsp';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestRedis, deletePrefix } from '@staplewarm/testing';
import {
  metricValue,
  missingCommands,
  opensslOcsp,
  requireCommands,
  startRelay,
  startWorker,
  warmFleet,
  warnSkipped,
  type Fleet,
  type StaplewarmProcess,
} from './harness.js';

const missing = missingCommands(['openssl']);
const skip = warnSkipped('relay miss e2e', missing);

describe.skipIf(skip)('relay: misses through the shared pipeline', () => {
  let redis: Redis;
  let fleet: Fleet;
  let relays: StaplewarmProcess[] = [];
  let worker: StaplewarmProcess;

  beforeAll(async () => {
    requireCommands(missing);
    redis = await connectTestRedis();
    // The CA answers in 400 ms: every client below asks while the one fetch is in flight.
    fleet = await warmFleet({ count: 4, label: 'miss', latencyMs: 400 });
    relays = await Promise.all([startRelay(fleet.prefix), startRelay(fleet.prefix)]);
    worker = await startWorker(fleet.prefix);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...relays.map((r) => r.stop()), worker?.stop()]);
    await fleet?.sim.close();
    if (fleet) {
      await deletePrefix(redis, fleet.prefix);
      fleet.cleanup();
    }
    redis?.disconnect();
  });

  const requestOf = (i: number): Buffer => {
    const [leaf] = parseCertificates(readFileSync(fleet.leaf(i).certPem));
    const [issuer] = parseCertificates(readFileSync(fleet.issuerPem));
    if (!leaf || !issuer) throw new Error('fixture did not parse');
    return encodeOcspRequest(certIdFor(leaf, issuer));
  };
  const stapleKey = (i: number): string => `${fleet.prefix}staple:${fleet.leaf(i).fingerprint}`;
  const fetchesAsked = async (): Promise<number> => {
    let total = 0;
    for (const relay of relays) total += await metricValue(relay.metricsUrl, 'staplewarm_relay_fetch_requests_total');
    return total;
  };

  it('fetches a missing staple once, however many clients of however many relays ask at once, and answers them all', async () => {
    expect(await redis.del(stapleKey(0))).toBe(1); // expired, evicted: gone
    const before = fleet.sim.stats().requests;
    const path = encodeURIComponent(requestOf(0).toString('base64'));
    const gets = Array.from({ length: 24 }, (_, i) => fetch(`${relays[i % 2]?.url}${path}`));
    const posts = Array.from({ length: 4 }, (_, i) => opensslOcsp(fleet, 0, relays[i % 2]?.url ?? ''));
    const answers = await Promise.all(gets);
    const stored = await redis.getBuffer(stapleKey(0));
    expect(stored).not.toBeNull();
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(Buffer.from(await answer.arrayBuffer())).toEqual(stored);
    }
    for (const post of await Promise.all(posts)) {
      expect(post.stderr + post.stdout).toContain('Response verify OK');
      expect(post.stdout).toContain(': good');
    }
    // One request reached the CA: one job, fetched by the worker under its limits.
    expect(fleet.sim.stats().requests - before).toBe(1);
    // Each relay process asked at most once; BullMQ kept one job (id = fingerprint).
    expect(await fetchesAsked()).toBeGreaterThanOrEqual(1);
    expect(await fetchesAsked()).toBeLessThanOrEqual(2);
    const fetched =
      (await metricValue(relays[0]?.metricsUrl ?? '', 'staplewarm_relay_requests_total', 'result="fetched"')) +
      (await metricValue(relays[1]?.metricsUrl ?? '', 'staplewarm_relay_requests_total', 'result="fetched"'));
    expect(fetched).toBeGreaterThanOrEqual(2);
  });

  it('answers 503 with Retry-After, and costs the CA nothing, for a certificate of a known issuer the index does not know', async () => {
    // A certificate deployed since the last scan: the issuer is indexed, the certificate is not.
    const [issuer] = parseCertificates(readFileSync(fleet.issuerPem));
    if (!issuer) throw new Error('issuer did not parse');
    const id = issuerIdOf(issuerHashes(issuer.subjectNameDer, issuer.spkiDer).sha256);
    expect(await redis.del(`${fleet.prefix}certid:${id}:${fleet.leaf(1).serial}`)).toBe(1);
    await redis.del(stapleKey(1));
    const before = fleet.sim.stats().requests;
    const answer = await fetch(`${relays[0]?.url}${encodeURIComponent(requestOf(1).toString('base64'))}`);
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('60');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(fleet.sim.stats().requests).toBe(before);
  });

  it('never connects to a host a request names: absolute-form target, Host header, path', async () => {
    const canary = net.createServer((socket) => socket.destroy());
    let connections = 0;
    canary.on('connection', () => connections++);
    canary.listen(0, '127.0.0.1');
    await once(canary, 'listening');
    const canaryAddress = `127.0.0.1:${(canary.address() as net.AddressInfo).port}`;
    try {
      expect(await redis.del(stapleKey(2))).toBe(1); // a miss: the relay asks for a fetch
      const before = fleet.sim.stats().requests;
      const b64 = encodeURIComponent(requestOf(2).toString('base64'));
      const body = requestOf(2);
      const relay = relays[0];
      if (!relay) throw new Error('no relay');
      const raw = async (request: Buffer): Promise<string> => {
        const socket = net.connect(relay.port, '127.0.0.1');
        await once(socket, 'connect');
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.write(request); // HTTP/1.0: the relay closes the connection after its answer
        await once(socket, 'close');
        return Buffer.concat(chunks).toString('latin1');
      };
      const answers = await Promise.all([
        raw(Buffer.from(`GET http://${canaryAddress}/${b64} HTTP/1.0\r\nHost: ${canaryAddress}\r\n\r\n`)),
        raw(Buffer.from(`GET /http://${canaryAddress}/${b64} HTTP/1.0\r\nHost: ${canaryAddress}\r\n\r\n`)),
        raw(
          Buffer.concat([
            Buffer.from(
              `POST http://${canaryAddress}/ HTTP/1.0\r\nHost: ${canaryAddress}\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\n\r\n`,
            ),
            body,
          ]),
        ),
      ]);
      for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
      // The fetch went where the scanner's index says (the simulator), once; nothing went to the canary.
      expect(fleet.sim.stats().requests - before).toBe(1);
      expect(connections).toBe(0);
    } finally {
      canary.close();
    }
  });
});
