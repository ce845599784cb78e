import { buildTarget, isIssuedBy, type CertIdHash, type ParsedCertificate, type StapleTarget } from '@staplewarm/ocsp';
import type { ScanProblem } from '../problems.js';
import { IssuerIndex, MAX_ISSUER_CANDIDATES } from './issuers.js';

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

/** One certificate as found on disk: where, and at which position of its bundle. */
export interface FoundCertificate {
  cert: ParsedCertificate;
  path: string;
  /** Position in the file's bundle (0 = first). Issuers are looked for after the leaf first. */
  index: number;
}

/**
 * A leaf the pairing is done with (handed out as a target, or reported): the scan keeps its
 * fingerprint only, so a copy of it in a later file adds a path without being parsed again.
 */
export interface ReleasedLeaf {
  fingerprint: string;
  released: true;
}

/** What a file holds, in bundle order: certificates, or leaves already released. */
export type FileCertificate = ParsedCertificate | ReleasedLeaf;

/** A leaf still waiting for its issuer, with every path it was found in so far. */
interface PendingLeaf {
  cert: ParsedCertificate;
  paths: string[];
  /** Its candidate issuers among the certificates after it in its first file (fullchain.pem). */
  bundleTail: ParsedCertificate[];
}

/**
 * Leaves waiting for an issuer that the pairing holds before it tries the oldest against the CA
 * certificates read so far. In a certbot tree a leaf waits for one file (cert.pem, then
 * fullchain.pem pairs it with the paths of both); in a directory of leaves whose CA was read
 * earlier (or a scan of cert.pem and chain.pem only), this pairs them while reading instead of
 * holding every certificate to the end. A leaf whose issuer has not been read yet waits for `finish`.
 */
export const PENDING_WINDOW = 1_000;

type LeafState = PendingLeaf | 'handed-out' | 'settled';

/** What `Pairer.finish` returns: the last targets, the reports, and paths found after a handout. */
export interface PairingEnd extends PairingResult {
  /** Paths found after the target of this fingerprint was handed out by `addFile`. */
  morePaths: Map<string, string[]>;
}

/**
 * Pairs leaves with their issuers file by file, keeping only what later files may still need: CA
 * certificates, and the leaves still waiting for an issuer. A leaf is decided as soon as it can
 * be: when first seen if it cannot be warmed whatever comes later (self-signed, expired, no OCSP
 * URL, no http(s) one), as soon as its issuer follows it in a bundle (certbot's fullchain.pem: in
 * a certbot tree, every leaf), against the CA certificates read so far once more than
 * `PENDING_WINDOW` leaves wait; the rest in `finish`, against every CA certificate of the scan. A
 * decided leaf is released (its fingerprint is kept, not the certificate), so a 50K-site scan
 * holds a handful of certificates at a time, not 50,000.
 *
 * Candidate issuers come first from the certificates after the leaf in its own bundle, then from
 * every CA certificate of the scan, by key identifier and then by name. The key identifiers decide
 * when they link the leaf to one key (OpenSSL's `X509_check_issued` rule: no signature check, which
 * costs up to 0.4 ms per leaf with P-384 issuers); otherwise the signature does, over at most
 * `MAX_ISSUER_CANDIDATES` candidates.
 */
export class Pairer {
  private readonly leaves = new Map<string, LeafState>();
  private readonly authorities = new IssuerIndex();
  /** The issuer name and key identifier of every leaf seen, once each: what `no-leaf` needs. */
  private readonly issuersOfLeaves = new Map<string, IssuerRef>();
  private readonly caOnlyFiles: { path: string; cas: ParsedCertificate[] }[] = [];
  private readonly morePaths = new Map<string, string[]>();
  private readonly noOcspUrl: NoOcspLeaf[] = [];
  private readonly problems: ScanProblem[] = [];
  /** Leaves not yet tried against the scan's CA certificates, oldest first. */
  private readonly untried = new Set<PendingLeaf>();

