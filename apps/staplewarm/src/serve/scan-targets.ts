import type { CertIdHash } from '@staplewarm/ocsp';
import { scanCertificateStores, type ScanReport, type ScannedTarget } from '@staplewarm/scan';

/** One rescan's outcome: what to track from now on, and what the scan found. */
export interface ServeScan {
  targets: ScannedTarget[];
  report: ScanReport;
  /** Certificate stores that could not be read at all this time (missing mount, permissions). */
  unreadableStores: string[];
  /** Certificates kept from the previous scan because their store could not be read. */
  carried: number;
}

/**
 * Scans the certificate stores. A certificate no longer found is dropped (and stops being
 * refreshed), except when its whole store could not be read: a missing mount or a permission
 * change must not unschedule a fleet, so those certificates are carried over until the store is
 * readable again. Removing a store on purpose means removing it from `--certs`.
 */
export async function scanForServe(
  stores: readonly string[],
  previous: ReadonlyMap<string, ScannedTarget>,
  options: { now: number; hash: CertIdHash; maxFileBytes?: number },
): Promise<ServeScan> {
  const report = await scanCertificateStores(stores, { now: options.now, hash: options.hash, maxFileBytes: options.maxFileBytes });
  const unreadableStores = stores.filter((store) =>
    report.problems.some((p) => p.path === store && (p.code === 'not-found' || p.code === 'unreadable')),
  );
  const targets = [...report.targets];
  let carried = 0;
  if (unreadableStores.length > 0) {
    const found = new Set(targets.map((t) => t.fingerprint));
    const inUnreadable = (path: string) =>
      unreadableStores.some((store) => path === store || path.startsWith(`${store.replace(/\/+$/, '')}/`));
    for (const target of previous.values()) {
      if (found.has(target.fingerprint) || !target.paths.every(inUnreadable)) continue;
      targets.push(target);
      carried++;
    }
  }
  return { targets, report, unreadableStores, carried };
}
