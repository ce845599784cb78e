import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

describe('429 Too Many Requests', () => {
  let server: LocalServer;
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  async function fetch429(headers: Record<string, string>) {
    server = await startServer((_req, res) => res.writeHead(429, headers).end('slow down'));
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [server.origin], der: requestBytes(83) });
    expect(result.ok).toBe(false);
    if (result.ok) throw new Error('unreachable');
    return result.error;
  }

  it('is rate-limited with retryAfterMs from delta-seconds', async () => {
    const error = await fetch429({ 'retry-after': '7' });
    expect(error).toMatchObject({ code: 'rate-limited', status: 429, retryAfterMs: 7000, retryable: true });
    expect(error.host).toBe(`127.0.0.1:${server.port}`);
  });

  it('is rate-limited with retryAfterMs from an HTTP-date', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
    const error = await fetch429({ 'retry-after': at.toUTCString() });
    expect(error.code).toBe('rate-limited');
    // Whole seconds in the header; the test itself takes a little time.
    expect(error.retryAfterMs).toBeGreaterThan(55_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(61_000);
  });

  it('is rate-limited without retryAfterMs when there is no Retry-After', async () => {
    const error = await fetch429({});
    expect(error.code).toBe('rate-limited');
    expect(error.retryAfterMs).toBeUndefined();
  });
});