  /**
   * @param step called for each leaf `finish` pairs (a scan of leaves without key identifiers can
   * spend seconds there checking signatures): the scan thread's heartbeat.
   */
  constructor(
    private readonly now: number,
    private readonly hash: CertIdHash = 'sha1',
    private readonly step: () => void = () => {},
  ) {}

  /**
   * What the pairing holds for this fingerprint: the certificate (a CA, or a leaf still waiting),
   * a released leaf, or undefined (never seen: the caller parses it).
   */
  known(fingerprint: string): FileCertificate | undefined {
    const state = this.leaves.get(fingerprint);
    if (state === undefined) return this.authorities.get(fingerprint);
    return typeof state === 'string' ? { fingerprint, released: true } : state.cert;
  }

  /**
   * One file's certificates, in bundle order (files in walk order, so that a certificate's first
   * path is the one reported). Returns the targets paired now; each target is returned once.
   */
  addFile(path: string, certs: readonly FileCertificate[]): ScannedTarget[] {
    let onlyCAs = certs.length > 0;
    for (const item of certs) {
      if (isReleased(item) || !item.isCA) onlyCAs = false;
      else this.authorities.add(item);
    }
    if (onlyCAs) {
      this.caOnlyFiles.push({ path, cas: certs as ParsedCertificate[] });
      return [];
    }
    const targets: ScannedTarget[] = [];
    const inThisFile = new Set<string>();
    let bundle: IssuerIndex | undefined;
    certs.forEach((item, position) => {
      if (inThisFile.has(item.fingerprint)) return; // a copy within the file: one path
      inThisFile.add(item.fingerprint);
      if (!isReleased(item) && item.isCA) return;
      const state = this.leaves.get(item.fingerprint);
      if (isReleased(item) || typeof state === 'string') {
        if (state === 'handed-out') push(this.morePaths, item.fingerprint, path);
        return;
      }
      const firstSight = state === undefined;
      let pending: PendingLeaf;
      if (state === undefined) {
        if (this.settleAtFirstSight(item, path)) {
          this.leaves.set(item.fingerprint, 'settled');
          return;
        }
        pending = { cert: item, paths: [path], bundleTail: [] };
        this.leaves.set(item.fingerprint, pending);
        this.untried.add(pending);
      } else {
        pending = state;
        pending.paths.push(path);
      }
      if (position === certs.length - 1) return; // nothing follows it here
      bundle ??= bundleIndex(certs);
      const candidates = bundle.candidates(item, MAX_ISSUER_CANDIDATES + 1, position);
      if (firstSight) pending.bundleTail = candidates;
      if (candidates.length === 0) return;
      try {
        const issuer = chooseIssuer(item, candidates);
        if (issuer === undefined) return; // the scan's CA certificates may still hold its issuer
        if (issuer === TOO_MANY) {
          // Only in its first file: `finish` would check the same candidates first, and fail again.
          if (!firstSight) return;
          this.problems.push(tooManyIssuers(item, path));
          this.release(pending, 'settled');
          return;
        }
        targets.push({ ...buildTarget(item, issuer, { hash: this.hash }), paths: pending.paths });
        this.release(pending, 'handed-out');
      } catch (err) {
        // A certificate that parsed but breaks a later step (an issuer key node:crypto rejects...)
        // is this leaf's problem, not the end of the scan.
        this.problems.push(unusable(item, pending.paths[0] ?? path, err));
        this.release(pending, 'settled');
      }
    });
    for (const oldest of this.untried) {
      if (this.untried.size <= PENDING_WINDOW) break;
      this.tryEarly(oldest, targets);
    }
    return targets;
  }

