/**
 * Feeds a running HAProxy 2.6 through its runtime API: `show ssl ocsp-response` lists the OCSP slots
 * HAProxy has (one per certificate that had a `.ocsp` file at start, an empty one will do), each by
 * its SHA-1 CertID; the CertID index (Redis contract v1) says which certificate that is; its staple
 * is pushed with `set ssl ocsp-response` when it changed, without a reload. HAProxy stops stapling
 * an expired response by itself, and 2.6 has no command to remove one, so "withdrawing" is not
 * pushing: a response HAProxy would refuse is skipped, with the reason.
 */
import { createHash } from 'node:crypto';
import type { CertIdIndex } from '@staplewarm/store';
import { decideExport } from '../decision.js';
import {
  addWithdrawn,
  countDecision,
  emptyReport,
  exportPass,
  forEachLimited,
  readStaple,
  type ExportSyncReport,
  type StapleExporter,
  type StapleSource,
} from '../exporter.js';
import type { HaproxyCli, HaproxyOcspEntry } from './cli.js';

export interface HaproxySocketExporterOptions {
  cli: Pick<HaproxyCli, 'showInfo' | 'showOcspResponses' | 'showSslCerts' | 'setOcspResponse'>;
  index: Pick<CertIdIndex, 'issuer' | 'certificate'>;
  source: StapleSource;
  /** Not less than 300 s: HAProxy refuses a response with less left. */
  minValidityMs: number;
  now: () => number;
  /** Commands in flight on the socket. @defaultValue 4 */
  width?: number;
}

interface Slot {
  entry: HaproxyOcspEntry;
  /** The certificate the CertID index names, or null when it knows none. */
  fingerprint: string | null;
}

export class HaproxySocketExporter implements StapleExporter {
  readonly kind = 'haproxy-socket' as const;
  private slots: Slot[] = [];
  /** SHA-256 of the response last pushed to each slot (by CertID), in this HAProxy process. */
  private readonly pushed = new Map<string, string>();
  /** `<pid>@<start time>` of the HAProxy process the slots and pushes are of. */
  private instance: string | undefined;
  private loadedWithoutSlot = 0;

  constructor(private readonly options: HaproxySocketExporterOptions) {}

  async syncAll(): Promise<ExportSyncReport> {
    await this.refreshSlots();
    const report = await this.sync(this.slots);
    if (this.loadedWithoutSlot > 0) report.withdrawn['not-loaded'] = this.loadedWithoutSlot;
    return report;
  }

  async syncFingerprints(fingerprints: ReadonlySet<string>): Promise<ExportSyncReport> {
    // A restarted HAProxy lost every pushed response, and maybe changed its slots: all again.
    if (await this.restarted()) return this.syncAll();
    return this.sync(this.slots.filter((s) => s.fingerprint !== null && fingerprints.has(s.fingerprint)));
  }

  /** Nothing to withdraw: HAProxy ignores an expired response by itself. */
  nextDeadline(): undefined {
    return undefined;
  }

  async syncDue(): Promise<ExportSyncReport> {
    return emptyReport();
  }

  async poll(): Promise<ExportSyncReport | undefined> {
    return (await this.restarted()) ? this.syncAll() : undefined;
  }

  async close(): Promise<void> {}

  /** Has HAProxy been restarted (or reloaded: a new process) since the slots were listed? */
  private async restarted(): Promise<boolean> {
    const info = await this.options.cli.showInfo();
    return `${info.pid}@${info.startTimeSec ?? ''}` !== this.instance;
  }

  private async refreshSlots(): Promise<void> {
    const info = await this.options.cli.showInfo();
    const instance = `${info.pid}@${info.startTimeSec ?? ''}`;
    if (instance !== this.instance) this.pushed.clear();
    this.instance = instance;
    // `show ssl cert` needs the admin level (below it, 2.6 answers "Can't allocate memory!"): it only
    // counts the certificates loaded without a slot, so a socket at a lower level still gets pushes.
    const [{ entries }, loaded] = await Promise.all([
      this.options.cli.showOcspResponses(),
      this.options.cli.showSslCerts().catch(() => undefined),
    ]);
    const issuerIds = new Map<string, string | null>();
    const slots: Slot[] = [];
    await forEachLimited(entries, this.options.width ?? 4, async (entry) => {
      if (entry.hashAlgorithm !== 'sha1') {
        slots.push({ entry, fingerprint: null });
        return;
      }
      const issuerKey = `${entry.issuerNameHash}:${entry.issuerKeyHash}`;
      let issuerId = issuerIds.get(issuerKey);
      if (issuerId === undefined) {
        issuerId = (await this.options.index.issuer('sha1', entry.issuerNameHash, entry.issuerKeyHash))?.id ?? null;
        issuerIds.set(issuerKey, issuerId);
      }
      const cert = issuerId ? await this.options.index.certificate(issuerId, entry.serial) : null;
      slots.push({ entry, fingerprint: cert?.fingerprint ?? null });
    });
    this.slots = slots.sort((a, b) => (a.entry.certIdHex < b.entry.certIdHex ? -1 : 1));
    this.loadedWithoutSlot = loaded ? Math.max(0, loaded.length - entries.length) : 0;
    const live = new Set(entries.map((e) => e.certIdHex));
    for (const key of this.pushed.keys()) if (!live.has(key)) this.pushed.delete(key);
  }

  private sync(slots: readonly Slot[]): Promise<ExportSyncReport> {
    return exportPass(
      slots,
      this.options.width ?? 4,
      ({ entry, fingerprint }) => `serial ${entry.serial} (certificate ${fingerprint ?? 'not indexed'})`,
      async ({ entry, fingerprint }, report) => {
        if (!fingerprint) {
          addWithdrawn(report, 'not-indexed');
          return;
        }
        const decision = decideExport(await readStaple(this.options.source, fingerprint), {
          now: this.options.now(),
          minValidityMs: this.options.minValidityMs,
          sha1CertIdOnly: true,
        });
        if (decision.action === 'export') {
          const digest = createHash('sha256').update(decision.der).digest('hex');
          if (this.pushed.get(entry.certIdHex) !== digest) {
            await this.options.cli.setOcspResponse(decision.der);
            this.pushed.set(entry.certIdHex, digest);
            report.changed++;
          }
        }
        countDecision(report, decision);
      },
    );
  }
}
