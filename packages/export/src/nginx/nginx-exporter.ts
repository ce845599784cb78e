/**
 * nginx reads `ssl_stapling_file` once, at (re)load, and staples that file for ever, even expired;
 * a missing or unparsable one fails the reload. So the exporter hands nginx two files per
 * certificate in one directory:
 * - `<name>.der`: the staple, byte for byte (written atomically, only when the bytes changed);
 * - `<name>.conf`: the snippet the server block includes: `ssl_stapling_file "<dir>/<name>.der";`
 *   while there is a staple with more than the minimum validity left, and only a comment otherwise.
 * Withdrawing a staple (none in Redis, or about to expire unrefreshed) empties the snippet and
 * removes the `.der`, then reloads: nginx starts and reloads fine, and staples what it fetches
 * itself (`ssl_stapling_responder`, e.g. the relay) or nothing, never an expired response.
 * The reload command runs once per batch of changes, and before any exported file's expiry.
 */
import { join, resolve } from 'node:path';
import { decideExport } from '../decision.js';
import { ExportError } from '../errors.js';
import {
  addWithdrawn,
  countDecision,
  exportPass,
  readStaple,
  type ExportSyncReport,
  type StapleExporter,
  type StapleSource,
} from '../exporter.js';
import { removeFile, replaceFile, requireDirectory } from '../files.js';
import { assignExportNames, type ExportCertificate, type NamedCertificate } from '../names.js';
import type { ExportProblem } from '../errors.js';
import type { ReloadResult, Reloader } from '../reload.js';

export interface NginxExporterOptions {
  /** Where the `.der` files and `.conf` snippets go (absolute in the snippets). */
  dir: string;
  source: StapleSource;
  /** Runs the reload command; undefined: the operator reloads nginx (files are still kept current). */
  reloader?: Reloader;
  /** Withdraw a staple this long before it expires (the reload must land before). */
  minValidityMs: number;
  now: () => number;
  /** Redis reads in flight. @defaultValue 32 */
  width?: number;
}

interface ExportedName {
  fingerprint: string;
  /** Withdraw at this time unless a newer staple came (epoch ms); undefined while withdrawn. */
  withdrawAt?: number;
}

