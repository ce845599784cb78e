import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { type LocalServer, LOOPBACK, okHandler, requestBytes, startServer } from './testing/local-server.js';

describe('a responder that rejects GET', () => {
  let server: LocalServer;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it.each([405, 400, 404, 414, 501])('retries a GET answered %i once as POST and POSTs from then on', async (status) => {
    server = await startServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(status).end();
        return;
      }
      okHandler(req, res);
    });
    client = new OcspClient({ responderAllow: LOOPBACK });
    const der = requestBytes(83);

    const first = await client.fetch({ urls: [`${server.origin}/a`], der });
    expect(first.ok && first.response.method).toBe('POST');
    expect(first.attempts.map((a) => [a.code, a.status])).toEqual([['http-status', status]]);

    // Another URL on the same origin: remembered per origin.
    const second = await client.fetch({ urls: [`${server.origin}/b`], der });
    expect(second.ok && second.response.method).toBe('POST');
    expect(second.attempts).toEqual([]);
    expect(server.requests.map((r) => `${r.method} ${r.path.slice(0, 2)}`)).toEqual(['GET /a', 'POST /a', 'POST /b']);
  });

  it('does not fall back on a 403 or 500', async () => {
    server = await startServer((_req, res) => res.writeHead(403).end());
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(result.ok).toBe(false);
    expect(server.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('reports the POST failure when the fallback POST fails too', async () => {
    server = await startServer((req, res) => res.writeHead(req.method === 'GET' ? 405 : 503).end());
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.status).toBe(503);
    expect(result.attempts.map((a) => a.status)).toEqual([405, 503]);
  });
});
