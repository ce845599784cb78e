import type { Command } from 'commander';

/** Options every command that talks to Redis takes. */
export function withCommonOptions(command: Command): Command {
  return command
    .option(
      '--redis <url>',
      'Redis URL, redis://host:port/db or rediss://user:pass@host:port [env REDIS_URL, default redis://127.0.0.1:6379]',
    )
    .option('--prefix <prefix>', 'key prefix of the Redis contract [env STAPLEWARM_PREFIX, default ocsp:]');
}
