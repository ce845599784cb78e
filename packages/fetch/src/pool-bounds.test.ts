import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { type LocalServer, LOOPBACK, okHandler, requestBytes, startServer } from './testing/local-server.js';

/**
 * Certificates choose the responder origins, so the client's per-origin state is bounded: a pool
 * idle for `poolIdleMs` is closed, and past `maxPools` the least recently used one. A closed pool
 * shows as a new TCP connection on the next request (with one connection per origin, keep-alive
 * would otherwise reuse the old one).
 */
describe('bounded per-origin state', () => {
  const servers: LocalServer[] = [];
  let client: OcspClient;
  let clock = 0;
  afterEach(async () => {
    await client.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function server(handler = okHandler): Promise<LocalServer> {
    const s = await startServer(handler);
    servers.push(s);
    return s;
  }

  async function get(s: LocalServer): Promise<void> {
    const result = await client.fetch({ urls: [`${s.origin}/`], der: requestBytes(83) });
    expect(result.ok).toBe(true);
  }

  it('closes a pool idle for poolIdleMs, and only then', async () => {
    const [a, b] = [await server(), await server()];
    client = new OcspClient({ responderAllow: LOOPBACK, connectionsPerOrigin: 1, poolIdleMs: 60_000, now: () => clock });
    clock = 1_000;
    await get(a);
    clock += 59_999;
    await get(b);
    await get(a);
    expect(a.connections()).toBe(1); // not idle long enough: the connection was reused

    clock += 30_000;
    await get(b);
    clock += 30_000;
    await get(b); // notices that a's pool has been idle for a minute; b's only for 30 s
    await get(a);
    expect(a.connections()).toBe(2);
    expect(b.connections()).toBe(1);
  });

  it('closes the least recently used pool past maxPools', async () => {
    const [a, b, c] = [await server(), await server(), await server()];
    client = new OcspClient({ responderAllow: LOOPBACK, connectionsPerOrigin: 1, maxPools: 2, now: () => clock });
    await get(a);
    await get(b);
    await get(a); // a is now more recently used than b
    await get(c); // three origins: b goes
    await get(a);
    expect(a.connections()).toBe(1);
    await get(b);
    expect(b.connections()).toBe(2);
    // ... and b's return pushed out c (least recently used by then), not a.
    await get(a);
    expect(a.connections()).toBe(1);
    await get(c);
    expect(c.connections()).toBe(2);
  });

  it('forgets that an origin wants POST together with its pool', async () => {
    const postOnly = await server((req, res) => {
      if (req.method === 'GET') res.writeHead(405).end();
      else okHandler(req, res);
    });
    client = new OcspClient({ responderAllow: LOOPBACK, connectionsPerOrigin: 1, poolIdleMs: 60_000, now: () => clock });
    await get(postOnly);
    await get(postOnly);
    clock += 60_000;
    await get(postOnly);
    expect(postOnly.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'POST', 'GET', 'POST']);
  });
});
