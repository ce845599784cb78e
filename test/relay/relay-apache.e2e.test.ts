/**
 * Apache 2.4 with mod_ssl staples through the relay: `SSLStaplingForceURL` points at `staplewarm
 * relay` (Apache POSTs over HTTP/1.0), the CA's responder is stopped after the warm, and the first
 * handshake already carries the staple in Redis, which openssl verifies.
 */
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
import { APACHE, startApache, type RunningServer } from './servers.js';
import { handshakeUntilStapled, sClientStatus, verifyStaple } from './staple-check.js';

const missing = missingCommands([APACHE, '/usr/lib/apache2/modules/mod_ssl.so', 'openssl']);
const skip = warnSkipped('relay Apache e2e', missing);

describe.skipIf(skip)('relay: Apache SSLStaplingForceURL', () => {
  let redis: Redis;
  let fleet: Fleet;
  let relay: StaplewarmProcess;
  let apache: RunningServer;

  beforeAll(async () => {
    requireCommands(missing);
    redis = await connectTestRedis();
    fleet = await warmFleet({ count: 2, revoked: [2], label: 'apache' });
    await fleet.sim.close(); // from here on, only the relay answers
    relay = await startRelay(fleet.prefix);
    const leaf = fleet.leaf(1); // the revoked one: Apache staples revocations too
    apache = await startApache(
      join(fleet.dir, 'apache'),
      { name: leaf.name, fullchainPem: leaf.fullchainPem, keyPem: leaf.keyPem },
      relay.url,
      fleet.rootPem,
    );
  }, 180_000);

  afterAll(async () => {
    await apache?.stop();
    await relay?.stop();
    if (fleet) {
      await deletePrefix(redis, fleet.prefix);
      fleet.cleanup();
    }
    redis?.disconnect();
  });

  it('staples on the first handshake (Apache waits for its fetch) the stored response, which openssl verifies', async () => {
    const leaf = fleet.leaf(1);
    const stapled = await handshakeUntilStapled(apache.port, leaf.name, fleet.rootPem, 15_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\napache: ${await apache.errorLog()}\nrelay: ${relay.output()}`);
    });
    expect(stapled.attempts).toBe(1);
    expect(stapled.staple).toEqual(await redis.getBuffer(`${fleet.prefix}staple:${leaf.fingerprint}`));
    const verified = await verifyStaple(fleet, 1, stapled.staple);
    expect(verified).toContain('Response verify OK');
    expect(verified).toContain(`${leaf.certPem}: revoked`);
    expect(await metricValue(relay.metricsUrl, 'staplewarm_relay_requests_total', 'result="redis"')).toBeGreaterThanOrEqual(1);
  });

  it('shows the staple to openssl s_client -status', async () => {
    const seen = await sClientStatus(apache.port, fleet.leaf(1).name, fleet.rootPem);
    expect(seen.verified, seen.output).toBe(true);
    expect(seen.certStatus, seen.output).toBe('revoked');
  });
});
