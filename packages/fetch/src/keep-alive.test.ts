import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { OcspClientClosedError } from './errors.js';
import { type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

describe('keep-alive pool per origin', () => {
  let server: LocalServer;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('keeps one connection open across sequential requests, GET and POST alike', async () => {
    server = await startServer();
    client = new OcspClient({ responderAllow: LOOPBACK, connectionsPerOrigin: 1 });
    for (let i = 0; i < 10; i += 1) {
      const der = requestBytes(i % 2 === 0 ? 83 : 300);
      const result = await client.fetch({ urls: [`${server.origin}/ocsp`], der });
      expect(result.ok).toBe(true);
    }
    expect(server.requests.map((r) => r.method)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'GET' : 'POST')));
    expect(server.connections()).toBe(1);
  });

  it('reuses connections with the default pool size instead of opening one per request', async () => {
    server = await startServer();
    client = new OcspClient({ responderAllow: LOOPBACK });
    for (let i = 0; i < 20; i += 1) await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    // undici may open a second connection for the request that follows the very first one
    // (the first client is not yet marked idle); from then on they are reused.
    expect(server.requests).toHaveLength(20);
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  it('opens at most connectionsPerOrigin connections under concurrency', async () => {
    server = await startServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from([0x30])), 20);
    });
    client = new OcspClient({ responderAllow: LOOPBACK, connectionsPerOrigin: 3 });
    const results = await Promise.all(Array.from({ length: 12 }, () => client.fetch({ urls: [server.origin], der: requestBytes(83) })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(server.connections()).toBe(3);
  });

  it('closes its pools and refuses to fetch after close()', async () => {
    server = await startServer();
    client = new OcspClient({ responderAllow: LOOPBACK });
    await client.fetch({ urls: [server.origin], der: requestBytes(83) });
    await client.close();
    await expect(client.fetch({ urls: [server.origin], der: requestBytes(83) })).rejects.toBeInstanceOf(OcspClientClosedError);
  });
});
