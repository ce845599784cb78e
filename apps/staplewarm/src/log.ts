import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';
import { Secrets } from './redact.js';

/** What a redacted field reads. */
export const CENSOR = '[Redacted]';

/**
 * Fields pino blanks before writing. ioredis puts the command that failed on its errors as
 * `command: { name, args }` (DataHandler.returnError for a ReplyError, abortError for an AbortError);
 * when AUTH (or HELLO ... AUTH) fails on a reconnect, `args` holds the password, and that error
 * reaches every listener: BullMQ's worker, Bottleneck's limiter, the queue events reader. Nested
 * copies cover errors inside another object (`{ job: { err } }`) and an AggregateError's members.
 */
export const REDACT_PATHS: readonly string[] = [
  'err.command.args',
  'error.command.args',
  '*.command.args',
  '*.*.command.args',
  'err.aggregateErrors[*].command.args',
  'password',
  '*.password',
  '*.*.password',
  'auth',
  '*.auth',
  '*.*.auth',
];

/** Keys whose value is a credential wherever they appear (ioredis' options hold `password`). */
const SECRET_KEYS = new Set(['password', 'pass', 'auth', 'authorization', 'requirepass', 'masterauth']);
/** Deep enough for an error inside a job inside a log object; logs are small. */
const MAX_DEPTH = 8;

/**
 * Logs go to stderr as JSON lines (pino); stdout carries the command's own output (summary, JSON).
 * No Redis password reaches a line: `redact` blanks the known fields; every value (errors included,
 * under any key) is walked to drop command arguments and credentials and to take the password and
 * any URL's userinfo out of strings (messages, stacks), and so is the message itself; the finished
 * line is searched once more for the known password.
 */
export function createLogger(
  config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'redisUrl' | 'redisPassword'>>,
  destination: DestinationStream = pino.destination({ fd: 2, sync: false }),
): Logger {
  const secrets = Secrets.ofRedis(config.redisUrl, config.redisPassword);
  const clean = (value: unknown): unknown => scrubValue(value, secrets);
  return pino(
    {
      level: config.logLevel,
      base: { app: 'staplewarm' },
      redact: { paths: [...REDACT_PATHS], censor: CENSOR },
      // Errors under any key, not only `err`, are serialized here (pino's serializers go by key).
      formatters: {
        log: (object) => clean(object) as Record<string, unknown>,
        bindings: (bindings) => clean(bindings) as Record<string, unknown>,
      },
      // `msg` too: `log.error(err)` takes the error's message as the line's message.
      serializers: { err: clean, error: clean, msg: clean },
      // Last line of defence: the known password, in whatever field it got past the rest.
      hooks: { streamWrite: (line) => secrets.redact(line) },
    },
    destination,
  );
}

/**
 * A copy of `value` fit for a log line (or the console): errors as pino's serializer writes them,
 * credentials and command arguments blanked, secrets and URL userinfo out of every string. Buffers,
 * dates and the like are kept as they are; cycles and very deep values are cut.
 */
export function scrubValue(value: unknown, secrets: Secrets): unknown {
  return scrub(value, secrets, 0, new WeakSet<object>());
}

function scrub(value: unknown, secrets: Secrets, depth: number, ancestors: WeakSet<object>): unknown {
  if (typeof value === 'string') return secrets.redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) return '[Circular]';
  if (depth > MAX_DEPTH) return '[Too deep]';
  if (value instanceof Error) return scrub(stdSerializers.err(value), secrets, depth, ancestors);
  if (Array.isArray(value)) return walk(value, ancestors, () => value.map((item) => scrub(item, secrets, depth + 1, ancestors)));
  // Plain objects and pino's serialized errors; not Buffers, Dates, Maps.
  if (Object.prototype.toString.call(value) !== '[object Object]') return value;
  return walk(value, ancestors, () => {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_KEYS.has(key.toLowerCase())) out[key] = CENSOR;
      else if (key === 'command' && isCommand(item)) out[key] = { name: scrub(item.name, secrets, depth + 1, ancestors), args: CENSOR };
      else out[key] = scrub(item, secrets, depth + 1, ancestors);
    }
    return out;
  });
}

/** Runs `copy` with `value` marked as an ancestor: a cycle is cut, an object seen twice side by side is not. */
function walk<T>(value: object, ancestors: WeakSet<object>, copy: () => T): T {
  ancestors.add(value);
  try {
    return copy();
  } finally {
    ancestors.delete(value);
  }
}

/** ioredis' `{ name, args }` on an error. */
function isCommand(value: unknown): value is { name?: unknown; args: unknown } {
  return typeof value === 'object' && value !== null && 'args' in value;
}
