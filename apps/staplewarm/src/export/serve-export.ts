/**
 * The exporters under `serve`: started after the first scan, then kept current by the contract's
 * `<p>changed` channel (packages/export ContinuousExport); each accepted scan updates the nginx
 * exporter's certificate set, and SIGHUP syncs everything again.
 */
import { ContinuousExport, type ExportCertificate } from '@staplewarm/export';
import type { StaplewarmMetrics } from '@staplewarm/metrics';
import type { StapleLogger } from '@staplewarm/queue';
import { stapleKeys } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { buildExporters, describeReport, exportConfigured } from './exporters.js';

export interface ServeExport {
  /** The certificates of an accepted scan (nginx names come from their paths). */
  certificates(targets: readonly ExportCertificate[]): void;
  /** The certificates without an OCSP URL of the latest scan (their nginx snippets say so). */
  withoutOcspUrl(leaves: readonly ExportCertificate[]): void;
  /** Subscribes and syncs everything once. */
  start(): Promise<void>;
  /** Syncs everything again (SIGHUP). */
  resync(): void;
  stop(): Promise<void>;
}

/** Undefined when no export is configured. */
export async function startServeExport(
  redis: Redis,
  config: Config,
  log: StapleLogger,
  now: () => number,
  metrics: StaplewarmMetrics | undefined,
): Promise<ServeExport | undefined> {
  if (!exportConfigured(config)) return undefined;
  const exporters = await buildExporters(redis, config, log, now, metrics);
  const subscriber = redis.duplicate();
  subscriber.on('error', () => {}); // the command connection reports Redis trouble; this one reconnects on its own
  const continuous = new ContinuousExport({
    exporters: exporters.all,
    subscriber,
    channel: stapleKeys(config.prefix).changedChannel(),
    now,
    onReport: (kind, trigger, report) => {
      metrics?.exportObserved(kind, report.changed, report.failed);
      if (report.changed === 0 && report.failed === 0 && trigger !== 'start') return;
      const line = `export ${kind} (${trigger}): ${describeReport(report)}`;
      if (report.failed > 0) log.warn({ kind, trigger, ...report }, line);
      else log.info({ kind, trigger, ...report }, line);
    },
    onError: (kind, err) => {
      metrics?.exportObserved(kind, 0, 1);
      log.error({ err, kind }, `export ${kind}: pass failed; retrying at the next change or poll`);
    },
  });
  let noOcspUrl: readonly ExportCertificate[] = [];
  return {
    withoutOcspUrl: (leaves) => {
      noOcspUrl = leaves;
    },
    certificates: (targets) => {
      const nginx = exporters.nginx;
      if (!nginx) return;
      const { problems, changedNames } = nginx.setCertificates([...targets, ...noOcspUrl]);
      for (const problem of problems.slice(0, 20))
        log.warn({ path: problem.path, code: problem.code }, `export nginx: ${problem.path}: ${problem.detail}`);
      if (continuous.started && changedNames.length > 0) void continuous.run(nginx, 'certificates', () => nginx.syncNames(changedNames));
    },
    start: () => continuous.start(),
    resync: () => void continuous.syncAll('certificates'),
    stop: () => continuous.stop(),
  };
}