  /**
   * Tries a leaf against the CA certificates read so far, once. Only an issuer found pairs it now:
   * the CertID is made of the issuer's name and key, which a signature that verifies (or key
   * identifiers that agree, as everywhere) already fix, so a CA certificate read later could not
   * change it. Otherwise the leaf waits for `finish`, which has every CA certificate of the scan.
   */
  private tryEarly(pending: PendingLeaf, targets: ScannedTarget[]): void {
    this.untried.delete(pending);
    try {
      const issuer = chooseIssuer(pending.cert, this.candidates(pending));
      if (issuer === undefined || issuer === TOO_MANY) return;
      targets.push({ ...buildTarget(pending.cert, issuer, { hash: this.hash }), paths: pending.paths });
      this.release(pending, 'handed-out');
    } catch {
      // `finish` tries again, and reports it.
    }
  }

  /** The leaf's candidate issuers: after it in its first bundle, then among the scan's CA certificates. */
  private candidates(pending: PendingLeaf): ParsedCertificate[] {
    const candidates = [...pending.bundleTail];
    for (const candidate of this.authorities.candidates(pending.cert, MAX_ISSUER_CANDIDATES + 1)) {
      if (candidates.length > MAX_ISSUER_CANDIDATES) break;
      if (!candidates.some((other) => other.fingerprint === candidate.fingerprint)) candidates.push(candidate);
    }
    return candidates;
  }

  private release(pending: PendingLeaf, state: 'handed-out' | 'settled'): void {
    this.leaves.set(pending.cert.fingerprint, state);
    this.untried.delete(pending);
  }

  /**
   * Pairs the leaves still waiting against every CA certificate of the scan, and reports the
   * files whose CA certificates vouch for no leaf of the scan. Call once, after the last file.
   */
  finish(): PairingEnd {
    const targets: ScannedTarget[] = [];
    this.untried.clear();
    for (const [fingerprint, state] of this.leaves) {
      if (typeof state === 'string') continue;
      this.step();
      const leaf = state.cert;
      const path = state.paths[0] as string;
      this.leaves.set(fingerprint, 'settled');
      try {
        const issuer = chooseIssuer(leaf, this.candidates(state));
        if (issuer === undefined) {
          this.problems.push({ ...where(leaf, path), code: 'no-issuer', detail: `no issuer certificate found for ${leaf.subject}` });
        } else if (issuer === TOO_MANY) {
          this.problems.push(tooManyIssuers(leaf, path));
        } else {
          targets.push({ ...buildTarget(leaf, issuer, { hash: this.hash }), paths: state.paths });
          this.leaves.set(fingerprint, 'handed-out');
        }
      } catch (err) {
        this.problems.push(unusable(leaf, path, err));
      }
    }
    this.problems.push(...this.filesWithoutLeaf());
    return { targets, noOcspUrl: this.noOcspUrl, problems: this.problems, leaves: this.leaves.size, morePaths: this.morePaths };
  }

  /** Decides a leaf that cannot be warmed whatever the other files hold; true when it did. */
  private settleAtFirstSight(leaf: ParsedCertificate, path: string): boolean {
    const at = where(leaf, path);
    const issuer: IssuerRef = { issuerNameDer: leaf.issuerNameDer, authorityKeyId: leaf.authorityKeyId };
    const key = issuerKey(issuer);
    if (!this.issuersOfLeaves.has(key)) this.issuersOfLeaves.set(key, issuer);
    try {
      if (isSelfSigned(leaf)) {
        this.problems.push({ ...at, code: 'self-signed', detail: `self-signed (${leaf.subject}): no CA to ask for its OCSP status` });
        return true;
      }
    } catch (err) {
      this.problems.push(unusable(leaf, path, err));
      return true;
    }
    if (leaf.notAfter.getTime() <= this.now) {
      this.problems.push({ ...at, code: 'expired', detail: `expired ${leaf.notAfter.toISOString()} (${leaf.subject})` });
      return true;
    }
    if (leaf.ocspUrls.length === 0) {
      this.noOcspUrl.push(at);
      return true;
    }
    if (!leaf.ocspUrls.some(isHttpUrl)) {
      this.problems.push({ ...at, code: 'non-http-ocsp-url', detail: `OCSP URL not http(s): ${leaf.ocspUrls.join(' ')}` });
      return true;
    }
    return false;
  }

