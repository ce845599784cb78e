/**
 * The relay's HTTP side (node:http): RFC 6960 appendix A / RFC 5019 section 5 transport. GET and
 * HEAD with the request in the path, POST with `application/ocsp-request`; HTTP/1.0 and 1.1.
 * node:http closes an HTTP/1.0 connection after the response (`Connection: close`) unless the
 * client asked for keep-alive, which nginx relies on (it reads the answer to EOF), and keeps
 * HTTP/1.1 connections open. Nothing here opens a connection anywhere: the Host header and an
 * absolute-form request-target are never used as a destination.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { MAX_OCSP_REQUEST_BYTES } from '@staplewarm/ocsp';
import { RelayError } from './errors.js';
import { notModified, stapleHeaders } from './http-headers.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';
import { silentRelayLogger, silentRelayObserver, type RelayLogger, type RelayObserver, type RelayResult } from './ports.js';
import type { OcspRelay, RelayAnswer } from './relay.js';

export interface RelayServerOptions {
  listen: ListenAddress;
  observer?: RelayObserver;
  log?: RelayLogger;
  /** The clock for Cache-Control, epoch ms. @defaultValue Date.now */
  now?: () => number;
  /** How long `close()` lets requests in progress finish before it drops their connections, ms. @defaultValue 5000 */
  closeGraceMs?: number;
}

export interface RelayServer {
  /** `http://host:port/`: what goes into `ssl_stapling_responder` or `SSLStaplingForceURL`. */
  readonly url: string;
  /** The bound address (the real port when 0 was asked). */
  readonly address: ListenAddress;
  /** Stops accepting, ends waits for fetches (503), lets answers in progress finish, closes every connection. */
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';
/** Fixed bodies: a 503 never carries an internal message (an error could name a Redis URL). */
const UNAVAILABLE_BODY: Readonly<Record<'unavailable' | 'unknown_certificate' | 'error', Buffer>> = {
  unavailable: Buffer.from('no staple for this certificate yet; a fetch is queued, retry later\n'),
  unknown_certificate: Buffer.from('this certificate is not known yet; retry later\n'),
  error: Buffer.from('the relay cannot read its store right now; retry later\n'),
};

/** Serves `relay` over HTTP until `close()`. @throws RelayError `listen-failed` */
export async function startRelayServer(relay: OcspRelay, options: RelayServerOptions): Promise<RelayServer> {
  const observer = options.observer ?? silentRelayObserver;
  const log = options.log ?? silentRelayLogger;
  const now = options.now ?? Date.now;
  const maxAge = relay.options.maxAgeSeconds;

  let stopping = false;
  const server = createServer((req, res) => {
    const started = performance.now();
    const done = (result: RelayResult): void => observer.answered(result, (performance.now() - started) / 1000);
    handle(req, res, { relay, now, maxAge, log, stopping: () => stopping })
      .then(done)
      .catch((err: unknown) => {
        log.error({ err }, 'relay: request failed');
        if (!res.headersSent) plain(res, 503, UNAVAILABLE_BODY.error, { 'Retry-After': String(relay.options.retryAfterSeconds) });
        else res.destroy();
        done('error');
      });
  });
  // A stalled client holds a socket for at most this long; keep-alive connections idle out sooner.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // A client that went away (a load generator stopping, a server restarting) sent no request.
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // Unparsable HTTP: 400 and close, as node:http would, but counted.
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    observer.answered('http_error', 0);
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void =>
      reject(new RelayError('listen-failed', `cannot listen on ${formatListenAddress(options.listen)}: ${err.message}`, { cause: err }));
    server.once('error', failed);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const bound = { host: options.listen.host, port: (server.address() as AddressInfo).port };
  let closing: Promise<void> | undefined;
  return {
    url: `http://${formatListenAddress(bound)}/`,
    address: bound,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        stopping = true;
        server.close(() => resolve());
        relay.close();
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), options.closeGraceMs ?? 5_000).unref();
      })),
  };
}

