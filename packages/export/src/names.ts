/**
 * How nginx exports are named (pure): one name per certificate, that an operator can map to the
 * server block holding `ssl_certificate <path>`.
 */
import { basename, dirname, extname } from 'node:path';
import type { ExportProblem } from './errors.js';

/** A certificate to export, as the scan found it: its fingerprint and every file it is in. */
export interface ExportCertificate {
  fingerprint: string;
  paths: readonly string[];
  /** A certificate without an OCSP URL: it gets the files that say so (nothing to staple), never a staple. */
  noOcspUrl?: boolean;
}

/** An export name that became a file name: the certificate it is for, and the file it was named after. */
export interface NamedCertificate {
  fingerprint: string;
  path: string;
  noOcspUrl?: boolean;
}

/**
 * Letters, digits, `.`, `_` and `-`, not starting with a dot, at most 200 characters. The name is a
 * file name and, in the include snippet, part of a line of nginx configuration: a customer's file
 * named `a;ssl_ciphers x` must never write configuration.
 */
export const EXPORT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** certbot's names for a lineage's leaf files: the lineage (the directory) names the certificate. */
const LINEAGE_FILES = new Set(['cert', 'fullchain']);

/**
 * The export name of a certificate file: the certbot lineage for `live/<lineage>/cert.pem` and
 * `fullchain.pem` (any extension), otherwise the file's base name without its extension
 * (`/etc/ssl/sites/example.com.pem` -> `example.com`).
 */
export function exportNameOf(path: string): string {
  const file = basename(path);
  const ext = extname(file);
  const stem = ext === '' ? file : file.slice(0, -ext.length);
  return LINEAGE_FILES.has(stem.toLowerCase()) ? basename(dirname(path)) : stem;
}

/**
 * Names every certificate by each of its files (copies of one certificate under two names export
 * twice). A name that is not safe, or that two different certificates would take, is a problem
 * naming the files, and is not exported at all: nginx must never staple one site's response for
 * another. The outcome does not depend on the order of `certs`.
 */
export function assignExportNames(certs: Iterable<ExportCertificate>): { names: Map<string, NamedCertificate>; problems: ExportProblem[] } {
  const claims = new Map<string, NamedCertificate[]>();
  const problems: ExportProblem[] = [];
  for (const cert of certs) {
    for (const path of cert.paths) {
      const name = exportNameOf(path);
      if (!EXPORT_NAME_PATTERN.test(name)) {
        problems.push({ code: 'bad-name', path, detail: `its export name is not a safe file name (letters, digits, . _ - only)` });
        continue;
      }
      const claimants = claims.get(name) ?? [];
      if (!claimants.some((c) => c.fingerprint === cert.fingerprint)) {
        claimants.push({ fingerprint: cert.fingerprint, path, ...(cert.noOcspUrl && { noOcspUrl: true }) });
      }
      claims.set(name, claimants);
    }
  }
  const names = new Map<string, NamedCertificate>();
  for (const [name, claimants] of [...claims].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [first] = claimants;
    if (first && claimants.length === 1) {
      names.set(name, first);
      continue;
    }
    const paths = claimants.map((c) => c.path).sort();
    for (const path of paths) {
      const others = paths.filter((p) => p !== path).join(', ');
      problems.push({
        code: 'name-collision',
        path,
        detail: `export name "${name}" is also the name of a different certificate in ${others}; neither is exported`,
      });
    }
  }
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { names, problems };
}