/** Characters nginx's quoted strings cannot hold as they are (or that would read as a variable). */
const UNQUOTABLE = /["\\$\p{Cc}]/u;

export class NginxExporter implements StapleExporter {
  readonly kind = 'nginx' as const;
  readonly dir: string;
  private names = new Map<string, NamedCertificate>();
  /** Names no longer in the certificate set: withdrawn at the next sync, then forgotten. */
  private retired = new Set<string>();
  private readonly state = new Map<string, ExportedName>();
  private problemsFound: ExportProblem[] = [];

  constructor(private readonly options: NginxExporterOptions) {
    this.dir = resolve(options.dir);
    if (UNQUOTABLE.test(this.dir)) {
      throw new ExportError(
        'bad-dir',
        `nginx export directory ${JSON.stringify(this.dir)} holds a character nginx cannot quote (" \\ $ or a control character)`,
      );
    }
  }

  /** Checks the directory is there (call once before syncing). */
  async open(): Promise<void> {
    await requireDirectory(this.dir, 'nginx export directory');
  }

  /**
   * The certificates to export (the last accepted scan): names are recomputed. Returns the names to
   * sync now: new ones, ones now naming another certificate (renewed), and ones gone (withdrawn).
   */
  setCertificates(certs: Iterable<ExportCertificate>): { problems: ExportProblem[]; changedNames: string[] } {
    const { names, problems } = assignExportNames(certs);
    const changedNames: string[] = [];
    for (const name of this.names.keys()) {
      if (!names.has(name)) {
        this.retired.add(name);
        changedNames.push(name);
      }
    }
    for (const [name, cert] of names) {
      this.retired.delete(name);
      if (this.names.get(name)?.fingerprint !== cert.fingerprint) changedNames.push(name);
    }
    this.names = names;
    this.problemsFound = problems;
    return { problems, changedNames };
  }

  /** Files that could not be named at the last `setCertificates`. */
  get problems(): readonly ExportProblem[] {
    return this.problemsFound;
  }

  stapleFile(name: string): string {
    return join(this.dir, `${name}.der`);
  }

  snippetFile(name: string): string {
    return join(this.dir, `${name}.conf`);
  }

  syncAll(): Promise<ExportSyncReport> {
    return this.sync([...this.names.keys(), ...this.retired]);
  }

  syncFingerprints(fingerprints: ReadonlySet<string>): Promise<ExportSyncReport> {
    return this.sync([...this.names].filter(([, c]) => fingerprints.has(c.fingerprint)).map(([name]) => name));
  }

  /** Also the names whose withdrawal is due: `syncDue(now)` after the deadline timer fires. */
  syncDue(now: number): Promise<ExportSyncReport> {
    return this.sync([...this.state].filter(([, s]) => s.withdrawAt !== undefined && s.withdrawAt <= now).map(([name]) => name));
  }

  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const { withdrawAt } of this.state.values()) {
      if (withdrawAt !== undefined && (earliest === undefined || withdrawAt < earliest)) earliest = withdrawAt;
    }
    return earliest;
  }

  /** Runs the reload a change asked for now, and waits for it (`export nginx`: one pass, then one reload). */
  async flushReload(): Promise<ReloadResult | undefined> {
    return this.options.reloader?.flush();
  }

  async close(): Promise<void> {
    await this.options.reloader?.close();
  }

  /** Brings these names' files up to date (after `setCertificates`). */
  syncNames(names: readonly string[]): Promise<ExportSyncReport> {
    return this.sync(names);
  }

  private async sync(names: readonly string[]): Promise<ExportSyncReport> {
    const report = await exportPass(
      names,
      this.options.width ?? 32,
      (name) => name,
      (name, pass) => this.syncName(name, pass),
    );
    if (report.changed > 0) this.options.reloader?.request();
    return report;
  }

  private async syncName(name: string, report: ExportSyncReport): Promise<void> {
    const cert = this.names.get(name);
    if (!cert) {
      if (await this.withdrawFiles(name, withdrawnSnippet(name))) report.changed++;
      addWithdrawn(report, 'retired');
      this.retired.delete(name);
      this.state.delete(name);
      return;
    }
    if (cert.noOcspUrl) {
      if (await this.withdrawFiles(name, noOcspSnippet(name))) report.changed++;
      addWithdrawn(report, 'no-ocsp-url');
      this.state.set(name, { fingerprint: cert.fingerprint });
      return;
    }
    const decision = decideExport(await readStaple(this.options.source, cert.fingerprint), {
      now: this.options.now(),
      minValidityMs: this.options.minValidityMs,
    });
    if (decision.action === 'export') {
      // The staple first, then the snippet that points at it: a reload in between finds both.
      let changed = await replaceFile(this.stapleFile(name), decision.der);
      changed = (await replaceFile(this.snippetFile(name), exportedSnippet(name, cert.fingerprint, this.stapleFile(name)))) || changed;
      if (changed) report.changed++;
      this.state.set(name, { fingerprint: cert.fingerprint, withdrawAt: decision.withdrawAt });
    } else {
      if (await this.withdrawFiles(name, withdrawnSnippet(name))) report.changed++;
      this.state.set(name, { fingerprint: cert.fingerprint });
    }
    countDecision(report, decision);
  }

  /** Points the snippet at nothing, then removes the staple file: a reload in between never names a missing file. */
  private async withdrawFiles(name: string, snippet: string): Promise<boolean> {
    const changed = await replaceFile(this.snippetFile(name), snippet);
    return (await removeFile(this.stapleFile(name))) || changed;
  }
}

/** What the server block includes while a staple is handed over. The path is quoted (checked quotable). */
export function exportedSnippet(name: string, fingerprint: string, stapleFile: string): string {
  return `# staplewarm export ${name} (certificate ${fingerprint}): a verified staple\nssl_stapling_file "${stapleFile}";\n`;
}

/** What it includes for a certificate without an OCSP URL: nothing to staple, ever. */
export function noOcspSnippet(name: string): string {
  return `# staplewarm export ${name}: the certificate names no OCSP responder; nothing to staple\n`;
}

/** What it includes otherwise: nothing nginx acts on, so it staples what it fetches itself, or nothing. */
export function withdrawnSnippet(name: string): string {
  return `# staplewarm export ${name}: no staple to hand over now (none in Redis, or about to expire)\n`;
}
