/**
 * ShrinkConfirmations against a real Redis: holds listed for `accept-shrink`, confirmations that
 * name one hold. Without Redis this skips locally and fails under CI=true.
 */
import { REDIS_URL } from '@staplewarm/testing';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../redis.js';
import { ShrinkConfirmations, type HeldShrink } from './shrink-confirmations.js';

async function connect(): Promise<Redis | undefined> {
  try {
    return await connectRedis(REDIS_URL, { connectTimeoutMs: 1_000 });
  } catch (err) {
    if (process.env.CI === 'true') throw new Error('Redis is required under CI=true', { cause: err });
    process.emitWarning('apps/staplewarm: Redis not reachable; skipping the ShrinkConfirmations test');
    return undefined;
  }
}

const redis = await connect();

const hold = (process: string, over: Partial<HeldShrink> = {}): HeldShrink => ({
  process,
  id: `${process}-hold`,
  stores: ['/srv/certs'],
  known: 100,
  found: 0,
  held: 100,
  scans: 1,
  confirmScans: 3,
  since: '2026-03-01T10:00:00.000Z',
  ...over,
});

describe.skipIf(!redis)('ShrinkConfirmations', () => {
  const prefix = `swtest:shrink:${randomBytes(4).toString('hex')}:bull`;
  const confirmations = new ShrinkConfirmations(redis!, prefix);

  afterAll(async () => {
    for await (const keys of redis!.scanStream({ match: `${prefix}:*` }) as AsyncIterable<string[]>)
      if (keys.length) await redis!.del(...keys);
    redis?.disconnect();
  });

  it('lists the published holds, oldest first, and skips entries that do not parse', async () => {
    await confirmations.publish(hold('web-2:20', { since: '2026-03-01T11:00:00.000Z' }), 60_000);
    await confirmations.publish(hold('web-1:10'), 60_000);
    await redis!.set(`${prefix}:shrink:held:junk:1`, '{"process":');
    await redis!.set(`${prefix}:shrink:held:junk:2`, JSON.stringify({ ...hold('junk:2'), stores: undefined }));
    await redis!.set(`${prefix}:shrink:held:junk:3`, JSON.stringify({ ...hold('junk:3'), known: '7' }));
    await redis!.set(`${prefix}:shrink:held:junk:4`, JSON.stringify({ ...hold('junk:4'), process: 4 }));
    expect((await confirmations.holds()).map((h) => h.process)).toEqual(['web-1:10', 'web-2:20']);
    // Another prefix is another fleet.
    expect(await new ShrinkConfirmations(redis!, `${prefix}x`).holds()).toEqual([]);
  });

  it('confirms the hold it names, not a later one of the same process', async () => {
    expect(await confirmations.isConfirmed('web-1:10', 'web-1:10-hold')).toBe(false);
    await confirmations.confirm(hold('web-1:10'));
    expect(await confirmations.isConfirmed('web-1:10', 'web-1:10-hold')).toBe(true);
    expect(await confirmations.isConfirmed('web-1:10', 'a-later-hold')).toBe(false);
    expect(await confirmations.isConfirmed('web-2:20', 'web-2:20-hold')).toBe(false);
  });

  it('unlists a released hold and forgets its confirmation', async () => {
    await confirmations.release('web-1:10');
    expect((await confirmations.holds()).map((h) => h.process)).toEqual(['web-2:20']);
    expect(await confirmations.isConfirmed('web-1:10', 'web-1:10-hold')).toBe(false);
  });

  it('lets the hold of a process that died expire', async () => {
    await confirmations.publish(hold('web-3:30'), 50);
    await new Promise((r) => setTimeout(r, 120));
    expect((await confirmations.holds()).map((h) => h.process)).not.toContain('web-3:30');
  });
});