  /**
   * The files that hold certificates but no leaf, and whose CA certificates vouch for no leaf of the
   * scan: reported `self-signed` when they all are (a customer's `openssl req -x509` certificate is
   * a CA certificate by OpenSSL's defaults), `no-leaf` otherwise (a stray intermediate and root). A
   * CA vouches for a leaf when it may have issued it, or a CA that does, by names and key
   * identifiers: certbot's chain.pem (the issuer of the cert.pem beside it, even one without an
   * OCSP URL) and a CA directory holding a chain's root are normal.
   */
  private filesWithoutLeaf(): ScanProblem[] {
    const vouching = new Set<string>();
    // Up the chains by issuer name and key identifier, each list of candidates walked once, so
    // that many CAs of one name cost their number, not its square (a root, its own issuer, or a
    // cross-signing loop ends it too).
    const walked = new Set<unknown>();
    const queued = new Set(this.issuersOfLeaves.keys());
    const queue = [...this.issuersOfLeaves.values()];
    for (let next = queue.pop(); next; next = queue.pop()) {
      for (const list of this.authorities.listsFor(next.issuerNameDer, next.authorityKeyId)) {
        if (walked.has(list)) continue;
        walked.add(list);
        for (const ca of list.certs) {
          if (vouching.has(ca.fingerprint)) continue;
          vouching.add(ca.fingerprint);
          const up: IssuerRef = { issuerNameDer: ca.issuerNameDer, authorityKeyId: ca.authorityKeyId };
          const key = issuerKey(up);
          if (queued.has(key)) continue;
          queued.add(key);
          queue.push(up);
        }
      }
    }

    const problems: ScanProblem[] = [];
    for (const { path, cas } of this.caOnlyFiles) {
      if (cas.some((ca) => vouching.has(ca.fingerprint))) continue;
      const selfSigned = cas.every((ca) => safely(() => isSelfSigned(ca))) ? cas[0] : undefined;
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
      const subjects = [...new Set(cas.map((ca) => ca.subject))];
      const shown = subjects.slice(0, 3).join('; ') + (subjects.length > 3 ? `; and ${subjects.length - 3} more` : '');
      problems.push({
        path,
        code: 'no-leaf',
        detail: `no leaf certificate: only ${cas.length === 1 ? 'a CA certificate' : `${cas.length} CA certificates`} (${shown}) that issued no leaf of this scan`,
      });
    }
    return problems;
  }
}

/**
 * Pure: turns every certificate found into targets or reasons (see `Pairer`), for callers that read
 * certificates themselves. `found` in path order; each file's certificates in bundle order.
 * Also reported: self-signed leaves, files holding only CA certificates that vouch for no leaf of
 * the scan (`no-leaf`, or `self-signed` when one of them is), and any leaf that throws on the way
 * (`unusable`): one certificate never ends the scan.
 */
export function pairLeaves(found: readonly FoundCertificate[], now: number, hash: CertIdHash = 'sha1'): PairingResult {
  const pairer = new Pairer(now, hash);
  const files = new Map<string, FoundCertificate[]>();
  for (const item of found) push(files, item.path, item);
  const targets: ScannedTarget[] = [];
  for (const [path, items] of files)
    targets.push(
      ...pairer.addFile(
        path,
        [...items].sort((a, b) => a.index - b.index).map((i) => i.cert),
      ),
    );
  const end = pairer.finish();
  for (const target of targets) target.paths.push(...(end.morePaths.get(target.fingerprint) ?? []));
  return { targets: [...targets, ...end.targets], noOcspUrl: end.noOcspUrl, problems: end.problems, leaves: end.leaves };
}

