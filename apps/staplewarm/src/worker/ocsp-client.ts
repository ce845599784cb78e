import { OcspClient } from '@staplewarm/fetch';
import type { Config } from '../config.js';
import { USER_AGENT } from '../version.js';

/**
 * The OCSP client of every command that fetches (worker, serve, warm): a connection for every job in
 * flight, so concurrency is never capped by the pool, and the responder address policy opened by
 * `--responder-allow` / STAPLEWARM_RESPONDER_ALLOW only.
 */
export function ocspClientFor(
  config: Pick<Config, 'concurrency' | 'connectTimeoutMs' | 'responseTimeoutMs' | 'responderAllow'>,
): OcspClient {
  return new OcspClient({
    connectTimeoutMs: config.connectTimeoutMs,
    responseTimeoutMs: config.responseTimeoutMs,
    connectionsPerOrigin: config.concurrency,
    responderAllow: config.responderAllow,
    userAgent: USER_AGENT,
  });
}
