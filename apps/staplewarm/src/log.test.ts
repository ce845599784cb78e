/**
 * The logger keeps the Redis password out of every line. The error is a real one: ioredis' ReplyError
 * for an AUTH that Redis refused, which carries `command: { name: 'auth', args: [user, password] }`
 * exactly as a failed re-authentication hands it to BullMQ's and Bottleneck's error listeners.
 */
import { randomBytes } from 'node:crypto';
import { ReplyError } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOrSkip, REDIS_URL } from '@staplewarm/testing';
import { CENSOR, REDACT_PATHS, createLogger } from './log.js';

const SECRET = `pw-${randomBytes(8).toString('hex')}`;
const redis = await connectOrSkip(REDIS_URL, 'apps/staplewarm log');
afterAll(() => redis?.disconnect());

/** ioredis' ReplyError with the command it answered, as DataHandler.returnError attaches it. */
type AuthError = Error & { command: { name: string; args: string[] } };

/** AUTH as a user that does not exist: Redis answers WRONGPASS, and ioredis attaches the command. */
async function refusedAuth(): Promise<AuthError> {
  const err = (await redis!.auth('swtest-nobody', SECRET).catch((e: unknown) => e)) as AuthError;
  expect(err).toBeInstanceOf(ReplyError);
  expect(err.command.args).toContain(SECRET);
  return err;
}

/** A logger (as the commands make it) writing its lines into an array. */
function capture(config: Parameters<typeof createLogger>[0] = { logLevel: 'info' }) {
  const lines: string[] = [];
  const log = createLogger(config, { write: (line: string) => void lines.push(line) });
  return { log, lines, text: () => lines.join('') };
}

describe.skipIf(!redis)('createLogger', () => {
  let authError: AuthError;

  beforeAll(async () => {
    authError = await refusedAuth();
  });

  it('logs the error without the password, keeping the command name and the reason', () => {
    const { log, lines, text } = capture(); // no known secret: the error's shape alone must do
    log.error({ err: authError }, 'worker error');
    expect(text()).not.toContain(SECRET);
    const line = JSON.parse(lines[0] ?? '{}') as { err: { message: string; command: { name: string; args: unknown } } };
    expect(line.err.message).toMatch(/WRONGPASS/);
    expect(line.err.command).toEqual({ name: 'auth', args: CENSOR });
  });

  it('redacts the error wherever it sits: first argument, other keys, nested, aggregated, in a cause', () => {
    const { log, text } = capture();
    log.error(authError);
    log.warn({ error: authError }, 'x');
    log.warn({ job: { attempt: { last: { err: authError } } } }, 'deep');
    log.warn({ err: new AggregateError([authError], 'several') }, 'aggregate');
    log.warn({ failures: [authError, { reason: authError }] }, 'list');
    log.warn({ err: new Error('wrapped', { cause: authError }) }, 'cause');
    expect(text()).toMatch(/WRONGPASS/);
    expect(text()).not.toContain(SECRET);
  });

  it('takes the known password and URL userinfo out of messages, stacks and values', () => {
    const fromFile = `file-${SECRET}`;
    const { log, text } = capture({ logLevel: 'info', redisUrl: `redis://:${encodeURIComponent(SECRET)}@h:6379`, redisPassword: fromFile });
    log.error({ err: new Error(`AUTH ${SECRET} refused`) }, `reconnecting to redis://:${SECRET}@h:6379`);
    log.error(new Error(`file password ${fromFile} refused`));
    log.info({ note: `the password is ${fromFile}`, list: [`x ${SECRET}`] }, 'values');
    log.info({ responder: 'http://cust:hunter22@ocsp.test/' }, 'fetch http://cust:hunter22@ocsp.test/ failed');
    expect(text()).not.toContain(SECRET);
    expect(text()).not.toContain('hunter22');
    expect(text()).toContain('redis://:***@h:6379');
    expect(text()).toContain('http://cust:***@ocsp.test/');
  });

  it('catches the known password where no walk over the fields can see it (a toJSON)', () => {
    const { log, text } = capture({ logLevel: 'info', redisPassword: SECRET });
    log.info({ opaque: { toJSON: () => `serialized ${SECRET}` } }, 'opaque');
    expect(text()).toContain('serialized ***');
  });

  it('blanks credential fields such as ioredis options', () => {
    const { log, lines } = capture();
    log.info({ options: { host: 'h', port: 6379, password: SECRET, username: 'u' }, auth: SECRET }, 'options');
    expect(lines.join('')).not.toContain(SECRET);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ options: { host: 'h', password: CENSOR, username: 'u' }, auth: CENSOR });
  });

  it('keeps everything else: shared (not circular) objects, buffers, numbers', () => {
    const { log, lines } = capture();
    const shared = { a: 1 };
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    log.info({ first: shared, second: shared, circular, n: 5, ok: true }, 'plain');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ first: { a: 1 }, second: { a: 1 }, circular: { self: '[Circular]' }, n: 5 });
  });
});

describe.skipIf(!redis)('REDACT_PATHS alone (pino redact, no other help)', () => {
  it('blanks the command arguments of an ioredis error and credential fields', async () => {
    const err = await refusedAuth();
    const lines: string[] = [];
    const bare = pino({ redact: { paths: [...REDACT_PATHS], censor: CENSOR } }, { write: (line: string) => void lines.push(line) });
    bare.error({ err }, 'top');
    bare.error({ job: { err } }, 'nested');
    bare.info({ password: SECRET, options: { password: SECRET }, conn: { opts: { auth: SECRET } } }, 'fields');
    expect(lines).toHaveLength(3);
    expect(lines.join('')).not.toContain(SECRET);
  });
});
