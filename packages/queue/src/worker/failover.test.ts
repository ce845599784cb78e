/**
 * fetchWithFailover with a real HostLimiter (Redis) and a scripted client: every URL tried goes
 * through its own host's permit, and its answer (or silence) is reported to that host. Without
 * Redis these skip locally and fail under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { FetchError, type OcspClient, type OcspFetchRequest, type OcspFetchResult } from '@staplewarm/fetch';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fetchWithFailover } from './failover.js';
import { HostLimiter, type HostLimiterOptions } from '../hosts/host-limiter.js';
import type { StapleObserver } from './observer.js';
import { responderUrls } from '../hosts/responder-urls.js';
import { redisTestContext } from '../testing/redis.js';

const ctx = await redisTestContext();
const DER = Buffer.from([0x30, 0x00]);

type Answer = 'ok' | '429' | '500' | '404' | 'timeout' | 'refused';

/** Answers per host (the last answer repeats); records the URLs it was asked for. */
function scriptedClient(script: Record<string, Answer[]>) {
  const calls: string[] = [];
  const client = {
    fetch: (req: OcspFetchRequest): Promise<OcspFetchResult> => {
      expect(req.urls).toHaveLength(1);
      const url = req.urls[0]!;
      const host = new URL(url).host;
      const answers = script[host] ?? ['500'];
      const answer = answers[Math.min(calls.filter((u) => new URL(u).host === host).length, answers.length - 1)]!;
      calls.push(url);
      if (answer === 'ok') {
        return Promise.resolve({
          ok: true,
          response: { body: Buffer.alloc(1), url, method: 'GET', status: 200, elapsedMs: 1 },
          attempts: [],
        });
      }
      const error = {
        '429': () => new FetchError('rate-limited', url, `${url}: HTTP 429`, { status: 429, retryAfterMs: 60_000 }),
        '500': () => new FetchError('http-status', url, `${url}: HTTP 500`, { status: 500 }),
        '404': () => new FetchError('http-status', url, `${url}: HTTP 404`, { status: 404 }),
        timeout: () => new FetchError('timeout', url, `${url}: no answer`),
        refused: () => new FetchError('address-refused', url, `${url}: 127.0.0.1 (loopback) is refused`),
      }[answer]();
      return Promise.resolve({ ok: false, error, attempts: [error] });
    },
  };
  return { client: client as unknown as OcspClient, calls };
}

/** A real limiter whose calls are recorded, per host, in order. */
class RecordingLimiter extends HostLimiter {
  readonly events: string[] = [];
  override async acquire(host: string) {
    const permit = await super.acquire(host);
    this.events.push(`acquire ${host} ${permit.granted ? 'granted' : permit.reason}`);
    return permit;
  }
  override answered(host: string): void {
    this.events.push(`answered ${host}`);
    super.answered(host);
  }
  override unanswered(host: string): void {
    this.events.push(`unanswered ${host}`);
    super.unanswered(host);
  }
  override released(host: string): void {
    this.events.push(`released ${host}`);
    super.released(host);
  }
}

const pauses: [string, number][] = [];
const observer: StapleObserver = { fetchObserved() {}, rateLimited: (host, s) => void pauses.push([host, s]), revocationSeen() {} };

