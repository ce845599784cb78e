/**
 * Output that does not go through our logger: BullMQ console.error()s an `error` event nobody
 * listens to, ioredis console.warn()s, and Node prints an uncaught exception with util.inspect.
 * An ioredis error printed that way shows its AUTH command, password included
 * (`command: { name: 'auth', args: [ 'hunter2' ] }`). The entry point routes all of it through the
 * logger's scrubbing first.
 */
import { formatWithOptions } from 'node:util';
import { scrubValue } from './log.js';
import type { Secrets } from './redact.js';

/** Where the guarded output goes (the process's own streams, or a test's). */
export interface GuardedStreams {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

/** Formats console arguments as console does, after scrubbing each one. */
export function formatScrubbed(secrets: Secrets, args: readonly unknown[]): string {
  const [first, ...rest] = args;
  // A format string (`'%s failed', err`) stays a format string; its substitutions are scrubbed.
  const scrubbed =
    typeof first === 'string' ? [first, ...rest.map((arg) => scrubValue(arg, secrets))] : args.map((arg) => scrubValue(arg, secrets));
  return secrets.redact(formatWithOptions({ colors: false, depth: 6 }, ...scrubbed));
}

/**
 * Replaces console.log/info/debug (stdout) and console.error/warn/trace (stderr) with scrubbing
 * versions, and prints an uncaught exception scrubbed before exiting 1, as Node would (exit code 1).
 */
export function guardProcessOutput(secrets: Secrets, streams: GuardedStreams = { out: process.stdout, err: process.stderr }): void {
  const to =
    (stream: GuardedStreams['out']) =>
    (...args: unknown[]): void =>
      void stream.write(`${formatScrubbed(secrets, args)}\n`);
  console.log = console.info = console.debug = to(streams.out);
  console.error = console.warn = console.trace = to(streams.err);
  process.on('uncaughtException', (err) => {
    streams.err.write(`staplewarm: uncaught exception: ${formatScrubbed(secrets, [err])}\n`);
    process.exit(1);
  });
}
