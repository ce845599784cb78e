// A TCP proxy in front of the tests' Redis, so a test sees exactly what one nginx sends (MONITOR
// would also show every other test sharing that Redis): it counts connections, keeps the bytes
// nginx sends, and can delay every reply, so lookups overlap as they do when Redis is busy or far.
import { once } from 'node:events';
import net, { type Socket } from 'node:net';

export interface RedisProxy {
  port: number;
  /** Connections opened to Redis through the proxy, ever. */
  readonly opened: number;
  /** The most connections open at one time. */
  readonly peak: number;
  /** Everything nginx sent since the last clearSent(), as latin1 text (RESP is mostly ASCII). */
  sent(): string;
  clearSent(): void;
  stop(): Promise<void>;
}

export async function startRedisProxy(redisPort: number, latencyMs = 0): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let opened = 0;
  let open = 0;
  let peak = 0;
  let sent: Buffer[] = [];
  const server = net.createServer((client) => {
    opened++;
    peak = Math.max(peak, ++open);
    const upstream = net.connect(redisPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.once('close', () => open--);
    client.on('data', (chunk: Buffer) => {
      sent.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (latencyMs > 0) setTimeout(() => client.write(chunk), latencyMs);
      else client.write(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get opened() {
      return opened;
    },
    get peak() {
      return peak;
    },
    sent: () => Buffer.concat(sent).toString('latin1'),
    clearSent: () => {
      sent = [];
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