describe.skipIf(!ctx.available)('fetchWithFailover', () => {
  const limiters: HostLimiter[] = [];
  function limiter(options: Partial<HostLimiterOptions> = {}): RecordingLimiter {
    const made = new RecordingLimiter({ connection: ctx.redis, prefix: ctx.bull, defaultHostRate: 0, ...options });
    limiters.push(made);
    return made;
  }
  const hosts = (n: number): string[] => {
    const tag = randomBytes(3).toString('hex');
    return Array.from({ length: n }, (_, i) => `h${i}-${tag}.test`);
  };
  afterEach(async () => {
    await Promise.all(limiters.splice(0).map((l) => l.close()));
    pauses.splice(0);
    await ctx.cleanup();
  });
  afterAll(() => ctx.close());

  it('of 100 URLs tries the first 4, each through its own host permit, and reports each answer to its host', async () => {
    const names = hosts(100);
    const { client, calls } = scriptedClient({
      [names[0]!]: ['500'],
      [names[1]!]: ['timeout'],
      [names[2]!]: ['500'],
      [names[3]!]: ['404'],
    });
    const l = limiter();
    const { used, ignored } = responderUrls(names.map((h) => `http://${h}/`));
    expect(ignored).toBe(96);
    const outcome = await fetchWithFailover(used, DER, { client, limiter: l, observer, now: Date.now });

    expect(calls).toEqual(names.slice(0, 4).map((h) => `http://${h}/`));
    expect(l.events).toEqual([
      `acquire ${names[0]} granted`,
      `answered ${names[0]}`,
      `acquire ${names[1]} granted`,
      `unanswered ${names[1]}`,
      `acquire ${names[2]} granted`,
      `answered ${names[2]}`,
      `acquire ${names[3]} granted`,
      `answered ${names[3]}`,
    ]);
    // The first retryable failure is the job's: another attempt may get through there.
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'http-500', retryable: true } });
  });

  it("fails over past a host whose breaker is open, without sending to it, while the next host's answers keep it closed", async () => {
    const [down, up] = hosts(2) as [string, string];
    const { client, calls } = scriptedClient({ [down]: ['timeout'], [up]: ['ok'] });
    const l = limiter({ health: { failuresToOpen: 2, coolDown: { baseMs: 60_000, maxMs: 60_000 } } });
    const urls = [`http://${down}/`, `http://${up}/`];
    for (let i = 0; i < 4; i++) {
      const outcome = await fetchWithFailover(urls, DER, { client, limiter: l, observer, now: Date.now });
      expect(outcome.kind).toBe('answered');
    }
    // Two timeouts opened the first host's breaker: the last two certificates went straight to the second.
    expect(calls.map((u) => new URL(u).host)).toEqual([down, up, down, up, up, up]);
    expect(l.events.filter((e) => e.startsWith('acquire'))).toEqual([
      `acquire ${down} granted`,
      `acquire ${up} granted`,
      `acquire ${down} granted`,
      `acquire ${up} granted`,
      `acquire ${down} down`,
      `acquire ${up} granted`,
      `acquire ${down} down`,
      `acquire ${up} granted`,
    ]);
  });

  it('pauses a host that answered 429 and fails over to the next; the certificate is answered', async () => {
    const [limited, fine] = hosts(2) as [string, string];
    const { client } = scriptedClient({ [limited]: ['429'], [fine]: ['ok'] });
    const l = limiter();
    const outcome = await fetchWithFailover([`http://${limited}/`, `http://${fine}/`], DER, {
      client,
      limiter: l,
      observer,
      now: Date.now,
    });
    expect(outcome).toMatchObject({ kind: 'answered', response: { url: `http://${fine}/` } });
    expect(l.pausedUntil(limited)).toBeGreaterThan(Date.now() + 50_000);
    expect(l.pausedUntil(fine)).toBe(0);
    expect(pauses.map(([host]) => host)).toEqual([limited]);

    // Next certificate: the paused host is not asked at all.
    const next = await fetchWithFailover([`http://${limited}/`, `http://${fine}/`], DER, { client, limiter: l, observer, now: Date.now });
    expect(next.kind).toBe('answered');
    expect(l.events.filter((e) => e.startsWith(`acquire ${limited}`))).toEqual([`acquire ${limited} granted`, `acquire ${limited} paused`]);
  });

  it('hands the job back when nothing answered but a host was rate limited, until the earliest pause ends', async () => {
    const [limited, broken] = hosts(2) as [string, string];
    const { client } = scriptedClient({ [limited]: ['429'], [broken]: ['500'] });
    const l = limiter();
    const outcome = await fetchWithFailover([`http://${limited}/`, `http://${broken}/`], DER, {
      client,
      limiter: l,
      observer,
      now: Date.now,
    });
    expect(outcome).toEqual({ kind: 'hand-back', until: l.pausedUntil(limited) });
  });

  it('a refused address frees its permit without judging the host, and does not retry', async () => {
    const [refused] = hosts(1) as [string];
    const { client, calls } = scriptedClient({ [refused]: ['refused'] });
    // One request in flight at most: a permit that was not given back would leave the host busy.
    const l = limiter({ maxInFlight: 1, busyWaitMs: 10 });
    for (let i = 0; i < 3; i++) {
      const outcome = await fetchWithFailover([`http://${refused}/`], DER, { client, limiter: l, observer, now: Date.now });
      expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'address-refused', retryable: false } });
    }
    expect(calls).toHaveLength(3);
    expect(l.events.filter((e) => !e.startsWith('acquire'))).toEqual([`released ${refused}`, `released ${refused}`, `released ${refused}`]);
  });

  it('fails with bad-url when the certificate lists no URL', async () => {
    const { client } = scriptedClient({});
    const outcome = await fetchWithFailover([], DER, { client, limiter: limiter(), observer, now: Date.now });
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'bad-url', retryable: false } });
  });
});
