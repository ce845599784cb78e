/**
 * Why a file or certificate could not become a staple target. Every unusable input ends up as one of
 * these (with the path), never as a crash: one broken file never stops the other 49,999.
 */
export type ScanProblemCode =
  /** The path does not exist. */
  | 'not-found'
  /** The file or directory could not be read (permissions, I/O error). */
  | 'unreadable'
  /** A symbolic link points back into its own ancestry, or is a dangling/looping link. */
  | 'symlink-loop'
  /** The file holds a private key: skipped without parsing, its bytes never logged. */
  | 'private-key'
  /** The file holds no parsable X.509 certificate. */
  | 'not-a-certificate'
  /** No certificate in the same bundle or anywhere in the scan issued this leaf. */
  | 'no-issuer'
  /** The leaf has an AIA OCSP URL, but none is http(s) (e.g. ldap://). */
  | 'non-http-ocsp-url'
  /** The leaf's notAfter is in the past. */
  | 'expired';

export interface ScanProblem {
  /** The file the problem was found in (the first one, when a certificate appears in several). */
  path: string;
  code: ScanProblemCode;
  /** One line for humans; never contains key material. */
  detail: string;
  /** For certificate-level problems: the leaf's SHA-256 fingerprint and names. */
  fingerprint?: string;
  names?: string[];
}
