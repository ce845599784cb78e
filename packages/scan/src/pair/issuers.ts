import type { ParsedCertificate } from '@staplewarm/ocsp';

/**
 * Signature checks spent on one leaf, at most. Its candidate issuers are the certificates whose
 * subject name is its issuer name and whose key identifier does not contradict its own (OpenSSL's
 * `X509_check_issued` rule); a real chain has one, or a few sharing a key (cross-signs, re-issues).
 * A hostile bundle of ~850 leaves and ~850 same-name CAs without key identifiers cost ~360,000
 * checks (up to 0.4 ms each for P-384) before this bound; now each leaf costs at most this many,
 * and one whose issuer is not among them is reported `too-many-issuers`.
 */
export const MAX_ISSUER_CANDIDATES = 4;

/** Certificates of one name (and key identifier), in the order they were added, with their positions. */
export class CandidateList {
  readonly certs: ParsedCertificate[] = [];
  readonly positions: number[] = [];

  push(cert: ParsedCertificate, position: number): void {
    this.certs.push(cert);
    this.positions.push(position);
  }

  /** Index of the first certificate at a position after `after` (positions only grow). */
  firstAfter(after: number): number {
    let low = 0;
    let high = this.positions.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.positions[mid] as number) > after) high = mid;
      else low = mid + 1;
    }
    return low;
  }
}

interface NameGroup {
  all: CandidateList;
  bySubjectKeyId: Map<string, CandidateList>;
  withoutSubjectKeyId: CandidateList;
}

/**
 * Certificates by subject name and subject key identifier, so that the candidate issuers of a
 * certificate are found without looking at any other: a lookup costs the candidates it returns,
 * not the size of the index (a file of 1,700 certificates, or a scan of 50,000).
 */
export class IssuerIndex {
  private readonly groups = new Map<string, NameGroup>();
  private readonly byFingerprint = new Map<string, ParsedCertificate>();

  /** The certificate of this fingerprint, when it was added. */
  get(fingerprint: string): ParsedCertificate | undefined {
    return this.byFingerprint.get(fingerprint);
  }

  /**
   * Adds a certificate. The scan's index takes each certificate once (by fingerprint); a bundle's
   * takes every position (`once` false), since a copy further down may follow a later leaf.
   * Positions must not decrease.
   */
  add(cert: ParsedCertificate, position = 0, once = true): void {
    if (once && this.byFingerprint.has(cert.fingerprint)) return;
    this.byFingerprint.set(cert.fingerprint, cert);
    const key = cert.subjectNameDer.toString('latin1');
    let group = this.groups.get(key);
    if (!group) {
      group = { all: new CandidateList(), bySubjectKeyId: new Map(), withoutSubjectKeyId: new CandidateList() };
      this.groups.set(key, group);
    }
    group.all.push(cert, position);
    if (cert.subjectKeyId === undefined) {
      group.withoutSubjectKeyId.push(cert, position);
      return;
    }
    let list = group.bySubjectKeyId.get(cert.subjectKeyId);
    if (!list) group.bySubjectKeyId.set(cert.subjectKeyId, (list = new CandidateList()));
    list.push(cert, position);
  }

  /**
   * The lists that together hold every certificate that may have issued one with this issuer name
   * and authority key identifier (`namesIssuer`), those whose key identifier matches first.
   */
  listsFor(issuerNameDer: Buffer, authorityKeyId: string | undefined): CandidateList[] {
    const group = this.groups.get(issuerNameDer.toString('latin1'));
    if (!group) return [];
    if (authorityKeyId === undefined) return [group.all];
    const byKey = group.bySubjectKeyId.get(authorityKeyId);
    return byKey ? [byKey, group.withoutSubjectKeyId] : [group.withoutSubjectKeyId];
  }

  /**
   * Up to `limit` certificates that may have issued `cert` by names and key identifiers, at
   * positions after `after` (in a bundle: the certificates that follow the leaf), those whose key
   * identifier matches first, then in the order they were added.
   */
  candidates(cert: ParsedCertificate, limit: number, after = -1): ParsedCertificate[] {
    const found: ParsedCertificate[] = [];
    for (const list of this.listsFor(cert.issuerNameDer, cert.authorityKeyId)) {
      // At most `limit` entries of each list are looked at, duplicates included (a bundle may hold
      // a copy of its CA after every leaf): a lookup never costs more than the candidates it may return.
      const start = list.firstAfter(after);
      const end = Math.min(list.certs.length, start + limit);
      for (let i = start; i < end && found.length < limit; i++) {
        const candidate = list.certs[i] as ParsedCertificate;
        if (!found.some((other) => other.fingerprint === candidate.fingerprint)) found.push(candidate);
      }
    }
    return found;
  }
}
