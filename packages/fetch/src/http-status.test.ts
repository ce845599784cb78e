import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

describe('non-2xx answers', () => {
  let server: LocalServer;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it.each([
    [500, true],
    [502, true],
    [503, true],
    [408, true],
    [403, false],
    [410, false],
  ])('HTTP %i is http-status, retryable=%s', async (status, retryable) => {
    server = await startServer((_req, res) => res.writeHead(status).end('<html>error</html>'));
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'http-status', status, retryable, url: server.origin });
    expect(result.attempts).toEqual([result.error]);
  });

  it('keeps the connection usable after an error body', async () => {
    let calls = 0;
    server = await startServer((_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(503).end('x'.repeat(2000));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from([0x30]));
    });
    client = new OcspClient({ responderAllow: LOOPBACK, connectionsPerOrigin: 1 });
    const first = await client.fetch({ urls: [server.origin], der: requestBytes(83) });
    const second = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(first.ok).toBe(false);
    expect(second.ok).toBe(true);
    expect(server.connections()).toBe(1);
  });
});
