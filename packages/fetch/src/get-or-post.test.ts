import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { FAKE_RESPONSE, type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

describe('GET or POST by URL length (RFC 5019 section 5)', () => {
  let server: LocalServer;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('sends a short request as GET <url>/<escaped base64>', async () => {
    server = await startServer();
    client = new OcspClient({ responderAllow: LOOPBACK });
    const der = requestBytes(83);
    const result = await client.fetch({ urls: [`${server.origin}/ocsp`], der });

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.response).toMatchObject({ method: 'GET', status: 200, url: `${server.origin}/ocsp`, body: FAKE_RESPONSE });
    expect(result.response.elapsedMs).toBeGreaterThan(0);
    expect(result.attempts).toEqual([]);
    const [req] = server.requests;
    expect(req?.method).toBe('GET');
    expect(req?.headers['user-agent']).toBe('staplewarm');
    expect(Buffer.from(decodeURIComponent(req?.path.slice('/ocsp/'.length) ?? ''), 'base64')).toEqual(der);
  });

  it('sends a request whose GET URL would reach 255 bytes as POST application/ocsp-request', async () => {
    server = await startServer();
    client = new OcspClient({ responderAllow: LOOPBACK, userAgent: 'test-agent' });
    const der = requestBytes(300);
    const result = await client.fetch({ urls: [`${server.origin}/ocsp`], der });

    expect(result.ok && result.response.method).toBe('POST');
    const [req] = server.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/ocsp');
    expect(req?.headers['content-type']).toBe('application/ocsp-request');
    expect(req?.headers['user-agent']).toBe('test-agent');
    expect(req?.body).toEqual(der);
  });

  it('puts the GET/POST boundary at maxGetUrlBytes', async () => {
    server = await startServer();
    const der = requestBytes(83);
    const getUrlBytes = `${server.origin}/`.length + encodeURIComponent(der.toString('base64')).length;
    client = new OcspClient({ responderAllow: LOOPBACK, maxGetUrlBytes: getUrlBytes });
    await client.fetch({ urls: [server.origin], der });
    await client.close();
    client = new OcspClient({ responderAllow: LOOPBACK, maxGetUrlBytes: getUrlBytes + 1 });
    await client.fetch({ urls: [server.origin], der });

    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'GET']);
  });
});
