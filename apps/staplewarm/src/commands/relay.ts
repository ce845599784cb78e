import type { Command } from 'commander';
import { loadConfig, settingOption, type ConfigFlags } from '../config.js';
import { createLogger } from '../log.js';
import { connectionOptions, connectRedis } from '../redis.js';
import { withCommonOptions, withMetricsOptions } from './common.js';

export function registerRelay(program: Command): void {
  const command = program
    .command('relay')
    .description(
      'answer OCSP requests (GET and POST, RFC 6960/5019) from the staples in Redis, for servers that fetch staples themselves: nginx ssl_stapling_responder, Apache SSLStaplingForceURL; a miss is fetched through the shared queue (run workers). Until SIGTERM/SIGINT',
    );
  settingOption(command, 'relayListen');
  withMetricsOptions(withCommonOptions(command)).action(async (flags: ConfigFlags) => {
    const { startRelay } = await import('../relay/run-relay.js');
    const config = loadConfig(flags);
    const log = createLogger(config);
    const redis = await connectRedis(config.redisUrl, connectionOptions(config));
    try {
      const running = await startRelay(redis, config, log);
      log.info(
        { url: running.url, certIdHash: config.certIdHash, metrics: running.metricsUrl ?? 'off' },
        `relay: answering on ${running.url}`,
      );
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      log.info({ signal }, 'relay: stopping (answering the requests in progress)');
      await running.stop();
      log.info({}, 'relay: stopped');
    } finally {
      redis.disconnect();
    }
  });
}
