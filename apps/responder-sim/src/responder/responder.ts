/** startResponder: the simulated OCSP responder over HTTP, started from a generated PKI directory. */
import { createServer } from 'node:http';
import { setImmediate as yieldNow } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { SimError } from '../errors.js';
import type { CertIdHash } from './cert-id.js';
import { CONTROL_PREFIX, handleControl } from './control.js';
import type { Faults } from './faults.js';
import { loadResponderPki, type SignerKind } from './load-pki.js';
import { RequestIndex } from './request-index.js';
import { ResponseBook } from './response-book.js';
import { Simulator } from './simulator.js';
import type { ResponderStats } from './stats.js';

export interface StartResponderOptions {
  /** Directory written by generatePki. */
  pkiDir: string;
  /** @defaultValue 0 (a random free port) */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** Origin rate limit in requests/s (token bucket); beyond it, HTTP 429. @defaultValue 0 (unlimited) */
  rate?: number;
  /** Bucket size. @defaultValue a tenth of a second's worth of `rate` (at least 1), so bursts stay small */
  burst?: number;
  /** Retry-After seconds sent with 429, or false to omit the header. @defaultValue 1 */
  retryAfter?: number | false;
  /** Delay before every OCSP answer. @defaultValue 0 */
  latencyMs?: number;
  /** Who signs responses. @defaultValue 'delegated' when the PKI has a delegated signer, else 'issuer' */
  signer?: SignerKind;
  /** thisUpdate = now - 1 min, nextUpdate = thisUpdate + validity. @defaultValue 168 (7 days) */
  validityHours?: number;
  /** Fault switches armed from the start. */
  faults?: Faults;
  /**
   * Sign every leaf's response before listening (true = SHA-1 CertIDs, the RFC 5019 profile), so even
   * first requests are served from the cache. Otherwise responses are signed on first request.
   * About 25,000 signatures/s per core with ECDSA P-256. @defaultValue false
   */
  presign?: boolean | readonly CertIdHash[];
}

export interface Responder {
  /** Base URL, e.g. `http://127.0.0.1:41234/`: the OCSP URL to put in certificates or to request. */
  readonly url: string;
  readonly port: number;
  stats(): ResponderStats;
  /** Replaces every fault switch (`{}` clears them). Throws SimError `bad-option` on invalid input. */
  setFaults(faults: Faults): void;
  faults(): Faults;
  /** Replaces the set of revoked serials (hex, as in the manifest). Throws `bad-option` for unknown serials. */
  setRevoked(serials: readonly string[]): void;
  /** Stops listening, ends open connections (hung requests included). */
  close(): Promise<void>;
}

function check(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= min)) {
    throw new SimError('bad-option', `${name} must be a number >= ${min}, got ${value}`);
  }
}

export async function startResponder(opts: StartResponderOptions): Promise<Responder> {
  check('port', opts.port, 0);
  check('rate', opts.rate, 0);
  check('burst', opts.burst, 1);
  check('latencyMs', opts.latencyMs, 0);
  check('validityHours', opts.validityHours, 0.01);
  if (opts.retryAfter !== undefined && opts.retryAfter !== false) check('retryAfter', opts.retryAfter, 0);
  const presign = opts.presign === true ? ['sha1' as const] : opts.presign || [];
  if (!presign.every((hash) => hash === 'sha1' || hash === 'sha256')) {
    throw new SimError('bad-option', `presign expects true or a list of 'sha1' | 'sha256'`);
  }

  const host = opts.host ?? '127.0.0.1';
  const rate = opts.rate ?? 0;
  const now = new Date();
  const pki = await loadResponderPki(opts.pkiDir, opts.signer, now);
  const book = new ResponseBook(pki, (opts.validityHours ?? 168) * 3_600_000);
  const index = new RequestIndex(book, Math.max(10_000, 4 * pki.manifest.leaves.length));
  const simulator = new Simulator(book, index, {
    rate,
    burst: opts.burst ?? Math.max(1, Math.ceil(rate / 10)),
    retryAfter: opts.retryAfter ?? 1,
    latencyMs: opts.latencyMs ?? 0,
  });
  if (opts.faults) simulator.faults.set(opts.faults);
  await book.presign(presign, Date.now, () => yieldNow());

  const control = {
    stats: () => simulator.stats(),
    faults: () => simulator.faults.get(),
    setFaults: (faults: unknown) => simulator.faults.set(faults),
    setRevoked: (serials: readonly string[]) => book.setRevoked(serials, Date.now()),
    revoked: () => book.revokedSerials(),
    issuerDer: pki.issuerDer,
  };
  const server = createServer((req, res) => {
    if (req.url?.startsWith(CONTROL_PREFIX)) handleControl(req, res, control);
    else simulator.handle(req, res);
  });
  // Load generators keep connections open between bursts; 5 s (the default) would churn sockets.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new SimError('bad-option', `cannot listen on ${host}:${opts.port ?? 0}`, { cause })));
    server.listen(opts.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}/`,
    port,
    stats: control.stats,
    setFaults: (faults) => simulator.faults.set(faults),
    faults: () => simulator.faults.get(),
    setRevoked: control.setRevoked,
    close: () =>
      new Promise<void>((resolve) => {
        simulator.releaseHanging();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
