/**
 * Control endpoints, outside the rate limit and the faults:
 * - `GET  /_sim/stats`       ResponderStats as JSON
 * - `GET  /_sim/faults`      the armed fault switches
 * - `POST /_sim/faults`      replace them: `{ "http5xx": 0.2, "hang": { "every": 10 } }` (`{}` clears)
 * - `POST /_sim/revoked`     replace the revoked serials: `{ "serials": ["0a1b..."] }`
 * - `GET  /_sim/issuer.der`  the issuing CA certificate (the leaves' AIA caIssuers URL)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSimError, SimError } from '../errors.js';

export const CONTROL_PREFIX = '/_sim/';

export interface ControlTarget {
  stats(): unknown;
  faults(): unknown;
  setFaults(faults: unknown): void;
  setRevoked(serials: readonly string[]): void;
  revoked(): string[];
  issuerDer: Buffer;
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readJson(req: IncomingMessage, done: (value: unknown, error?: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      done(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      done(undefined, 'body is not JSON');
    }
  });
}

/** Applies a JSON change, answering 400 with the error's code when it is rejected. */
function change(req: IncomingMessage, res: ServerResponse, apply: (value: unknown) => unknown): void {
  readJson(req, (value, parseError) => {
    if (parseError) return json(res, 400, { code: 'bad-option', error: parseError });
    try {
      json(res, 200, apply(value));
    } catch (err) {
      if (!isSimError(err)) throw err;
      json(res, 400, { code: err.code, error: err.message });
    }
  });
}

export function handleControl(req: IncomingMessage, res: ServerResponse, target: ControlTarget): void {
  const route = `${req.method ?? ''} ${(req.url ?? '').slice(CONTROL_PREFIX.length).split('?')[0] ?? ''}`;
  switch (route) {
    case 'GET stats':
      return json(res, 200, target.stats());
    case 'GET faults':
      return json(res, 200, target.faults());
    case 'POST faults':
      return change(req, res, (faults) => {
        target.setFaults(faults);
        return target.faults();
      });
    case 'GET revoked':
      return json(res, 200, { serials: target.revoked() });
    case 'POST revoked':
      return change(req, res, (body) => {
        const serials = (body as { serials?: unknown } | null)?.serials;
        if (!Array.isArray(serials) || !serials.every((serial) => typeof serial === 'string')) {
          throw new SimError('bad-option', 'expected { "serials": ["hex", ...] }');
        }
        target.setRevoked(serials);
        return { serials: target.revoked() };
      });
    case 'GET issuer.der':
      res.writeHead(200, { 'content-type': 'application/pkix-cert', 'content-length': target.issuerDer.length });
      return void res.end(target.issuerDer);
    default:
      return json(res, 404, { code: 'not-found', error: `no control endpoint ${route}` });
  }
}
