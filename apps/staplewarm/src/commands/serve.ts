import { Option, type Command } from 'commander';
import { loadConfig, settingOption, type ConfigFlags } from '../config.js';
import { createLogger } from '../log.js';
import { connectionOptions, connectRedis } from '../redis.js';
import { refreshPolicyFrom, type RefreshFlags } from '../serve/refresh-policy.js';
import { withCommonOptions, withFetchOptions, withMetricsOptions } from './common.js';
import { limitHeapGrowth } from '../heap.js';

interface ServeFlags extends ConfigFlags, RefreshFlags {
  certs: string[];
  work: boolean;
}

/** Advanced: the refresh rule's knobs (docs/refresh.md). Hidden from --help; for tests and odd responders. */
const REFRESH_OPTIONS: [flags: string, description: string][] = [
  ['--refresh-window <start,end>', 'refresh point range, fractions of the validity window (default 0.5,0.75)'],
  ['--refresh-margin-ms <ms>', 'never schedule a refresh later than nextUpdate minus this (default 3600000)'],
  ['--refresh-retry-min-ms <ms>', 'shortest wait between attempts at one certificate (default 30000)'],
  ['--refresh-retry-base-ms <ms>', 'first wait after an attempt that left the staple due (default 60000)'],
  ['--refresh-retry-max-ms <ms>', 'longest wait between retries while a staple is stored (default 3600000)'],
  ['--refresh-retry-missing-max-ms <ms>', 'longest wait between retries while no staple is stored (default 600000)'],
];

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .description(
      'keep every staple fresh: rescan on an interval (and on SIGHUP), refresh each certificate at its scheduled time, run the workers',
    )
    .requiredOption('-c, --certs <path...>', 'certificate stores: certbot live/ dirs, dirs of *.pem/*.crt/*.cer, or files')
    .option('--no-work', 'only scan and schedule: `staplewarm worker` processes do the fetching');
  settingOption(command, 'scanIntervalSeconds');
  settingOption(command, 'maxCertFileBytes');
  settingOption(command, 'nginxDir');
  settingOption(command, 'nginxReloadCommand');
  settingOption(command, 'haproxyDirs');
  settingOption(command, 'haproxySocket');
  withMetricsOptions(withFetchOptions(withCommonOptions(command)));
  for (const [flags, description] of REFRESH_OPTIONS) command.addOption(new Option(flags, description).hideHelp());
  command.action(async (flags: ServeFlags) => {
    limitHeapGrowth();
    const { startServe } = await import('../serve/run-serve.js');
    const config = loadConfig(flags);
    const policy = refreshPolicyFrom(flags);
    const log = createLogger(config);
    const redis = await connectRedis(config.redisUrl, connectionOptions(config));
    await (await import('../eviction-check.js')).warnIfRedisEvicts(redis, log);
    const serving = await startServe(redis, { certs: flags.certs, work: flags.work, config, policy, log });
    log.info(
      {
        certs: flags.certs,
        scanIntervalSeconds: config.scanIntervalSeconds,
        work: flags.work,
        rate: config.rate,
        metrics: serving.metricsUrl ?? 'off',
      },
      'serve: running',
    );

    await new Promise<void>((resolve) => {
      const onHup = (): void => {
        log.info({}, 'SIGHUP: rescanning');
        serving.rescan();
      };
      const onStop = (signal: NodeJS.Signals): void => {
        process.off('SIGHUP', onHup);
        process.off('SIGTERM', onStop);
        process.off('SIGINT', onStop);
        log.info({ signal }, 'serve: stopping (finishing the jobs in flight)');
        serving.stop().then(resolve, (err: unknown) => {
          log.error({ err }, 'serve: unclean stop');
          process.exitCode = 1;
          resolve();
        });
      };
      process.on('SIGHUP', onHup);
      process.on('SIGTERM', onStop);
      process.on('SIGINT', onStop);
    });
    redis.disconnect();
    log.info({}, 'serve: stopped');
  });
}
