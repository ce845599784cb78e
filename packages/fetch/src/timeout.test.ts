import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

describe('timeouts', () => {
  let server: LocalServer;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('is a retryable timeout when the responder never answers', async () => {
    server = await startServer(() => {
      // Read the request, never answer.
    });
    client = new OcspClient({ responderAllow: LOOPBACK, responseTimeoutMs: 150 });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'timeout', retryable: true, url: server.origin });
  });

  it('is a timeout when the body stalls after the headers', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': '100' });
      res.write(Buffer.alloc(10));
    });
    client = new OcspClient({ responderAllow: LOOPBACK, responseTimeoutMs: 150 });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(!result.ok && result.error.code).toBe('timeout');
  });
});
