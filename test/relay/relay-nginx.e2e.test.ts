/**
 * Plain nginx (Debian's 1.22, no Lua) staples through the relay: `ssl_stapling_responder` points
 * at `staplewarm relay`, the CA's responder is stopped after the warm, and the staple a TLS client
 * gets is the one in Redis, which openssl verifies.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestRedis, deletePrefix } from '@staplewarm/testing';
import {
  metricValue,
  missingCommands,
  requireCommands,
  startRelay,
  warmFleet,
  warnSkipped,
  type Fleet,
  type StaplewarmProcess,
} from './harness.js';
import { NGINX, startNginx, type RunningServer } from './servers.js';
import { handshakeUntilStapled, sClientStatus, verifyStaple } from './staple-check.js';

const missing = missingCommands([NGINX, 'openssl']);
const skip = warnSkipped('relay nginx e2e', missing);

describe.skipIf(skip)('relay: nginx ssl_stapling_responder', () => {
  let redis: Redis;
  let fleet: Fleet;
  let relay: StaplewarmProcess;
  let nginx: RunningServer;

  beforeAll(async () => {
    requireCommands(missing);
    redis = await connectTestRedis();
    fleet = await warmFleet({ count: 2, revoked: [2], label: 'nginx' });
    await fleet.sim.close(); // from here on, only the relay answers
    relay = await startRelay(fleet.prefix);
    const trusted = join(fleet.dir, 'trusted.pem');
    writeFileSync(trusted, readFileSync(fleet.rootPem, 'utf8') + readFileSync(fleet.issuerPem, 'utf8'));
    const leaf = fleet.leaf(0);
    nginx = await startNginx(
      join(fleet.dir, 'nginx'),
      { name: leaf.name, fullchainPem: leaf.fullchainPem, keyPem: leaf.keyPem },
      relay.url,
      trusted,
    );
  }, 180_000);

  afterAll(async () => {
    await nginx?.stop();
    await relay?.stop();
    if (fleet) {
      await deletePrefix(redis, fleet.prefix);
      fleet.cleanup();
    }
    redis?.disconnect();
  });

  it('staples the response staplewarm stored, byte for byte, and openssl verifies it', async () => {
    const leaf = fleet.leaf(0);
    const stapled = await handshakeUntilStapled(nginx.port, leaf.name, fleet.rootPem).catch(async (err: Error) => {
      throw new Error(`${err.message}\nnginx: ${await nginx.errorLog()}\nrelay: ${relay.output()}`);
    });
    expect(stapled.fingerprint).toBe(leaf.fingerprint);
    expect(stapled.staple).toEqual(await redis.getBuffer(`${fleet.prefix}staple:${leaf.fingerprint}`));
    const verified = await verifyStaple(fleet, 0, stapled.staple);
    expect(verified).toContain('Response verify OK');
    expect(verified).toContain(`${leaf.certPem}: good`);
    // nginx asked with GET over HTTP/1.0 and read to EOF: the relay answered it from Redis.
    expect(await metricValue(relay.metricsUrl, 'staplewarm_relay_requests_total', 'result="redis"')).toBeGreaterThanOrEqual(1);
  });

  it('shows the staple to openssl s_client -status as good', async () => {
    const leaf = fleet.leaf(0);
    const seen = await sClientStatus(nginx.port, leaf.name, fleet.rootPem);
    expect(seen.verified, seen.output).toBe(true);
    expect(seen.certStatus, seen.output).toBe('good');
    expect(seen.output).toContain('OCSP Response Status: successful');
  });

  it('logged no OCSP error in nginx', async () => {
    expect(await nginx.errorLog()).not.toMatch(/OCSP.*(error|failed|invalid)|ssl_stapling.*error/i);
  });
});
