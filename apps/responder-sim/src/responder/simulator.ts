/**
 * The request path of the simulated responder: rate limit, fault switches, then the (cached) answer.
 * Control endpoints under /_sim/ live in control.ts.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { FaultPlan, RESPONSE_FAULTS, TRANSPORT_FAULTS, type FaultName } from './faults.js';
import { statusOnlyResponse, type UnsuccessfulStatus } from './ocsp-response.js';
import type { RequestIndex, Resolution } from './request-index.js';
import type { ResponseBook } from './response-book.js';
import { emptyStats, RateMeter, type Outcome, type ResponderStats } from './stats.js';
import { TokenBucket } from './token-bucket.js';

const OCSP_RESPONSE = 'application/ocsp-response';
/** An OCSPRequest is a few hundred bytes; anything much larger is not one. */
const MAX_BODY_BYTES = 64 * 1024;
const POST_TRANSPORT_FAULTS = TRANSPORT_FAULTS.filter((name) => name !== 'rejectGet');

export interface SimulatorConfig {
  /** Requests/s before 429; 0 = unlimited. */
  rate: number;
  burst: number;
  /** Retry-After seconds on 429, or false to omit the header. */
  retryAfter: number | false;
  latencyMs: number;
}

interface Reply {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer | string;
}

const ocspReply = (der: Buffer, extra: OutgoingHttpHeaders = {}): Reply => ({
  status: 200,
  headers: { 'content-type': OCSP_RESPONSE, 'content-length': der.length, ...extra },
  body: der,
});

const unsuccessful = new Map<UnsuccessfulStatus, Reply>(
  (['malformedRequest', 'tryLater', 'unauthorized'] as const).map((status) => [status, ocspReply(statusOnlyResponse(status))]),
);
const statusReply = (status: UnsuccessfulStatus): Reply => unsuccessful.get(status) ?? ocspReply(statusOnlyResponse(status));

const textReply = (status: number, text: string, headers: OutgoingHttpHeaders = {}): Reply => ({
  status,
  headers: { 'content-type': 'text/plain', ...headers },
  body: `${text}\n`,
});

export class Simulator {
  readonly faults = new FaultPlan();
  private readonly counters = emptyStats();
  private readonly meter = new RateMeter();
  private readonly bucket: TokenBucket | undefined;
  private readonly hanging = new Set<ServerResponse>();

  constructor(
    private readonly book: ResponseBook,
    private readonly index: RequestIndex,
    private readonly config: SimulatorConfig,
    private readonly clock: () => number = Date.now,
  ) {
    this.bucket = config.rate > 0 ? new TokenBucket(config.rate, config.burst, clock()) : undefined;
  }

  /** Handles one OCSP request (any path outside /_sim/). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method === 'GET' || req.method === 'POST' ? req.method : 'other';
    this.counters.requests++;
    this.counters.byMethod[method]++;
    this.meter.record(this.clock());
    switch (method) {
      case 'GET':
        this.decide(res, 'GET', () => this.index.fromGetPath(req.url ?? '/'));
        return;
      case 'POST':
        readBody(req, MAX_BODY_BYTES, (body) => {
          if (body) this.decide(res, 'POST', () => this.index.fromPostBody(body));
          else this.send(res, 'malformed', textReply(413, 'request too large'));
        });
        return;
      case 'other':
        this.send(res, 'malformed', textReply(405, 'use GET or POST', { allow: 'GET, POST' }));
        return;
    }
  }

  stats(): ResponderStats {
    const c = this.counters;
    return {
      requests: c.requests,
      byMethod: { ...c.byMethod },
      byOutcome: { ...c.byOutcome },
      byStatus: { ...c.byStatus },
      byFault: { ...c.byFault },
      reqPerSec: this.meter.perSecond(this.clock()),
      hanging: this.hanging.size,
      signatures: this.book.signatures,
    };
  }

  /** Ends the requests the `hang` fault holds, so the server can close. */
  releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  private decide(res: ServerResponse, method: 'GET' | 'POST', resolve: () => Resolution): void {
    const now = this.clock();
    if (this.bucket && !this.bucket.take(now)) {
      this.send(res, 'rateLimited', this.tooManyRequests());
      return;
    }
    const transportFault = this.faults.pick(method === 'GET' ? TRANSPORT_FAULTS : POST_TRANSPORT_FAULTS);
    if (transportFault) {
      this.countFault(transportFault);
      this.transportFault(res, transportFault);
      return;
    }
    const resolution = resolve();
    if (resolution === 'malformed') return this.send(res, 'malformed', statusReply('malformedRequest'));
    if (resolution === 'unauthorized') return this.send(res, 'unknown', statusReply('unauthorized'));

    const responseFault = this.faults.pick(RESPONSE_FAULTS);
    if (responseFault) {
      this.countFault(responseFault);
      this.send(res, 'faults', ocspReply(this.book.variant(resolution, responseFault, now).der));
      return;
    }
    const response = this.book.current(resolution, now);
    this.counters.byStatus[response.status]++;
    const maxAge = Math.max(0, Math.floor((response.nextUpdate.getTime() - now) / 1000));
    this.send(res, 'ok', ocspReply(response.der, { 'cache-control': `max-age=${maxAge}, public, no-transform, must-revalidate` }));
  }

  private transportFault(res: ServerResponse, fault: (typeof TRANSPORT_FAULTS)[number]): void {
    switch (fault) {
      case 'rejectGet':
        return this.send(res, 'faults', textReply(405, 'GET not supported, use POST', { allow: 'POST' }));
      case 'only429':
        return this.send(res, 'faults', this.tooManyRequests());
      case 'hang':
        this.counters.byOutcome.faults++;
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      case 'http5xx':
        return this.send(res, 'faults', textReply(500, 'simulated internal server error'));
      case 'garbage': {
        const noise = randomBytes(64 + Math.floor(Math.random() * 448));
        return this.send(res, 'faults', ocspReply(noise));
      }
      case 'tryLater':
        return this.send(res, 'faults', statusReply('tryLater'));
    }
  }

  private tooManyRequests(): Reply {
    const headers: OutgoingHttpHeaders = this.config.retryAfter === false ? {} : { 'retry-after': String(this.config.retryAfter) };
    return textReply(429, 'too many requests', headers);
  }

  private countFault(fault: FaultName): void {
    this.counters.byFault[fault]++;
  }

  private send(res: ServerResponse, outcome: Outcome, reply: Reply): void {
    this.counters.byOutcome[outcome]++;
    const write = (): void => {
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    };
    if (this.config.latencyMs <= 0) return write();
    const timer = setTimeout(write, this.config.latencyMs);
    res.on('close', () => clearTimeout(timer));
  }
}

/** Collects a request body up to `limit` bytes; calls back with undefined when it is larger. */
function readBody(req: IncomingMessage, limit: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('end', () => done(tooLarge ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
}
