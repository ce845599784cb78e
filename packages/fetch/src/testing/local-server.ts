/**
 * Test helper (excluded from the build): a real node:http server on 127.0.0.1 that records what it
 * receives and counts TCP connections, so tests can check methods, paths, bodies and socket reuse.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void;

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * The allow-list these tests need: their servers listen on 127.0.0.1, which the address policy
 * refuses by default.
 */
export const LOOPBACK: readonly string[] = ['127.0.0.0/8'];

/** A stand-in OCSP response body: the client never parses it, so any bytes do. */
export const FAKE_RESPONSE = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x00]);

/** Answers 200 with FAKE_RESPONSE as application/ocsp-response. */
export const okHandler: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/ocsp-response' });
  res.end(FAKE_RESPONSE);
};

export async function startServer(handler: Handler = okHandler): Promise<LocalServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(recorded);
      handler(recorded, res);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A DER-like request of `length` bytes (83 is a typical RFC 5019 request). Its base64 contains '+', '/'
 * and, for lengths that are not multiples of 3, '=' (all must be escaped), like real requests do a few times.
 */
export function requestBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) bytes[i] = (i * 37 + 11) & 0x7f;
  bytes.set([0xfb, 0xff, 0xbf].slice(0, length));
  return bytes;
}
