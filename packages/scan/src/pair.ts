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
 * Also reported: self-signed leaves, files holding only CA certificates that vouch for no leaf of
 * the scan (`no-leaf`, or `self-signed` when one of them is), and any leaf that throws on the way
 * (`unusable`): one certificate never ends the scan.
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
    try {
      pairLeaf(first, paths, bundles.get(first.path) ?? [], authorities, now, hash, result);
    } catch (err) {
      // A certificate that parsed but breaks a later step (an issuer key node:crypto rejects...)
      // is this leaf's problem, not the end of the scan.
      result.problems.push({ ...where, code: 'unusable', detail: `${leaf.subject}: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  result.problems.push(...filesWithoutLeaf(bundles, leaves.values(), authorities));
  return result;
}

/** One leaf (first seen in `first`) to a target, a "no OCSP URL" entry or a problem, in `result`. */
function pairLeaf(
  first: FoundCertificate,
  paths: string[],
  bundle: readonly FoundCertificate[],
  authorities: AuthorityIndex,
  now: number,
  hash: CertIdHash,
  result: PairingResult,
): void {
  const leaf = first.cert;
  const where = { path: first.path, fingerprint: leaf.fingerprint, names: leaf.dnsNames };
  if (isSelfSigned(leaf)) {
    result.problems.push({ ...where, code: 'self-signed', detail: `self-signed (${leaf.subject}): no CA to ask for its OCSP status` });
    return;
  }
  if (leaf.notAfter.getTime() <= now) {
    result.problems.push({ ...where, code: 'expired', detail: `expired ${leaf.notAfter.toISOString()} (${leaf.subject})` });
    return;
  }
  if (leaf.ocspUrls.length === 0) {
    result.noOcspUrl.push(where);
    return;
  }
  if (!leaf.ocspUrls.some(isHttpUrl)) {
    result.problems.push({ ...where, code: 'non-http-ocsp-url', detail: `OCSP URL not http(s): ${leaf.ocspUrls.join(' ')}` });
    return;
  }
  const issuer = findIssuer(first, bundle, authorities);
  if (!issuer) {
    result.problems.push({ ...where, code: 'no-issuer', detail: `no issuer certificate found for ${leaf.subject}` });
    return;
  }
  result.targets.push({ ...buildTarget(leaf, issuer, { hash }), paths });
}

/**
 * Issuer = subject, and the signature verifies under the certificate's own key. The name check
 * comes first and is a byte comparison, so the signature is checked only for self-issued names.
 */
function isSelfSigned(cert: ParsedCertificate): boolean {
  return cert.issuerNameDer.equals(cert.subjectNameDer) && isIssuedBy(cert, cert);
}

/**
 * The files that hold certificates but no leaf, and whose CA certificates vouch for no leaf of the
 * scan: reported `self-signed` when they all are (a customer's `openssl req -x509` certificate is
 * a CA certificate by OpenSSL's defaults), `no-leaf` otherwise (a stray intermediate and root). A CA vouches for a leaf when it
 * issued it, or issued a CA that does, by names and key identifiers: certbot's chain.pem (the
 * issuer of the cert.pem beside it, even one without an OCSP URL) and a CA directory holding a
 * chain's root are normal.
 */
function filesWithoutLeaf(
  bundles: ReadonlyMap<string, readonly FoundCertificate[]>,
  leaves: Iterable<{ first: FoundCertificate }>,
  authorities: AuthorityIndex,
): ScanProblem[] {
  const vouching = new Set<string>();
  const pending: ParsedCertificate[] = [];
  const markIssuersOf = (cert: ParsedCertificate): void => {
    for (const candidate of issuerCandidates(cert, authorities)) {
      if (vouching.has(candidate.fingerprint)) continue;
      vouching.add(candidate.fingerprint);
      pending.push(candidate);
    }
  };
  for (const { first } of leaves) markIssuersOf(first.cert);
  // Up the chains; each CA is marked once, so a root (its own issuer) or a cross-signing loop ends it.
  for (let ca = pending.pop(); ca; ca = pending.pop()) markIssuersOf(ca);

  const problems: ScanProblem[] = [];
  for (const [path, items] of bundles) {
    if (items.some((item) => !item.cert.isCA || vouching.has(item.cert.fingerprint))) continue;
    const selfSigned = items.every((item) => safely(() => isSelfSigned(item.cert))) ? items[0]?.cert : undefined;
    if (selfSigned) {
      problems.push({
        path,
        code: 'self-signed',
        detail: `self-signed CA certificate (${selfSigned.subject}) that issued no certificate of this scan; no leaf in the file`,
        fingerprint: selfSigned.fingerprint,
        names: selfSigned.dnsNames,
      });
      continue;
    }
    const subjects = [...new Set(items.map((item) => item.cert.subject))];
    const shown = subjects.slice(0, 3).join('; ') + (subjects.length > 3 ? `; and ${subjects.length - 3} more` : '');
    problems.push({
      path,
      code: 'no-leaf',
      detail: `no leaf certificate: only ${items.length === 1 ? 'a CA certificate' : `${items.length} CA certificates`} (${shown}) that issued no leaf of this scan`,
    });
  }
  return problems;
}

/** CA certificates of the scan that may have issued `cert`, by names and key identifiers (no signature). */
function issuerCandidates(cert: ParsedCertificate, authorities: AuthorityIndex): ParsedCertificate[] {
  const byKey = cert.authorityKeyId ? (authorities.byKeyId.get(cert.authorityKeyId) ?? []) : [];
  const byName = authorities.byName.get(cert.issuerNameDer.toString('hex')) ?? [];
  return [...byKey, ...byName].filter((candidate) => namesIssuer(cert, candidate));
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

/**
 * Pure: the leaves of one file whose issuer follows them in the same bundle (fullchain.pem), paired
 * at once so a scan can hand them out while it still reads: a certbot tree needs nothing else.
 * Leaves that are expired, self-issued, have no http(s) OCSP URL or no issuer in the bundle are
 * left to `pairLeaves`, which reports them.
 */
export function pairWithinBundle(file: readonly FoundCertificate[], now: number, hash: CertIdHash = 'sha1'): ScannedTarget[] {
  const targets: ScannedTarget[] = [];
  const none: AuthorityIndex = { byKeyId: new Map(), byName: new Map() };
  for (const item of file) {
    const leaf = item.cert;
    if (leaf.isCA || leaf.notAfter.getTime() <= now || !leaf.ocspUrls.some(isHttpUrl)) continue;
    // A self-issued name (a self-signed certificate, which may sit in the bundle twice) is
    // `pairLeaves`' to report; so is anything that throws here.
    if (leaf.issuerNameDer.equals(leaf.subjectNameDer)) continue;
    try {
      const issuer = findIssuer(item, file, none);
      if (issuer) targets.push({ ...buildTarget(leaf, issuer, { hash }), paths: [item.path] });
    } catch {
      continue;
    }
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
  const sameBundle = bundle.filter((other) => other.index > item.index && namesIssuer(leaf, other.cert)).map((o) => o.cert);
  const candidates = [...sameBundle, ...issuerCandidates(leaf, authorities)];
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
