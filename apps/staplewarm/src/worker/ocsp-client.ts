import { OcspClient } from '@staplewarm/fetch';
import type { Config } from '../config.js';

/** An OCSP client with a connection for every job in flight, so concurrency is never capped by the pool. */
export function ocspClientFor(config: Pick<Config, 'concurrency' | 'connectTimeoutMs' | 'responseTimeoutMs'>): OcspClient {
  return new OcspClient({
    connectTimeoutMs: config.connectTimeoutMs,
    responseTimeoutMs: config.responseTimeoutMs,
    connectionsPerOrigin: config.concurrency,
  });
}
