import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

const OCSP = { 'content-type': 'application/ocsp-response' };

describe('body size cap', () => {
  let server: LocalServer;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('stops reading a chunked body as soon as it goes over maxBodyBytes', async () => {
    let written = 0;
    let serverSawClose = false;
    server = await startServer((_req, res) => {
      res.writeHead(200, OCSP);
      res.on('close', () => (serverSawClose = true));
      // An endless body: only the client giving up ends it.
      const timer = setInterval(() => {
        written += 1024;
        res.write(Buffer.alloc(1024, 0x41));
      }, 1);
      res.on('close', () => clearInterval(timer));
    });
    client = new OcspClient({ responderAllow: LOOPBACK, maxBodyBytes: 4096 });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'oversize', status: 200, retryable: false });
    await expect.poll(() => serverSawClose).toBe(true);
    expect(written).toBeLessThan(1024 * 1024);
  });

  it('fails at once on a declared content-length over the cap', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { ...OCSP, 'content-length': String(10_000) });
      res.write(Buffer.alloc(100));
    });
    client = new OcspClient({ responderAllow: LOOPBACK, maxBodyBytes: 4096, responseTimeoutMs: 5000 });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(!result.ok && result.error.code).toBe('oversize');
  });

  it('accepts a body of exactly maxBodyBytes', async () => {
    server = await startServer((_req, res) => res.writeHead(200, OCSP).end(Buffer.alloc(4096, 7)));
    client = new OcspClient({ responderAllow: LOOPBACK, maxBodyBytes: 4096 });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });

    expect(result.ok && result.response.body.length).toBe(4096);
  });
});
