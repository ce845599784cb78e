import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { closedPort, type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

describe('connection failures', () => {
  let server: LocalServer | undefined;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server?.close();
    server = undefined;
  });

  it('is connect when nothing listens', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/ocsp`;
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [url], der: requestBytes(83) });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'connect', retryable: true, url });
  });

  it('is network when the responder drops the connection mid-request', async () => {
    server = await startServer((req, res) => res.socket?.destroy());
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'network', retryable: true });
  });
});