interface HandleContext {
  relay: OcspRelay;
  now: () => number;
  maxAge: number;
  log: RelayLogger;
  /** True once close() began: answers then end their connection, so close() does not wait out keep-alive. */
  stopping: () => boolean;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: HandleContext): Promise<RelayResult> {
  const method = req.method ?? '';
  if (method === 'GET' || method === 'HEAD') {
    return send(req, res, await ctx.relay.answer({ method: 'GET', target: req.url ?? '/' }), ctx);
  }
  if (method === 'POST') {
    const body = await readBody(req);
    if (body === undefined) {
      // Close: the rest of an oversized body is not read.
      plain(res, 413, Buffer.from(`an OCSP request is at most ${MAX_OCSP_REQUEST_BYTES} bytes\n`), { Connection: 'close' });
      return 'http_error';
    }
    return send(req, res, await ctx.relay.answer({ method: 'POST', body }), ctx);
  }
  plain(res, 405, Buffer.from('OCSP requests are GET or POST\n'), { Allow: 'GET, HEAD, POST' });
  return 'http_error';
}

/** The body, or undefined as soon as it is declared or found to be longer than any OCSP request. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_OCSP_REQUEST_BYTES) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_OCSP_REQUEST_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
      } else {
        chunks.push(chunk);
      }
    });
    req.once('end', () => resolve(Buffer.concat(chunks, length)));
    req.once('error', reject);
  });
}

function send(req: IncomingMessage, res: ServerResponse, answer: RelayAnswer, ctx: HandleContext): RelayResult {
  const head = req.method === 'HEAD';
  if (ctx.stopping()) res.setHeader('Connection', 'close');
  switch (answer.kind) {
    case 'staple': {
      const { entry } = answer;
      const headers = stapleHeaders(entry, ctx.now(), ctx.maxAge);
      if (req.method !== 'POST') {
        const conditional = conditionalHeaders(req);
        if (conditional && notModified(entry, conditional.ifNoneMatch, conditional.ifModifiedSince)) {
          res.writeHead(304, headers);
          res.end();
          return 'not_modified';
        }
      }
      headers['Content-Length'] = String(entry.der.length);
      res.writeHead(200, headers);
      res.end(head ? undefined : entry.der);
      return answer.result;
    }
    case 'ocsp-status':
      // RFC 6960 A.1: an unsuccessful OCSP status is still an HTTP 200 with an OCSP body.
      res.writeHead(200, { 'Content-Type': 'application/ocsp-response', 'Content-Length': answer.der.length, 'Cache-Control': 'no-store' });
      res.end(head ? undefined : answer.der);
      return answer.result;
    case 'unavailable':
      // Never a tryLater body: a server could staple it. A 503 keeps the server's previous staple.
      plain(res, 503, UNAVAILABLE_BODY[answer.result], { 'Retry-After': String(answer.retryAfterSeconds) }, head);
      return answer.result;
  }
}

function plain(res: ServerResponse, status: number, body: Buffer, extra: Record<string, string> = {}, head = false): void {
  res.writeHead(status, { 'Content-Type': TEXT, 'Content-Length': body.length, 'Cache-Control': 'no-store', ...extra });
  res.end(head ? undefined : body);
}

/**
 * If-None-Match and If-Modified-Since, or undefined when the request has neither (servers never send
 * them). Read from rawHeaders: `req.headers` is built lazily, a cost every request would pay.
 */
function conditionalHeaders(req: IncomingMessage): { ifNoneMatch?: string; ifModifiedSince?: string } | undefined {
  let found: { ifNoneMatch?: string; ifModifiedSince?: string } | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 13 && name.length !== 17) continue;
    const lower = name.toLowerCase();
    const value = raw[i + 1] as string;
    if (lower === 'if-none-match') {
      found ??= {};
      found.ifNoneMatch = found.ifNoneMatch === undefined ? value : `${found.ifNoneMatch}, ${value}`;
    } else if (lower === 'if-modified-since') {
      found ??= {};
      found.ifModifiedSince = value;
    }
  }
  return found;
}
