import { isIP } from 'node:net';
import { RelayError } from './errors.js';

export { RelayError, isRelayError } from './errors.js';

/** Where the relay listens. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** `--listen` default: only this host can ask until the operator says otherwise. */
export const DEFAULT_LISTEN = '127.0.0.1:8080';

/**
 * Parses `HOST:PORT`: an IPv4 address or host name, or an IPv6 address in brackets (`[::1]:8080`).
 * Port 0 picks a free port (tests).
 * @throws RelayError `invalid-listen`
 */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/.exec(text.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || host === undefined || !Number.isInteger(port) || port > 65_535) {
    throw new RelayError('invalid-listen', `expected HOST:PORT (or [IPv6]:PORT), got ${JSON.stringify(text.slice(0, 100))}`);
  }
  if (match[1] !== undefined && isIP(host) !== 6) throw new RelayError('invalid-listen', `${host} is not an IPv6 address`);
  return { host, port };
}

/** `host:port` for messages and URLs, brackets around IPv6. */
export function formatListenAddress({ host, port }: ListenAddress): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
