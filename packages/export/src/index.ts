/** @staplewarm/export: hands the verified staples in Redis to servers that read files or a runtime API. */

// What to hand over for one certificate (pure).
export {
  decideExport,
  MIN_VALIDITY_FLOOR_MS,
  type DecideOptions,
  type ExportDecision,
  type StoredStaple,
  type WithdrawReason,
} from './decision.js';
export { assignExportNames, exportNameOf, EXPORT_NAME_PATTERN, type ExportCertificate, type NamedCertificate } from './names.js';

// The exporters, and what drives them.
export type { ExporterKind, ExportSyncReport, NotExportedReason, StapleExporter, StapleSource } from './exporter.js';
export { NginxExporter, exportedSnippet, noOcspSnippet, withdrawnSnippet, type NginxExporterOptions } from './nginx/nginx-exporter.js';
export { HaproxyDirExporter, type HaproxyDirExporterOptions } from './haproxy/haproxy-dir.js';
export { HaproxySocketExporter, type HaproxySocketExporterOptions } from './haproxy/haproxy-socket.js';
export { ContinuousExport, type ContinuousExportOptions, type SyncTrigger } from './continuous.js';
export { Reloader, runReloadCommand, type ReloadResult, type ReloaderOptions } from './reload.js';

// HAProxy's runtime API.
export {
  HaproxyCli,
  HaproxyCliError,
  isHaproxyCliError,
  parseHaproxySocketAddress,
  formatHaproxySocketAddress,
  type HaproxyCliErrorCode,
  type HaproxyCliOptions,
  type HaproxyInfo,
  type HaproxyOcspEntry,
  type HaproxyOcspList,
  type HaproxySocketAddress,
} from './haproxy/cli.js';

export { ExportError, isExportError, type ExportErrorCode, type ExportProblem, type ExportProblemCode } from './errors.js';
