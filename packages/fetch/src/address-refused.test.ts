import type { LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressPolicy, RESPONDER_ALLOW_SETTING } from './address-policy.js';
import { OcspClient } from './client.js';
import { policyConnector, policyLookup, type ResolveAll } from './connector.js';
import { AddressRefusedError } from './errors.js';
import { type LocalServer, LOOPBACK, requestBytes, startServer } from './testing/local-server.js';

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('the address policy on real connections', () => {
  let server: LocalServer;
  let client: OcspClient | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await server.close();
  });

  it('refuses a name resolving to loopback (localhost) by default: no connection, a non-retryable address-refused', async () => {
    server = await startServer();
    client = new OcspClient();
    const url = `http://localhost:${server.port}/`;
    const result = await client.fetch({ urls: [url], der: requestBytes(83) });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'address-refused', url, host: `localhost:${server.port}`, retryable: false });
    expect(result.error.message).toBe(
      `${url}: localhost resolves to 127.0.0.1 (loopback), refused by the responder address policy; to allow it: ${RESPONDER_ALLOW_SETTING}`,
    );
    expect(occurrences(result.error.message, '--responder-allow')).toBe(1);
    expect(occurrences(result.error.message, 'STAPLEWARM_RESPONDER_ALLOW')).toBe(1);
    expect(result.attempts).toHaveLength(1);
    expect(server.connections()).toBe(0);
  });

  it('refuses IP literals, IPv4-mapped ones included, without a connection', async () => {
    server = await startServer();
    client = new OcspClient();
    for (const [host, shown] of [
      ['127.0.0.1', '127.0.0.1 (loopback)'],
      ['[::ffff:127.0.0.1]', '::ffff:7f00:1 (loopback)'],
      ['[::1]', '::1 (loopback)'],
      ['169.254.169.254', '169.254.169.254 (link-local)'],
      ['0.0.0.0', '0.0.0.0 (unspecified)'],
    ]) {
      const url = `http://${host}:${server.port}/`;
      const result = await client.fetch({ urls: [url], der: requestBytes(83) });
      expect(!result.ok && result.error.code, url).toBe('address-refused');
      expect(!result.ok && result.error.message, url).toContain(`: ${shown} is refused by the responder address policy`);
    }
    expect(server.connections()).toBe(0);
  });

  it('connects once the allow-list covers the address or names the host', async () => {
    server = await startServer();
    for (const responderAllow of [LOOPBACK, ['localhost']]) {
      client = new OcspClient({ responderAllow });
      const result = await client.fetch({ urls: [`http://localhost:${server.port}/`], der: requestBytes(83) });
      expect(result.ok, responderAllow.join()).toBe(true);
      await client.close();
    }
    client = undefined;
    expect(server.connections()).toBe(2);
  });

  it('fails over from a refused URL to an allowed one', async () => {
    server = await startServer();
    client = new OcspClient({ responderAllow: ['127.0.0.2'] });
    const refused = `http://127.0.0.1:${server.port}/`;
    const result = await client.fetch({ urls: [refused, server.origin.replace('127.0.0.1', '127.0.0.2')], der: requestBytes(83) });
    // 127.0.0.2 is another loopback address the server does not listen on: refused by the kernel, not the policy.
    expect(result.attempts.map((a) => a.code)).toEqual(['address-refused', 'connect']);
    expect(server.connections()).toBe(0);
  });

  it('the connector itself refuses a literal host before opening a socket', async () => {
    server = await startServer();
    const connect = policyConnector(new AddressPolicy(), 1_000);
    const error = await new Promise<Error | null>((resolve) =>
      connect({ hostname: '127.0.0.1', protocol: 'http:', port: String(server.port) }, (...args) => {
        args[1]?.destroy();
        resolve(args[0]);
      }),
    );
    expect(error).toBeInstanceOf(AddressRefusedError);
    expect((error as AddressRefusedError).address).toBe('127.0.0.1');
    expect(server.connections()).toBe(0);
  });
});

describe('policyLookup', () => {
  /** A resolver answering from a script, one answer per call (the last repeats). */
  function scripted(...answers: string[][]): { resolve: ResolveAll; calls: number } {
    const state = { calls: 0, resolve: undefined as unknown as ResolveAll };
    state.resolve = (_hostname, _options, callback) => {
      const answer = answers[Math.min(state.calls++, answers.length - 1)] ?? [];
      callback(
        null,
        answer.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    };
    return state;
  }

  function lookup(resolve: ResolveAll, all: boolean, policy = new AddressPolicy()) {
    return new Promise<{ err: Error | null; address: unknown; family?: number }>((done) =>
      policyLookup(policy, resolve)('ocsp.example.test', all ? { all: true } : {}, (err, address, family) =>
        done({ err, address, family }),
      ),
    );
  }

  it('checks every resolved address and hands out only the allowed ones', async () => {
    const { resolve } = scripted(['127.0.0.1', '93.184.215.14', '10.0.0.1', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    expect((await lookup(resolve, true)).address).toEqual([
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ]);
    expect(await lookup(resolve, false)).toEqual({ err: null, address: '93.184.215.14', family: 4 });
  });

  it('refuses when no resolved address is allowed, naming the first', async () => {
    const { resolve } = scripted(['169.254.169.254', '::1']);
    const { err } = await lookup(resolve, true);
    expect(err).toBeInstanceOf(AddressRefusedError);
    expect(err?.message).toMatch(/^ocsp\.example\.test resolves to 169\.254\.169\.254 \(link-local\), refused/);
  });

  it('judges each lookup anew, so a name rebound to a private address is refused on the next connection', async () => {
    const { resolve } = scripted(['93.184.215.14'], ['127.0.0.1']);
    expect((await lookup(resolve, false)).address).toBe('93.184.215.14');
    expect((await lookup(resolve, false)).err).toBeInstanceOf(AddressRefusedError);
  });

  it('lets an allowed host name resolve to anything', async () => {
    const { resolve } = scripted(['10.0.0.7']);
    expect((await lookup(resolve, false, new AddressPolicy(['ocsp.example.test']))).address).toBe('10.0.0.7');
  });
});
