/**
 * `staplewarm export nginx|haproxy`: one pass of the configured exporters over what Redis holds now,
 * then the nginx reload (once, when a file changed). `serve` runs the same exporters continuously.
 */
import type { ExportCertificate, ExportProblem, ExportSyncReport, ReloadResult } from '@staplewarm/export';
import type { StapleLogger } from '@staplewarm/queue';
import { scanCertificateStores, type NoOcspLeaf } from '@staplewarm/scan';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { buildExporters, describeReport } from './exporters.js';

export interface ExportRun {
  kind: 'nginx' | 'haproxy-dir' | 'haproxy-socket';
  /** The directory or socket written to. */
  target: string;
  report: ExportSyncReport;
  /** Files that could not be exported (named), besides the staples not exported (report.withdrawn). */
  problems: ExportProblem[];
  /** nginx: the reload's outcome, or why none ran. */
  reload?: { ok: boolean; ms: number; error?: string } | 'not-needed' | 'no-command';
  /** nginx: certificate files the scan could not use (`staplewarm warm` names them). */
  unusableFiles?: number;
}

export interface ExportOptions {
  /** nginx: the certificate stores to export (as `warm --certs`). */
  certs: readonly string[];
  config: Config;
  log: StapleLogger;
  now?: () => number;
}

/** Runs every exporter `config` asks for once. Rejects when an exporter cannot start (bad directory, socket refused). */
export async function runExport(redis: Redis, options: ExportOptions): Promise<ExportRun[]> {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const exporters = await buildExporters(redis, config, log, now);
  const runs: ExportRun[] = [];
  try {
    if (exporters.nginx) {
      const nginx = exporters.nginx;
      const scan = await scanCertificateStores(options.certs, {
        now: now(),
        hash: config.certIdHash,
        maxFileBytes: config.maxCertFileBytes,
      });
      const { problems } = nginx.setCertificates([...scan.targets, ...withoutOcspUrl(scan.noOcspUrl)]);
      const report = await nginx.syncAll();
      const run: ExportRun = { kind: 'nginx', target: nginx.dir, report, problems, unusableFiles: scan.problems.length };
      if (config.nginxReloadCommand === undefined) run.reload = 'no-command';
      else if (report.changed === 0) run.reload = 'not-needed';
      else run.reload = reloadOutcome(await nginx.flushReload());
      runs.push(run);
    }
    if (exporters.haproxyDir) {
      const report = await exporters.haproxyDir.syncAll();
      runs.push({ kind: 'haproxy-dir', target: config.haproxyDirs.join(', '), report, problems: [...exporters.haproxyDir.problems] });
    }
    if (exporters.haproxySocket && config.haproxySocket !== undefined) {
      const report = await exporters.haproxySocket.syncAll();
      runs.push({ kind: 'haproxy-socket', target: config.haproxySocket, report, problems: [] });
    }
  } finally {
    await Promise.all(exporters.all.map((e) => e.close()));
  }
  for (const run of runs)
    log.info({ kind: run.kind, target: run.target, ...run.report }, `export ${run.kind}: ${describeReport(run.report)}`);
  return runs;
}

/** Did every exporter do all it should (no failed file or push, no failed reload)? */
export function exportSucceeded(runs: readonly ExportRun[]): boolean {
  return runs.every((run) => run.report.failed === 0 && (typeof run.reload !== 'object' || run.reload.ok));
}

/** Certificates without an OCSP URL get a snippet too (saying so), so every server block can include one. */
export function withoutOcspUrl(leaves: readonly NoOcspLeaf[]): ExportCertificate[] {
  return leaves.map((leaf) => ({ fingerprint: leaf.fingerprint, paths: [leaf.path], noOcspUrl: true }));
}

function reloadOutcome(result: ReloadResult | undefined): ExportRun['reload'] {
  if (!result) return 'not-needed';
  return result.ok ? { ok: true, ms: Math.round(result.ms) } : { ok: false, ms: Math.round(result.ms), error: result.error.message };
}

/** The runs for a person: one paragraph per exporter. */
export function formatExportRuns(runs: readonly ExportRun[]): string {
  const lines: string[] = [];
  for (const run of runs) {
    lines.push(`${run.kind} -> ${run.target}: ${describeReport(run.report)}`);
    if (run.reload === 'no-command') lines.push('  reload: no --reload-command given: reload nginx to load the changes');
    else if (run.reload === 'not-needed') lines.push('  reload: not needed (nothing changed)');
    else if (run.reload)
      lines.push(run.reload.ok ? `  reload: done in ${run.reload.ms} ms` : `  reload: FAILED: ${run.reload.error ?? ''}`);
    if (run.unusableFiles) lines.push(`  ${run.unusableFiles} certificate files unusable (\`staplewarm warm\` names them)`);
    for (const error of run.report.errors) lines.push(`  failed: ${error}`);
    for (const problem of run.problems) lines.push(`  ${problem.path}: ${problem.code}: ${problem.detail}`);
  }
  return lines.join('\n');
}
