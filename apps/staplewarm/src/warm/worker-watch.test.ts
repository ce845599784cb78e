import { silentLogger } from '@staplewarm/queue';
import { describe, expect, it } from 'vitest';
import { noWorkerNotice, redisAddress, watchForWorkers } from './worker-watch.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('redisAddress', () => {
  it('keeps scheme, host, port and database, never credentials or options', () => {
    expect(redisAddress('redis://:s3cret@10.0.0.5:6380/2?password=other')).toBe('redis://10.0.0.5:6380/2');
    expect(redisAddress('rediss://user:pw@redis.example.net:6380')).toBe('rediss://redis.example.net:6380');
    expect(redisAddress('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redisAddress('not a url :secret@')).toBe('the configured Redis');
  });
});

describe('noWorkerNotice', () => {
  it('names the queue, its keys, the Redis and the deadline on one line', () => {
    const line = noWorkerNotice({
      queue: 'staple@*',
      queuePrefix: 'ocsp:bull',
      redisUrl: 'redis://:pw@h:6379/1',
      afterSeconds: 3,
      timeoutSeconds: 600,
    });
    expect(line).toBe(
      'warm: no worker is connected to queue "staple@*" (keys ocsp:bull:staple@*:*) on redis://h:6379/1 after 3 s: start `staplewarm worker` ' +
        'with the same --redis and --prefix, or run warm without --no-work (giving up after --timeout 600 s)',
    );
  });
});

describe('watchForWorkers', () => {
  const watch = (count: number | Error, over: { stillWaiting?: () => boolean } = {}) => {
    let asked = 0;
    let told = 0;
    const cancel = watchForWorkers(
      { getWorkersCount: async () => (asked++, count instanceof Error ? Promise.reject(count) : count) },
      { afterMs: 20, stillWaiting: over.stillWaiting ?? (() => true), onNone: () => told++, log: silentLogger },
    );
    return { cancel, asked: () => asked, told: () => told };
  };

  it('says so once when no worker is connected after the delay', async () => {
    const w = watch(0);
    expect(w.asked()).toBe(0);
    await tick(60);
    expect([w.asked(), w.told()]).toEqual([1, 1]);
  });

  it('says nothing when a worker is there, the run is over, the watch was cancelled or Redis cannot tell', async () => {
    const present = watch(1);
    const over = watch(0, { stillWaiting: () => false });
    const cancelled = watch(0);
    cancelled.cancel();
    const refused = watch(new Error('NOPERM this user has no permissions to run the client command'));
    await tick(60);
    expect(present.told() + over.told() + cancelled.told() + refused.told()).toBe(0);
    expect([present.asked(), over.asked(), cancelled.asked(), refused.asked()]).toEqual([1, 0, 0, 1]);
  });

  it('says nothing when cancelled while Redis is being asked (the run just ended)', async () => {
    let told = 0;
    const cancel = watchForWorkers(
      { getWorkersCount: () => tick(40).then(() => 0) },
      { afterMs: 10, stillWaiting: () => true, onNone: () => told++, log: silentLogger },
    );
    await tick(25);
    cancel();
    await tick(60);
    expect(told).toBe(0);
  });
});
