/** The `responder-sim` commands, runnable in-process (tests) as well as from main.ts. */
import { parseArgs } from 'node:util';
import { isSimError, SimError } from '../errors.js';
import { DEFAULT_PORT, generatePki } from '../pki/generate.js';
import { startResponder } from '../responder/responder.js';
import type { Faults } from '../responder/faults.js';
import { decimal, integer, json, leafNumbers, oneOf } from './options.js';
import { USAGE } from './usage.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** Runs one command; resolves with the exit code. `serve` runs until `signal` aborts. */
export async function runCli(argv: readonly string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'generate':
        return await generate(rest, io);
      case 'serve':
        return await serve(rest, io, signal);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new SimError('bad-option', `unknown command "${command}"`);
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (isSimError(err) || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.err(`responder-sim: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

function required(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new SimError('bad-option', `--${flag} is required`);
  return value;
}

async function generate(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      dir: { type: 'string' },
      count: { type: 'string' },
      url: { type: 'string', multiple: true },
      revoked: { type: 'string' },
      'revoked-every': { type: 'string' },
      'no-ocsp-every': { type: 'string' },
      'must-staple-every': { type: 'string' },
      'key-type': { type: 'string' },
      'validity-days': { type: 'string' },
      'no-delegated-signer': { type: 'boolean' },
    },
  });
  const revokedList = leafNumbers('revoked', values.revoked) ?? [];
  const revokedEvery = integer('revoked-every', values['revoked-every'], 1);
  const dir = required('dir', values.dir);
  const started = performance.now();
  const manifest = await generatePki({
    dir,
    count: integer('count', required('count', values.count), 1) ?? 0,
    ocspUrls: values.url ?? [`http://127.0.0.1:${DEFAULT_PORT}/`],
    revoked: (i) => revokedList.includes(i) || (revokedEvery !== undefined && i % revokedEvery === 0),
    keyType: oneOf('key-type', values['key-type'], ['ec', 'rsa'] as const),
    validityDays: integer('validity-days', values['validity-days'], 1),
    delegatedSigner: !values['no-delegated-signer'],
    noOcspEvery: integer('no-ocsp-every', values['no-ocsp-every'], 1),
    mustStapleEvery: integer('must-staple-every', values['must-staple-every'], 1),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  io.out(`generated ${manifest.count} certificates (${manifest.revoked.length} revoked) in ${seconds} s in ${dir}`);
  io.out(`OCSP URL(s): ${manifest.ocspUrls.join(' ')}`);
  return 0;
}

async function serve(args: readonly string[], io: CliIo, signal: AbortSignal | undefined): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      'latency-ms': { type: 'string' },
      'retry-after': { type: 'string' },
      'no-retry-after': { type: 'boolean' },
      signer: { type: 'string' },
      'validity-hours': { type: 'string' },
      faults: { type: 'string' },
      presign: { type: 'boolean' },
      'presign-sha256': { type: 'boolean' },
    },
  });
  const presign = [...(values.presign ? ['sha1' as const] : []), ...(values['presign-sha256'] ? ['sha256' as const] : [])];
  const responder = await startResponder({
    pkiDir: required('dir', values.dir),
    port: integer('port', values.port) ?? DEFAULT_PORT,
    host: values.host ?? '127.0.0.1',
    rate: decimal('rate', values.rate),
    burst: integer('burst', values.burst, 1),
    latencyMs: decimal('latency-ms', values['latency-ms']),
    retryAfter: values['no-retry-after'] ? false : decimal('retry-after', values['retry-after']),
    signer: oneOf('signer', values.signer, ['delegated', 'issuer'] as const),
    validityHours: decimal('validity-hours', values['validity-hours']),
    faults: json('faults', values.faults) as Faults | undefined,
    presign,
  });
  io.out(responder.url);
  if (!signal?.aborted) await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
  await responder.close();
  io.err(`responder-sim: stopped; stats ${JSON.stringify(responder.stats())}`);
  return 0;
}
