/**
 * HAProxy 2.6 reads `<crt>.ocsp` (DER) beside each certificate file at start, and only then. An
 * empty one gives the certificate an OCSP slot with nothing stapled yet, which is what makes
 * runtime updates (`set ssl ocsp-response`) possible for it later. So every certificate file gets a
 * `.ocsp`: its staple when there is one HAProxy accepts (one SingleResponse, not unknown,
 * nextUpdate present, more than the minimum validity left), empty otherwise. Kept current under
 * `serve`, so a restart at any time loads fresh staples; HAProxy itself is never reloaded.
 */
import { decideExport } from '../decision.js';
import {
  countDecision,
  exportPass,
  forEachLimited,
  readStaple,
  type ExportSyncReport,
  type StapleExporter,
  type StapleSource,
} from '../exporter.js';
import type { ExportProblem } from '../errors.js';
import { replaceFile } from '../files.js';
import { listCrtFiles, readCrtFile, type CrtFile } from './crt-files.js';

export interface HaproxyDirExporterOptions {
  /** HAProxy's `crt` directories (their files, not subdirectories) or certificate files. */
  paths: readonly string[];
  source: StapleSource;
  /** Not less than 300 s: HAProxy refuses a response with less left at load. */
  minValidityMs: number;
  /** Largest certificate file read. */
  maxFileBytes: number;
  now: () => number;
  /** @defaultValue 32 */
  width?: number;
}

export class HaproxyDirExporter implements StapleExporter {
  readonly kind = 'haproxy-dir' as const;
  private files: CrtFile[] = [];
  private problemsFound: ExportProblem[] = [];
  private readonly withdrawAt = new Map<string, number>();

  constructor(private readonly options: HaproxyDirExporterOptions) {}

  /** Files that could not be read at the last listing. */
  get problems(): readonly ExportProblem[] {
    return this.problemsFound;
  }

  /** Lists the certificate files again and reads each one's leaf (at start, and each full sync). */
  async refreshFiles(): Promise<void> {
    const { files, problems } = await listCrtFiles(this.options.paths);
    const found: CrtFile[] = [];
    await forEachLimited(files, this.options.width ?? 32, async (path) => {
      const read = await readCrtFile(path, this.options.maxFileBytes);
      if ('fingerprint' in read) found.push(read);
      else problems.push(read);
    });
    this.files = found.sort((a, b) => (a.path < b.path ? -1 : 1));
    this.problemsFound = problems.sort((a, b) => (a.path < b.path ? -1 : 1));
    const listed = new Set(this.files.map((f) => f.path));
    for (const path of this.withdrawAt.keys()) if (!listed.has(path)) this.withdrawAt.delete(path);
  }

  async syncAll(): Promise<ExportSyncReport> {
    await this.refreshFiles();
    return this.sync(this.files);
  }

  syncFingerprints(fingerprints: ReadonlySet<string>): Promise<ExportSyncReport> {
    return this.sync(this.files.filter((f) => fingerprints.has(f.fingerprint)));
  }

  syncDue(now: number): Promise<ExportSyncReport> {
    return this.sync(this.files.filter((f) => (this.withdrawAt.get(f.path) ?? Infinity) <= now));
  }

  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const at of this.withdrawAt.values()) if (earliest === undefined || at < earliest) earliest = at;
    return earliest;
  }

  async close(): Promise<void> {}

  private sync(files: readonly CrtFile[]): Promise<ExportSyncReport> {
    return exportPass(
      files,
      this.options.width ?? 32,
      (file) => `${file.path}.ocsp`,
      async (file, report) => {
        const decision = decideExport(await readStaple(this.options.source, file.fingerprint), {
          now: this.options.now(),
          minValidityMs: this.options.minValidityMs,
        });
        const bytes = decision.action === 'export' ? decision.der : Buffer.alloc(0);
        if (await replaceFile(`${file.path}.ocsp`, bytes)) report.changed++;
        countDecision(report, decision);
        if (decision.action === 'export') this.withdrawAt.set(file.path, decision.withdrawAt);
        else this.withdrawAt.delete(file.path);
      },
    );
  }
}
