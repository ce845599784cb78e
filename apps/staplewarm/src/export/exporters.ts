/**
 * The exporters this configuration asks for (`--nginx-dir`, `--haproxy-dir`, `--haproxy-socket`),
 * built once for `export` (one pass) and `serve` (kept current).
 */
import {
  HaproxyCli,
  HaproxyDirExporter,
  HaproxySocketExporter,
  NginxExporter,
  Reloader,
  type ExportSyncReport,
  type StapleExporter,
} from '@staplewarm/export';
import type { StaplewarmMetrics } from '@staplewarm/metrics';
import type { StapleLogger } from '@staplewarm/queue';
import { CertIdIndex, StapleStore } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';

export interface Exporters {
  nginx: NginxExporter | undefined;
  haproxyDir: HaproxyDirExporter | undefined;
  haproxySocket: HaproxySocketExporter | undefined;
  all: StapleExporter[];
}

/** Does the configuration ask for any export? */
export function exportConfigured(config: Config): boolean {
  return config.nginxDir !== undefined || config.haproxyDirs.length > 0 || config.haproxySocket !== undefined;
}

export async function buildExporters(
  redis: Redis,
  config: Config,
  log: StapleLogger,
  now: () => number,
  metrics?: StaplewarmMetrics,
): Promise<Exporters> {
  const store = new StapleStore(redis, { prefix: config.prefix });
  const minValidityMs = config.exportMinValiditySeconds * 1000;
  let nginx: NginxExporter | undefined;
  if (config.nginxDir !== undefined) {
    const command = config.nginxReloadCommand;
    const reloader = command
      ? new Reloader({
          command,
          debounceMs: config.exportDebounceMs,
          minIntervalMs: config.exportReloadIntervalSeconds * 1000,
          onResult: (result) => {
            metrics?.exportReloaded(result.ok);
            if (result.ok) log.info({ ms: Math.round(result.ms) }, 'export nginx: reloaded');
            else log.error({ err: result.error }, `export nginx: ${result.error.message}; retrying in 30 s`);
          },
        })
      : undefined;
    nginx = new NginxExporter({ dir: config.nginxDir, source: store, minValidityMs, now, ...(reloader ? { reloader } : {}) });
    await nginx.open();
    if (!reloader) log.warn({ dir: nginx.dir }, 'export nginx: no reload command: nginx reads the exported files only when it is reloaded');
  }
  const haproxyDir =
    config.haproxyDirs.length > 0
      ? new HaproxyDirExporter({ paths: config.haproxyDirs, source: store, minValidityMs, maxFileBytes: config.maxCertFileBytes, now })
      : undefined;
  const haproxySocket =
    config.haproxySocket !== undefined
      ? new HaproxySocketExporter({
          cli: new HaproxyCli(config.haproxySocket),
          index: new CertIdIndex(redis, { prefix: config.prefix }),
          source: store,
          minValidityMs,
          now,
        })
      : undefined;
  const all: StapleExporter[] = [];
  for (const exporter of [nginx, haproxyDir, haproxySocket]) if (exporter) all.push(exporter);
  return { nginx, haproxyDir, haproxySocket, all };
}

/** One line of figures for a pass: `2 exported (1 revoked), 1 not exported (no-staple 1), 3 changed`. */
export function describeReport(report: ExportSyncReport): string {
  const withdrawn = Object.entries(report.withdrawn);
  const notExported = withdrawn.reduce((sum, [, n]) => sum + (n ?? 0), 0);
  const parts = [
    `${report.exported} exported${report.revoked > 0 ? ` (${report.revoked} revoked)` : ''}`,
    `${notExported} not exported${notExported > 0 ? ` (${withdrawn.map(([reason, n]) => `${reason} ${n}`).join(', ')})` : ''}`,
    `${report.changed} changed`,
  ];
  if (report.failed > 0) parts.push(`${report.failed} failed`);
  return parts.join(', ');
}
