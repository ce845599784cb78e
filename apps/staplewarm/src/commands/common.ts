import type { Command } from 'commander';
import { settingOption } from '../config.js';

/** Options every command that talks to Redis takes. */
export function withCommonOptions(command: Command): Command {
  settingOption(command, 'redisUrl');
  settingOption(command, 'redisPassword');
  return settingOption(command, 'prefix');
}

/** Options of every command that fetches staples (warm, worker, serve): budgets and the responder address policy. */
export function withFetchOptions(command: Command): Command {
  settingOption(command, 'rate');
  settingOption(command, 'defaultHostRate');
  settingOption(command, 'hostRates');
  settingOption(command, 'concurrency');
  return settingOption(command, 'responderAllow');
}

/** `--metrics-port` and `--metrics-host` of the long-running commands. */
export function withMetricsOptions(command: Command): Command {
  settingOption(command, 'metricsPort');
  return settingOption(command, 'metricsHost');
}
