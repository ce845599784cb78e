import type { Command } from 'commander';
import { loadConfig, type ConfigFlags } from '../config.js';
import { createLogger } from '../log.js';
import { connectionOptions, connectRedis } from '../redis.js';
import { withCommonOptions, withFetchOptions, withMetricsOptions } from './common.js';
import { limitHeapGrowth } from '../heap.js';

export function registerWorker(program: Command): void {
  const command = program
    .command('worker')
    .description('fetch, verify and store staples from the shared queue until stopped (SIGTERM/SIGINT); run several on several machines');
  withMetricsOptions(withFetchOptions(withCommonOptions(command))).action(async (flags: ConfigFlags) => {
    limitHeapGrowth();
    const { startWorker } = await import('../worker/run-worker.js');
    const config = loadConfig(flags);
    const log = createLogger(config);
    const redis = await connectRedis(config.redisUrl, connectionOptions(config));
    await (await import('../eviction-check.js')).warnIfRedisEvicts(redis, log);
    try {
      const running = await startWorker(redis, config, log);
      log.info(
        { rate: config.rate, hostRates: config.hostRates, concurrency: config.concurrency, metrics: running.metricsUrl ?? 'off' },
        'worker: running',
      );
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      log.info({ signal }, 'worker: stopping (finishing the jobs in flight)');
      await running.stop();
    } finally {
      redis.disconnect();
    }
  });
}
