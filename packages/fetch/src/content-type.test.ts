import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { FAKE_RESPONSE, type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

describe('content-type of a 2xx', () => {
  let server: LocalServer;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  async function fetchWith(headers: Record<string, string>) {
    server = await startServer((_req, res) => res.writeHead(200, headers).end(FAKE_RESPONSE));
    client = new OcspClient({ responderAllow: LOOPBACK });
    return client.fetch({ urls: [server.origin], der: requestBytes(83) });
  }

  it('refuses text/html (a CDN or proxy page) as content-type', async () => {
    const result = await fetchWith({ 'content-type': 'text/html; charset=utf-8' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'content-type', status: 200, retryable: true });
  });

  it('accepts application/ocsp-response with parameters and any case', async () => {
    const result = await fetchWith({ 'content-type': 'Application/OCSP-Response; charset=binary' });
    expect(result.ok && result.response.body).toEqual(FAKE_RESPONSE);
  });

  it('accepts a missing content-type (the body is verified anyway)', async () => {
    const result = await fetchWith({});
    expect(result.ok && result.response.body).toEqual(FAKE_RESPONSE);
  });
});
