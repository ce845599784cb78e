import type { Command } from 'commander';
import { loadConfig, type ConfigFlags } from '../config.js';
import { createLogger } from '../log.js';
import { connectRedis } from '../redis.js';
import { withCommonOptions } from './common.js';

export function registerWorker(program: Command): void {
  withCommonOptions(
    program
      .command('worker')
      .description('fetch, verify and store staples from the shared queue until stopped (SIGTERM/SIGINT); run several on several machines')
      .option(
        '--rate <n>',
        'global OCSP requests per second over all workers; every process must use the same value (0 = unlimited) [env STAPLEWARM_RATE, default 500]',
      )
      .option(
        '--host-rate <host=rate...>',
        'requests per second for one responder host, e.g. ocsp.example.com=200 (repeatable) [env STAPLEWARM_HOST_RATE, comma-separated]',
      )
      .option(
        '--concurrency <n>',
        'requests in flight in this process; rate x responder latency is needed [env STAPLEWARM_CONCURRENCY, default 128]',
      )
      .option('--metrics-port <port>', 'serve /metrics on this port, 0 = off [env STAPLEWARM_METRICS_PORT, default 9464]')
      .option('--metrics-host <address>', 'address /metrics binds to [env STAPLEWARM_METRICS_HOST, default 127.0.0.1]'),
  ).action(async (flags: ConfigFlags) => {
    const { startWorker } = await import('../worker/run-worker.js');
    const config = loadConfig(flags);
    const log = createLogger(config);
    const redis = await connectRedis(config.redisUrl, { connectTimeoutMs: config.connectTimeoutMs });
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
