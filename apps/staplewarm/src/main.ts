import { Command, CommanderError } from 'commander';
import { registerAcceptShrink } from './commands/accept-shrink.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerGet } from './commands/get.js';
import { registerRelay } from './commands/relay.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerWarm } from './commands/warm.js';
import { registerWorker } from './commands/worker.js';
import { guardProcessOutput } from './console-guard.js';
import { escapeControl } from './escape.js';
import { redactUrlsIn, Secrets } from './redact.js';
import { VERSION } from './version.js';

// Each command declares its options here and imports what it runs inside its action: a command
// loads only its own modules (warm: no serve, demo or HTTP server code), which is ~70 ms of the
// start-up every cron-driven `warm` pays.

// Whatever a library prints on its own (BullMQ, ioredis, an uncaught exception) is scrubbed like our
// logs: an ioredis error otherwise shows its AUTH command's password. Known here: the password of
// REDIS_URL and of a URL on the command line; the AUTH arguments are blanked whatever they hold.
guardProcessOutput(Secrets.ofUrlsIn([process.env.REDIS_URL, ...process.argv]));

// A password in `--redis` is readable by every local user in the process list (/proc/<pid>/cmdline)
// from exec until here; from here on the title shows it masked. REDIS_URL and --redis-password-file
// never put it there.
const shownArgs = process.argv.slice(1).map(redactUrlsIn);
if (shownArgs.some((arg, i) => arg !== process.argv[i + 1])) {
  process.title = [process.argv0, ...shownArgs].join(' ');
  process.stderr.write(
    'staplewarm: warning: a password on the command line is visible in the process list until start-up masks it; use REDIS_URL or --redis-password-file\n',
  );
}

const program = new Command()
  .name('staplewarm')
  .description('Bulk OCSP staple warming: fetch, verify and store OCSP responses for OpenResty in Redis')
  .version(VERSION)
  // commander quotes a bad argument back ("unknown option '--redis-url=redis://:pw@h'"). Set before
  // the commands are added: they inherit it.
  .configureOutput({ outputError: (text, write) => write(`${shown(text.trimEnd())}\n`) })
  .exitOverride();

registerWarm(program);
registerWorker(program);
registerServe(program);
registerRelay(program);
registerExport(program);
registerAcceptShrink(program);
registerGet(program);
registerStatus(program);
registerDemo(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    // Typed errors carry a stable code; print it with the message, no stack for expected failures.
    // A message may quote a certificate's text (escaped) or a URL with a password (redacted).
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`staplewarm: ${shown(`${typeof code === 'string' ? `${code}: ` : ''}${message}`)}\n`);
    process.exitCode = 2;
  }
}

/** An error message as printed: on one line, URLs' userinfo and the REDIS_URL password redacted, controls escaped. */
function shown(text: string): string {
  return escapeControl(Secrets.ofUrlsIn([process.env.REDIS_URL, ...process.argv]).redact(text));
}
