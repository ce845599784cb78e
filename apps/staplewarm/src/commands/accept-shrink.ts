import type { Command } from 'commander';
import { loadConfig, queuePrefix, type ConfigFlags } from '../config.js';
import { connectionOptions, connectRedis } from '../redis.js';
import { withCommonOptions } from './common.js';

interface AcceptShrinkFlags extends ConfigFlags {
  list?: boolean;
  process?: string[];
}

/**
 * The operator's answer to `serve`'s shrink guard. A suspected shrink is held by each `serve`
 * process that saw it, on whatever machine; this command, run anywhere that reaches the fleet's
 * Redis, lists them and confirms them, and each process drops the certificates at its next scan
 * (it looks for the confirmation every few seconds while it holds one).
 */
export function registerAcceptShrink(program: Command): void {
  withCommonOptions(
    program
      .command('accept-shrink')
      .description(
        'confirm the suspected shrinks that serve processes hold (a rescan that found far fewer certificates): each drops the certificates it no longer finds, within seconds',
      )
      .option('--list', 'only list the held shrinks; confirm nothing')
      .option('--process <name...>', 'confirm only the holds of these serve processes (<host>:<pid>, as listed)'),
  ).action(async (flags: AcceptShrinkFlags) => {
    const { NoHeldShrinkError, ShrinkConfirmations, formatHolds } = await import('../serve/shrink-confirmations.js');
    const config = loadConfig(flags);
    const redis = await connectRedis(config.redisUrl, connectionOptions(config));
    try {
      const confirmations = new ShrinkConfirmations(redis, queuePrefix(config.prefix));
      const all = await confirmations.holds();
      const wanted = flags.process ?? [];
      const unknown = wanted.filter((name) => !all.some((h) => h.process === name));
      if (unknown.length > 0) throw new NoHeldShrinkError(unknown);
      const holds = wanted.length > 0 ? all.filter((h) => wanted.includes(h.process)) : all;
      if (holds.length === 0) {
        process.stdout.write(`no serve process holds a suspected shrink under prefix "${config.prefix}" (nothing to confirm)\n`);
        return;
      }
      process.stdout.write(`suspected shrinks held under prefix "${config.prefix}":\n${formatHolds(holds)}\n`);
      if (flags.list) return;
      for (const hold of holds) await confirmations.confirm(hold);
      process.stdout.write(
        `confirmed ${holds.length === 1 ? 'it' : `all ${holds.length}`}: each process drops the certificates its stores ` +
          'no longer show at its next scan (within a few seconds)\n',
      );
    } finally {
      redis.disconnect();
    }
  });
}
