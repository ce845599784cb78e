import { buildTarget, isIssuedBy, namesIssuer, type CertIdHash, type ParsedCertificate, type StapleTarget } from '@staplewarm/ocsp';
import type { ScanProblem } from './problems.js';
import type { FoundCertificate } from './read.js';

/** A leaf ready to warm, with every file it was found in. */
export interface ScannedTarget extends StapleTarget {
  paths: string[];
}

/** A leaf that is fine but has no OCSP URL (short-lived certs, Let's Encrypt since 2025): counted, not an error. */
export interface NoOcspLeaf {
  path: string;
  fingerprint: string;
  names: string[];
}

export interface PairingResult {
  targets: ScannedTarget[];
  noOcspUrl: NoOcspLeaf[];
  problems: ScanProblem[];
  /** Distinct leaf certificates seen (after deduplication by fingerprint). */
  leaves: number;
}

/**
 * Pure: turns every certificate found into targets or reasons. A leaf's issuer is looked for first
 * after it in its own bundle (fullchain.pem), then among every CA certificate of the scan (chain.pem
 * next door, a CA directory elsewhere), by key identifier and then by name. The signature decides
 * when names and key identifiers leave a choice of keys (or there are no key identifiers).
 * `paired`: targets already built by `pairWithinBundle` during the scan, by fingerprint; they are
 * reused (their `paths` completed), not paired again.
 */
export function pairLeaves(
  found: readonly FoundCertificate[],
  now: number,
  hash: CertIdHash = 'sha1',
  paired: ReadonlyMap<string, ScannedTarget> = new Map(),
): PairingResult {
  const authorities = indexAuthorities(found);
  const bundles = new Map<string, FoundCertificate[]>();
  for (const item of found) push(bundles, item.path, item);
  const leaves = new Map<string, { first: FoundCertificate; paths: string[] }>();
  for (const item of found) {
    if (item.cert.isCA) continue;
    const seen = leaves.get(item.cert.fingerprint);
    if (seen) {
      if (!seen.paths.includes(item.path)) seen.paths.push(item.path);
    } else {
      leaves.set(item.cert.fingerprint, { first: item, paths: [item.path] });
    }
  }

  const result: PairingResult = { targets: [], noOcspUrl: [], problems: [], leaves: leaves.size };
  for (const { first, paths } of leaves.values()) {
    const early = paired.get(first.cert.fingerprint);
    if (early) {
      for (const path of paths) if (!early.paths.includes(path)) early.paths.push(path);
      result.targets.push(early);
      continue;
    }
    const leaf = first.cert;
    const where = { path: first.path, fingerprint: leaf.fingerprint, names: leaf.dnsNames };
    if (leaf.notAfter.getTime() <= now) {
      result.problems.push({ ...where, code: 'expired', detail: `expired ${leaf.notAfter.toISOString()} (${leaf.subject})` });
      continue;
    }
    if (leaf.ocspUrls.length === 0) {
      result.noOcspUrl.push(where);
      continue;
    }
    if (!leaf.ocspUrls.some(isHttpUrl)) {
      result.problems.push({ ...where, code: 'non-http-ocsp-url', detail: `OCSP URL not http(s): ${leaf.ocspUrls.join(' ')}` });
      continue;
    }
    const issuer = findIssuer(first, bundles.get(first.path) ?? [], authorities);
    if (!issuer) {
      result.problems.push({ ...where, code: 'no-issuer', detail: `no issuer certificate found for ${leaf.subject}` });
      continue;
    }
    result.targets.push({ ...buildTarget(leaf, issuer, { hash }), paths });
  }
  return result;
}

/**
 * Pure: the leaves of one file whose issuer follows them in the same bundle (fullchain.pem), paired
 * at once so a scan can hand them out while it still reads: a certbot tree needs nothing else.
 * Leaves that are expired, have no http(s) OCSP URL or no issuer in the bundle are left to
 * `pairLeaves`, which reports them.
 */
export function pairWithinBundle(file: readonly FoundCertificate[], now: number, hash: CertIdHash = 'sha1'): ScannedTarget[] {
  const targets: ScannedTarget[] = [];
  const none: AuthorityIndex = { byKeyId: new Map(), byName: new Map() };
  for (const item of file) {
    const leaf = item.cert;
    if (leaf.isCA || leaf.notAfter.getTime() <= now || !leaf.ocspUrls.some(isHttpUrl)) continue;
    const issuer = findIssuer(item, file, none);
    if (issuer) targets.push({ ...buildTarget(leaf, issuer, { hash }), paths: [item.path] });
  }
  return targets;
}

function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

interface AuthorityIndex {
  byKeyId: Map<string, ParsedCertificate[]>;
  byName: Map<string, ParsedCertificate[]>;
}

function indexAuthorities(found: readonly FoundCertificate[]): AuthorityIndex {
  const index: AuthorityIndex = { byKeyId: new Map(), byName: new Map() };
  const seen = new Set<string>();
  for (const { cert } of found) {
    if (!cert.isCA || seen.has(cert.fingerprint)) continue;
    seen.add(cert.fingerprint);
    if (cert.subjectKeyId) push(index.byKeyId, cert.subjectKeyId, cert);
    push(index.byName, cert.subjectNameDer.toString('hex'), cert);
  }
  return index;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function findIssuer(
  item: FoundCertificate,
  bundle: readonly FoundCertificate[],
  authorities: AuthorityIndex,
): ParsedCertificate | undefined {
  const leaf = item.cert;
  const sameBundle = bundle.filter((other) => other.index > item.index).map((o) => o.cert);
  const byKey = leaf.authorityKeyId ? (authorities.byKeyId.get(leaf.authorityKeyId) ?? []) : [];
  const byName = authorities.byName.get(leaf.issuerNameDer.toString('hex')) ?? [];
  const candidates = [...sameBundle, ...byKey, ...byName].filter((candidate) => namesIssuer(leaf, candidate));
  const [first] = candidates;
  if (!first) return undefined;
  // Linked by key identifier and only one key in sight: the identifiers already name the key, as
  // OpenSSL's X509_check_issued decides. Skipping the signature here saves 17 µs (RSA-2048) to
  // 425 µs (P-384) per leaf; a wrong key could only yield a CertID its responder answers
  // `unknown` or signs with a key the verifier rejects, never a stored staple.
  if (leaf.authorityKeyId !== undefined && first.subjectKeyId !== undefined && candidates.every((c) => c.spkiDer.equals(first.spkiDer))) {
    return first;
  }
  return candidates.find((candidate) => isIssuedBy(leaf, candidate));
}
