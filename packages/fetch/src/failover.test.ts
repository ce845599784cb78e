import { afterEach, describe, expect, it } from 'vitest';
import { OcspClient } from './client.js';
import { closedPort, FAKE_RESPONSE, type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

describe("failover across a certificate's OCSP URLs", () => {
  const servers: LocalServer[] = [];
  let client: OcspClient;
  afterEach(async () => {
    await client.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function server(status: number, headers: Record<string, string> = {}): Promise<LocalServer> {
    const s = await startServer((_req, res) =>
      res.writeHead(status, { 'content-type': 'application/ocsp-response', ...headers }).end(FAKE_RESPONSE),
    );
    servers.push(s);
    return s;
  }

  it('moves to the second URL when the first refuses connections', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const live = await server(200);
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [dead, live.origin], der: requestBytes(83) });

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.response.url).toBe(live.origin);
    expect(result.attempts.map((a) => [a.code, a.url])).toEqual([['connect', dead]]);
  });

  it('moves on after a 429 from the first host', async () => {
    const limited = await server(429, { 'retry-after': '3' });
    const live = await server(200);
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [limited.origin, live.origin], der: requestBytes(83) });

    expect(result.ok && result.response.url).toBe(live.origin);
    expect(result.attempts.map((a) => a.code)).toEqual(['rate-limited']);
  });

  it('skips non-http URLs as bad-url', async () => {
    const live = await server(200);
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: ['ldap://ca.test/ocsp', live.origin], der: requestBytes(83) });

    expect(result.ok).toBe(true);
    expect(result.attempts.map((a) => [a.code, a.url])).toEqual([['bad-url', 'ldap://ca.test/ocsp']]);
  });

  it("reports the primary URL's error when every URL fails, with every attempt", async () => {
    const first = await server(503);
    const second = await server(429);
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [first.origin, second.origin], der: requestBytes(83) });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'http-status', status: 503, url: first.origin });
    expect(result.attempts.map((a) => a.code)).toEqual(['http-status', 'rate-limited']);
  });

  it('tries at most maxUrls (4) of the URLs: the rest are ignored', async () => {
    const dead = await Promise.all(Array.from({ length: 5 }, async () => `http://127.0.0.1:${await closedPort()}/`));
    const live = await server(200);
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [...dead.slice(0, 3), live.origin, dead[3]!, dead[4]!], der: requestBytes(83) });
    expect(result.ok && result.response.url).toBe(live.origin);

    const urls = Array.from({ length: 100 }, (_, i) => `${live.origin}/${i}`);
    const failing = await client.fetch({ urls: [...dead, ...urls], der: requestBytes(83) });
    expect(failing.ok).toBe(false);
    expect(failing.attempts.map((a) => a.url)).toEqual(dead.slice(0, 4));
    expect(live.requests).toHaveLength(1);
  });

  it('fails with bad-url when there is no URL at all', async () => {
    client = new OcspClient({ responderAllow: LOOPBACK });
    const result = await client.fetch({ urls: [], der: requestBytes(83) });

    expect(!result.ok && result.error.code).toBe('bad-url');
  });
});
