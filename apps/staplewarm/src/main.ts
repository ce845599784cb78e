import { Command, CommanderError } from 'commander';
import { registerDemo } from './commands/demo.js';
import { registerGet } from './commands/get.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerWarm } from './commands/warm.js';
import { registerWorker } from './commands/worker.js';

// Each command declares its options here and imports what it runs inside its action: a command
// loads only its own modules (warm: no serve, demo or HTTP server code), which is ~70 ms of the
// start-up every cron-driven `warm` pays.

const program = new Command()
  .name('staplewarm')
  .description('Bulk OCSP staple warming: fetch, verify and store OCSP responses for OpenResty in Redis')
  .version('0.1.0')
  .exitOverride();

registerWarm(program);
registerWorker(program);
registerServe(program);
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
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`staplewarm: ${typeof code === 'string' ? `${code}: ` : ''}${message}\n`);
    process.exitCode = 2;
  }
}
