/**
 * The HTTP side against raw sockets and fetch: what nginx (HTTP/1.0, reads to EOF), Apache (POST,
 * HTTP/1.0) and HTTP/1.1 clients (keep-alive) see.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RelayResult } from './ports.js';
import { OcspRelay } from './relay.js';
import { startRelayServer, type RelayServer } from './server.js';
import { FakeFetcher, FakeSource, NOW, nginxPath, relayPki, requestFor, signedResponse, type RelayPki } from './testing/fixtures.js';

let p: RelayPki;
let der: Buffer;
let source: FakeSource;
let relay: OcspRelay;
let server: RelayServer;
let results: { result: RelayResult; seconds: number }[];

beforeAll(() => {
  p = relayPki();
  der = signedResponse(p, p.leaf, { thisUpdate: NOW - 3_600_000, nextUpdate: NOW + 7 * 86_400_000 });
});

beforeEach(async () => {
  source = new FakeSource();
  source.addIssuer(p);
  source.addCertificate(p, p.leaf);
  source.setStaple(p, p.leaf, der);
  source.addCertificate(p, p.other); // known, never stapled: a miss
  results = [];
  relay = new OcspRelay({ source, fetcher: new FakeFetcher(), certIdHash: 'sha1', now: () => NOW }, { missWaitMs: 5_000 });
  server = await startRelayServer(relay, {
    listen: { host: '127.0.0.1', port: 0 },
    now: () => NOW,
    observer: { answered: (result, seconds) => results.push({ result, seconds }), fetchRequested: () => {} },
  });
});

afterEach(() => server.close());

interface RawResponse {
  head: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Parses every complete HTTP response in `data` (Content-Length framed). */
function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end === -1) break;
    const head = data.subarray(at, end).toString('latin1');
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length'] ?? 0);
    out.push({ head, status: Number(statusLine.split(' ')[1]), headers, body: data.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return out;
}

/** Sends raw bytes on one connection; resolves with everything read once the server closes it (or after `waitMs`). */
async function raw(requests: string | Buffer, waitMs = 1_500): Promise<{ responses: RawResponse[]; closedByServer: boolean }> {
  const socket = net.connect(server.address.port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(requests);
  const closedByServer = await Promise.race([
    once(socket, 'end').then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), waitMs)),
  ]);
  socket.destroy();
  return { responses: parseResponses(Buffer.concat(chunks)), closedByServer };
}

const path = (): string => nginxPath(requestFor(p, p.leaf));

describe('relay HTTP server', () => {
  it("answers nginx's HTTP/1.0 GET with the staple and RFC 5019 headers, then closes the connection (nginx reads to EOF)", async () => {
    const { responses, closedByServer } = await raw(`GET ${path()} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(closedByServer).toBe(true);
    expect(responses).toHaveLength(1);
    const [response] = responses;
    expect(response?.status).toBe(200);
    expect(response?.body).toEqual(der);
    expect(response?.headers).toMatchObject({
      'content-type': 'application/ocsp-response',
      'content-length': String(der.length),
      connection: 'close',
      'last-modified': new Date(NOW - 3_600_000).toUTCString(),
      expires: new Date(NOW + 7 * 86_400_000).toUTCString(),
      'cache-control': 'max-age=3600, public, no-transform, must-revalidate',
    });
    expect(response?.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('keeps an HTTP/1.1 connection open for the next request', async () => {
    const request = `GET ${path()} HTTP/1.1\r\nHost: relay\r\n\r\n`;
    const { responses, closedByServer } = await raw(request + request, 500);
    expect(closedByServer).toBe(false);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(responses[1]?.body).toEqual(der);
  });

  it('keeps an HTTP/1.0 connection open when the client asks for keep-alive', async () => {
    const { responses, closedByServer } = await raw(`GET ${path()} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`, 500);
    expect(closedByServer).toBe(false);
    expect(responses[0]?.headers.connection).toBe('keep-alive');
  });

  it("answers Apache's HTTP/1.0 POST of application/ocsp-request", async () => {
    const body = requestFor(p, p.leaf);
    const head = `POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { responses, closedByServer } = await raw(Buffer.concat([Buffer.from(head), body]));
    expect(closedByServer).toBe(true);
    expect(responses[0]?.status).toBe(200);
    expect(responses[0]?.body).toEqual(der);
  });

  it('answers HEAD with the headers only, and a conditional GET with 304', async () => {
    const head = await fetch(`${server.url}${path().slice(1)}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(der.length));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const etag = head.headers.get('etag') ?? '';
    const conditional = await fetch(`${server.url}${path().slice(1)}`, { headers: { 'If-None-Match': etag } });
    expect(conditional.status).toBe(304);
    expect(conditional.headers.get('etag')).toBe(etag);
    const since = await fetch(`${server.url}${path().slice(1)}`, { headers: { 'If-Modified-Since': new Date(NOW).toUTCString() } });
    expect(since.status).toBe(304);
    const older = await fetch(`${server.url}${path().slice(1)}`, {
      headers: { 'If-Modified-Since': new Date(NOW - 86_400_000).toUTCString() },
    });
    expect(older.status).toBe(200);
    expect(results.map((r) => r.result)).toEqual(['redis', 'not_modified', 'not_modified', 'memory']);
  });

  it('refuses other methods with 405 and an Allow header', async () => {
    const response = await fetch(server.url, { method: 'PUT', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(results.map((r) => r.result)).toEqual(['http_error']);
  });

  it('refuses a body longer than any OCSP request with 413 and closes, declared or chunked', async () => {
    const declared = await raw(`POST / HTTP/1.1\r\nHost: r\r\nContent-Length: 100000\r\n\r\n`);
    expect(declared.responses[0]?.status).toBe(413);
    expect(declared.closedByServer).toBe(true);
    const chunk = 'A'.repeat(9_000);
    const chunked = await raw(
      `POST / HTTP/1.1\r\nHost: r\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
    );
    expect(chunked.responses[0]?.status).toBe(413);
  });

  it('answers an unknown issuer with an OCSP unauthorized body in HTTP 200, never cached', async () => {
    const stranger = relayPki();
    const response = await fetch(`${server.url}${nginxPath(requestFor(stranger, stranger.leaf)).slice(1)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/ocsp-response');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x06]));
  });

  it('answers a store failure with 503 and Retry-After, and a body that tells nothing about the failure', async () => {
    source.failure = new Error('connect ECONNREFUSED redis://:secret@10.0.0.1:6379');
    const response = await fetch(`${server.url}${path().slice(1)}`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('10');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).not.toMatch(/secret|redis|ECONN/);
  });

  it('answers 400 to bytes that are not HTTP, and counts it', async () => {
    const { responses } = await raw('\x16\x03\x01 not http\r\n\r\n');
    expect(responses[0]?.status).toBe(400);
    expect(results.map((r) => r.result)).toEqual(['http_error']);
  });

  it('on close, answers a request waiting for a fetch with 503 at once and stops listening', async () => {
    const waiting = fetch(`${server.url}${nginxPath(requestFor(p, p.other)).slice(1)}`);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await server.close();
    const response = await waiting;
    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it('reports every answer with its duration', async () => {
    await fetch(`${server.url}${path().slice(1)}`);
    await fetch(`${server.url}${path().slice(1)}`);
    expect(results.map((r) => r.result)).toEqual(['redis', 'memory']);
    for (const { seconds } of results) expect(seconds).toBeGreaterThan(0);
  });
});