/**
 * Pure: the leaves of one file whose issuer follows them in the same bundle (fullchain.pem), as
 * a scan pairs them while it still reads. Everything else is left to `pairLeaves`, which reports it.
 */
export function pairWithinBundle(file: readonly FoundCertificate[], now: number, hash: CertIdHash = 'sha1'): ScannedTarget[] {
  const [first] = file;
  return first
    ? new Pairer(now, hash).addFile(
        first.path,
        file.map((item) => item.cert),
      )
    : [];
}

/** The issuer side of a certificate: what its candidate issuers are looked up by. */
interface IssuerRef {
  issuerNameDer: Buffer;
  authorityKeyId: string | undefined;
}

function issuerKey(ref: IssuerRef): string {
  return `${ref.authorityKeyId ?? ''}/${ref.issuerNameDer.toString('latin1')}`;
}

const TOO_MANY = 'too-many';

/**
 * The issuer among the candidates (in order, at most `MAX_ISSUER_CANDIDATES + 1` of them).
 * Linked by key identifier and only one key in sight: the identifiers already name the key, as
 * OpenSSL's X509_check_issued decides. Skipping the signature here saves 17 µs (RSA-2048) to
 * 425 µs (P-384) per leaf; a wrong key could only yield a CertID its responder answers `unknown`
 * or signs with a key the verifier rejects, never a stored staple. Otherwise the first candidate
 * whose signature verifies, among the first `MAX_ISSUER_CANDIDATES`: `TOO_MANY` when there were
 * more and none of those did.
 */
function chooseIssuer(leaf: ParsedCertificate, candidates: readonly ParsedCertificate[]): ParsedCertificate | typeof TOO_MANY | undefined {
  const [first] = candidates;
  if (!first) return undefined;
  const more = candidates.length > MAX_ISSUER_CANDIDATES;
  if (
    !more &&
    leaf.authorityKeyId !== undefined &&
    first.subjectKeyId !== undefined &&
    candidates.every((c) => c.spkiDer.equals(first.spkiDer))
  ) {
    return first;
  }
  for (let i = 0; i < Math.min(candidates.length, MAX_ISSUER_CANDIDATES); i++) {
    const candidate = candidates[i] as ParsedCertificate;
    if (isIssuedBy(leaf, candidate)) return candidate;
  }
  return more ? TOO_MANY : undefined;
}

/** A bundle's certificates by name and key identifier, with their positions. */
function bundleIndex(certs: readonly FileCertificate[]): IssuerIndex {
  const index = new IssuerIndex();
  certs.forEach((item, position) => {
    if (!isReleased(item)) index.add(item, position, false);
  });
  return index;
}

/**
 * Issuer = subject, and the signature verifies under the certificate's own key. The name check
 * comes first and is a byte comparison, so the signature is checked only for self-issued names.
 */
function isSelfSigned(cert: ParsedCertificate): boolean {
  return cert.issuerNameDer.equals(cert.subjectNameDer) && isIssuedBy(cert, cert);
}

function isReleased(item: FileCertificate): item is ReleasedLeaf {
  return 'released' in item;
}

function where(leaf: ParsedCertificate, path: string): NoOcspLeaf {
  return { path, fingerprint: leaf.fingerprint, names: leaf.dnsNames };
}

function tooManyIssuers(leaf: ParsedCertificate, path: string): ScanProblem {
  return {
    ...where(leaf, path),
    code: 'too-many-issuers',
    detail:
      `more than ${MAX_ISSUER_CANDIDATES} certificates are named as the issuer of ${leaf.subject}; ` +
      `the first ${MAX_ISSUER_CANDIDATES} were checked and none signed it, the others were not`,
  };
}

function unusable(leaf: ParsedCertificate, path: string, err: unknown): ScanProblem {
  return { ...where(leaf, path), code: 'unusable', detail: `${leaf.subject}: ${err instanceof Error ? err.message : String(err)}` };
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
