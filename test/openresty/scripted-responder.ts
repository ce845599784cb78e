// A TCP listener standing in for an OCSP responder, for what a real one will not do: it counts
// every connection (so a test can prove nginx never connected), keeps the raw requests, and answers
// each request with whatever bytes the test scripted (a valid response behind hostile headers, a
// huge body, or nothing at all).
import { once } from 'node:events';
import net, { type Socket } from 'node:net';

/** What to send back once a whole request (header + Content-Length body) has arrived. */
export type Reply = Buffer | 'hang';

export interface ScriptedResponder {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Each request as received, byte for byte. */
  readonly requests: Buffer[];
  /** The reply to every following request (default: 'hang'). */
  reply(reply: Reply): void;
  stop(): Promise<void>;
}

/** An HTTP/1.0 reply: status line, `headers` as given, the body. */
export function httpReply(body: Buffer, headers: string[] = [], status = '200 OK'): Buffer {
  const head = [`HTTP/1.0 ${status}`, 'Content-Type: application/ocsp-response', ...headers].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]);
}

function requestComplete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(data.subarray(0, end).toString('latin1'));
  return data.length >= end + 4 + Number(length?.[1] ?? 0);
}

export async function startScriptedResponder(): Promise<ScriptedResponder> {
  const sockets = new Set<Socket>();
  const requests: Buffer[] = [];
  let connections = 0;
  let current: Reply = 'hang';
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let data = Buffer.alloc(0);
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (answered || !requestComplete(data)) return;
      answered = true;
      requests.push(data);
      const reply = current;
      if (reply !== 'hang') socket.end(reply);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    requests,
    reply: (reply) => {
      current = reply;
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
