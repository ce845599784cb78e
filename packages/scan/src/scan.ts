import type { CertIdHash } from '@staplewarm/ocsp';
import { pairLeaves, type NoOcspLeaf, type ScannedTarget } from './pair.js';
import type { ScanProblem } from './problems.js';
import { CertificateReader, type FoundCertificate } from './read.js';
import { walkCertificatePaths } from './walk.js';

export interface ScanOptions {
  /** The clock, epoch ms: decides what is expired. */
  now: number;
  /** CertID hash for the requests built. @defaultValue 'sha1' (RFC 5019) */
  hash?: CertIdHash;
  /** Files read in parallel. @defaultValue 64 */
  readConcurrency?: number;
}

export interface ScanReport {
  /** Leaves to warm, deduplicated by fingerprint. */
  targets: ScannedTarget[];
  /** Valid leaves without any OCSP URL: reported, not errors. */
  noOcspUrl: NoOcspLeaf[];
  /** Every unusable file or certificate, by path and reason. */
  problems: ScanProblem[];
  filesRead: number;
  /** privkey*.pem / *.key files skipped by name, never opened. */
  keyFilesSkipped: number;
  /** Distinct leaf certificates found. */
  leaves: number;
}

/**
 * Scans certificate stores (certbot live/ trees, directories of PEM/CRT/CER bundles, single files)
 * and returns what to warm plus a reason for everything that cannot be warmed.
 */
export async function scanCertificateStores(paths: readonly string[], options: ScanOptions): Promise<ScanReport> {
  const walked = await walkCertificatePaths(paths);
  const reader = new CertificateReader();
  const found: FoundCertificate[][] = new Array<FoundCertificate[]>(walked.files.length);
  const problems: ScanProblem[] = [...walked.problems];
  const fileProblems: (ScanProblem | undefined)[] = new Array<ScanProblem | undefined>(walked.files.length);

  let next = 0;
  const readNext = async (): Promise<void> => {
    while (next < walked.files.length) {
      const i = next++;
      const { found: certs, problem } = await reader.readFile(walked.files[i] as string);
      found[i] = certs;
      fileProblems[i] = problem;
    }
  };
  const workers = Math.max(1, options.readConcurrency ?? 64);
  await Promise.all(Array.from({ length: workers }, readNext));
  for (const problem of fileProblems) if (problem) problems.push(problem);

  const paired = pairLeaves(found.flat(), options.now, options.hash);
  return {
    targets: paired.targets,
    noOcspUrl: paired.noOcspUrl,
    problems: [...problems, ...paired.problems],
    filesRead: walked.files.length,
    keyFilesSkipped: walked.keyFilesSkipped,
    leaves: paired.leaves,
  };
}
