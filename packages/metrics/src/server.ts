import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { MetricsError } from './errors.js';
import { DEFAULT_METRICS_HOST } from './names.js';

/** What the server exposes: StaplewarmMetrics, RelayMetrics, or anything with an exposition. */
export interface MetricsSource {
  /** Content-Type of `text()`. */
  readonly contentType: string;
  text(): Promise<string>;
}

export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one (tests). The CLI default is DEFAULT_METRICS_PORT (9464). */
  port: number;
  /**
   * Address to bind. Metrics stay on the host unless the operator says otherwise
   * (`0.0.0.0` in a container scraped by Prometheus).
   * @defaultValue '127.0.0.1'
   */
  host?: string;
}

export interface MetricsServer {
  /** e.g. `http://127.0.0.1:9464/metrics` */
  readonly url: string;
  readonly host: string;
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** Stops listening and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (the exposition) and `GET /healthz` (`ok`); anything else is 404
 * (405 for other methods on those paths). Rejects with `listen-failed` when the port is taken.
 */
export async function startMetricsServer(metrics: MetricsSource, options: MetricsServerOptions): Promise<MetricsServer> {
  const { port, host = DEFAULT_METRICS_HOST } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new MetricsError('invalid-port', `metrics port must be an integer 0..65535, got ${port}`);
  }
  const server = createServer((req, res) => {
    void handle(metrics, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      reject(new MetricsError('listen-failed', `cannot serve metrics on ${host}:${port}: ${err.message}`, { cause: err }));
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${bound}/metrics`,
    host,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Prometheus keeps its scrape connection open; without this, close() waits for it.
        server.closeAllConnections();
      }),
  };
}

async function handle(metrics: MetricsSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path !== '/metrics' && path !== '/healthz') {
    reply(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  if (path === '/healthz') {
    reply(res, 200, 'text/plain; charset=utf-8', 'ok\n', req.method === 'HEAD');
    return;
  }
  try {
    reply(res, 200, metrics.contentType, await metrics.text(), req.method === 'HEAD');
  } catch (err) {
    // A broken collector must not take the process down; the scrape fails and `up` stays 1.
    reply(res, 500, 'text/plain; charset=utf-8', `metrics collection failed: ${String(err)}\n`);
  }
}

function reply(res: ServerResponse, status: number, contentType: string, body: string, headOnly = false): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}
