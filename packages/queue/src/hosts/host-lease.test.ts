/**
 * HostLeases against a real Redis: closing it while a host's Bottleneck limiter is still being set up.
 * Without Redis these skip locally and fail under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTick, setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { HostLeases } from './host-lease.js';
import { redisTestContext } from '../testing/redis.js';

const ctx = await redisTestContext();

/** Connections whose name is `name` (Bottleneck's subscriber is a duplicate: it has the same name). */
async function connectionsNamed(name: string): Promise<number> {
  const list = (await ctx.redis.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}

/** Redis drops a connection a moment after the client closes it: wait up to a second for none. */
async function connectionsLeft(name: string): Promise<number> {
  for (let i = 0; i < 20 && (await connectionsNamed(name)) > 0; i++) await sleep(50);
  return connectionsNamed(name);
}

describe.skipIf(!ctx.available)('HostLeases.close', () => {
  afterAll(() => ctx.close());

  it('resolves and leaves no connection open when a new host was just asked for a lease', async () => {
    // Seen in CI as a worker pool's close() rejecting: the subscriber's QUIT, followed by the new
    // limiter's SUBSCRIBE, rejects with "Connection is closed." (95 of 100 such closes did before the fix).
    for (let i = 0; i < 20; i++) {
      const name = `swtest-lease-${randomBytes(4).toString('hex')}`;
      const client = ctx.redis.duplicate({ connectionName: name, lazyConnect: false });
      const leases = new HostLeases(client, `${ctx.bull}:hosts`, () => {});
      await leases.lease('known.test', 20, Date.now); // both connections up, one limiter in use
      expect(await connectionsNamed(name)).toBe(2);

      const pending = leases.lease('new.test', 20, Date.now).then(
        () => 'leased',
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      );
      await nextTick(); // the new limiter is being set up: its SUBSCRIBE goes out after the QUIT
      await expect(leases.close()).resolves.toBeUndefined();

      expect(await connectionsLeft(name)).toBe(0);
      // The pending lease settles at once (granted or refused), not at its 30 s timeout.
      expect(await Promise.race([pending, sleep(2_000, 'still pending')])).toMatch(/^(leased|Connection is closed\.)$/);
    }
  });
});
