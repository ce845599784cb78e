import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NOW, fingerprint, record, staple } from './testing/fixtures.js';
import { redisTestContext } from './testing/redis.js';
import type { StapleMeta } from './types.js';

const ctx = await redisTestContext();

describe.skipIf(!ctx.available)('StapleStore.scanMeta', () => {
  afterEach(() => ctx.cleanup());
  afterAll(() => ctx.close());

  it('yields every meta under the prefix once, and nothing else', async () => {
    const fps = Array.from({ length: 250 }, (_, i) => fingerprint(`scan-${i}`));
    for (const fp of fps) await ctx.store.write(record(fp, staple(), { names: [`${fp.slice(0, 8)}.test`] }));
    await ctx.store.recordFailure(
      fingerprint('failed'),
      { code: 'timeout', message: 'x', at: new Date(NOW) },
      {
        names: [],
        mustStaple: false,
        certNotAfter: NOW + 86_400_000,
      },
    );

    const seen: StapleMeta[] = [];
    for await (const meta of ctx.store.scanMeta({ count: 20 })) seen.push(meta);

    expect(seen).toHaveLength(251);
    expect(new Set(seen.map((m) => m.fingerprint))).toEqual(new Set([...fps, fingerprint('failed')]));
    expect(seen.find((m) => m.fingerprint === fps[0])?.status).toBe('good');
    expect(seen.find((m) => m.fingerprint === fingerprint('failed'))?.lastErrorCode).toBe('timeout');
  });
});
