import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { FAKE_RESPONSE, type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

describe('caller abort', () => {
  let server: LocalServer;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it("rejects with the signal's reason and tries no further URL", async () => {
    let second = 0;
    server = await startServer((req, res) => {
      if (req.path.startsWith('/second')) {
        second += 1;
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(FAKE_RESPONSE);
      }
      // '/first' never answers.
    });
    client = new OcspClient({ responderAllow: LOOPBACK, responseTimeoutMs: 5000 });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 50);
    const pending = client.fetch({
      urls: [`${server.origin}/first`, `${server.origin}/second`],
      der: requestBytes(83),
      signal: controller.signal,
    });

    await expect(pending).rejects.toBe(reason);
    expect(second).toBe(0);
  });
});
