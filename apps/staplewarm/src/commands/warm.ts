import type { Command } from 'commander';
import type { StapleLogger } from '@staplewarm/queue';
import type { Redis } from 'ioredis';
import { loadConfig, settingOption, type Config, type ConfigFlags } from '../config.js';
import { jsonForTerminal } from '../escape.js';
import { createLogger } from '../log.js';
import { createProgress, silentProgress } from '../progress.js';
import { connectionOptions, connectRedis } from '../redis.js';
import { formatSummary } from '../warm/summary.js';
import { withCommonOptions, withFetchOptions } from './common.js';
import { limitHeapGrowth } from '../heap.js';

interface WarmFlags extends ConfigFlags {
  certs: string[];
  textfile?: string;
  force?: boolean;
  work: boolean;
  json?: boolean;
}

export function registerWarm(program: Command): void {
  const command = program
    .command('warm')
    .description('cold-reboot warm-up: scan certificates, fetch and verify every staple into Redis, print a summary')
    .requiredOption('-c, --certs <path...>', 'certificate stores: certbot live/ dirs, dirs of *.pem/*.crt/*.cer, or files')
    .option('--force', 'fetch every certificate, even those whose staple is still fresh')
    .option('--no-work', 'only enqueue and wait: `staplewarm worker` processes do the fetching')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--textfile <path.prom>', "write the final figures for node_exporter's textfile collector (cron-driven runs)")
    .option('--metrics-port <port>', 'serve /metrics while warming (off unless given: a worker on this host may hold the default port)');
  settingOption(command, 'metricsHost');
  settingOption(command, 'warmTimeoutSeconds');
  settingOption(command, 'batchSize');
  settingOption(command, 'maxCertFileBytes');
  withFetchOptions(withCommonOptions(command)).action(async (flags: WarmFlags) => {
    limitHeapGrowth();
    // warm serves /metrics only when asked on its command line (STAPLEWARM_METRICS_PORT is the worker's).
    const { runWarm } = await import('../warm/run-warm.js');
    const loaded = loadConfig(flags);
    const config = flags.metricsPort === undefined ? { ...loaded, metricsPort: 0 } : loaded;
    const log = createLogger(config);
    const redis = await connectRedis(config.redisUrl, connectionOptions(config));
    await (await import('../eviction-check.js')).warnIfRedisEvicts(redis, log, { stderr: true });
    const telemetry = config.metricsPort > 0 || flags.textfile ? await startTelemetry(config, log, redis) : undefined;
    try {
      const summary = await runWarm(redis, {
        certs: flags.certs,
        force: flags.force ?? false,
        work: flags.work,
        config,
        log,
        progress: flags.json ? silentProgress : createProgress(),
        metrics: telemetry,
        // A plain line for the person at the terminal, below the progress bar when there is one.
        notice: (line) => process.stderr.write(`${process.stderr.isTTY && !flags.json ? '\n' : ''}${line}\n`),
      });
      if (flags.textfile && telemetry) await telemetry.writeTextfile(flags.textfile);
      process.stdout.write(flags.json ? `${jsonForTerminal(summary)}\n` : `${formatSummary(summary)}\n`);
      process.exitCode = summary.complete ? 0 : 1;
    } finally {
      await telemetry?.close();
      redis.disconnect();
    }
  });
}

/**
 * The cold-start figures, for `/metrics` (`--metrics-port`) and/or `--textfile`. Opt-in for warm, so
 * prom-client and the HTTP server are loaded only then. The store's gauges (staple expiry, lifetime
 * buckets) and the queue's come from Redis; certificates by state are the run's own (runWarm).
 */
async function startTelemetry(config: Config, log: StapleLogger, redis: Redis) {
  const [{ metricsObserver, snapshotSharedState, startMetricsEndpoint }, { StaplewarmMetrics, writeTextfile }] = await Promise.all([
    import('../metrics-endpoint.js'),
    import('@staplewarm/metrics'),
  ]);
  const endpoint = await startMetricsEndpoint(config, { log, redis, snapshots: { certificateStates: false } });
  const metrics = endpoint.metrics ?? new StaplewarmMetrics({ defaultMetrics: false });
  return {
    metrics,
    observer: endpoint.observer ?? metricsObserver(metrics, log),
    writeTextfile: async (path: string) => {
      // The store as this run leaves it, not as it was at the last timed snapshot (or never).
      await snapshotSharedState(metrics, redis, { prefix: config.prefix, log, certificateStates: false });
      await writeTextfile(metrics, path);
    },
    close: () => endpoint.close(),
  };
}
