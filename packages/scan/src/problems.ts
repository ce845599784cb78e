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
  /**
   * The path is a FIFO, socket, device or directory where a certificate file was expected (seen by
   * the walk, or by the reader's `fstat` when a file was swapped after the walk): never read.
   */
  | 'not-a-regular-file'
  /** The file is larger than `maxFileBytes` (or grew past it while read): not read, not parsed. */
  | 'too-large'
  /** The file holds a private key: skipped without parsing, its bytes never logged. */
  | 'private-key'
  /** The file holds no parsable X.509 certificate. */
  | 'not-a-certificate'
  /** No certificate in the same bundle or anywhere in the scan issued this leaf. */
  | 'no-issuer'
  /**
   * More than `MAX_ISSUER_CANDIDATES` (4) certificates of the scan are named as this leaf's issuer
   * (same name, no contradicting key identifier), and none of the first four signed it: the others
   * are not checked, so that a file of many look-alike CAs costs linear time.
   */
  | 'too-many-issuers'
  /** The leaf has an AIA OCSP URL, but none is http(s) (e.g. ldap://). */
  | 'non-http-ocsp-url'
  /** The leaf's notAfter is in the past. */
  | 'expired'
  /**
   * Issuer = subject and the certificate's signature verifies under its own key (`openssl req
   * -x509`), CA or not: no CA vouches for it, so there is no staple to fetch. Reported for a
   * self-signed leaf, and for a file holding only self-signed CA certificates that issued no
   * certificate of the scan (a root above a scanned leaf's chain is not reported).
   */
  | 'self-signed'
  /**
   * The file holds certificates but no leaf: only CA certificates, none of which issued a leaf of
   * the scan, directly or through another CA of the scan. (certbot's chain.pem, which holds the
   * issuer of the cert.pem beside it, is normal and not reported.)
   */
  | 'no-leaf'
  /** Turning the certificate into a target failed unexpectedly; the detail has the error. */
  | 'unusable';

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

/** A filesystem error as the problem of the path it happened on. */
export function fsProblem(path: string, err: unknown): ScanProblem {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return { path, code: 'not-found', detail: 'no such file or directory (or a dangling symbolic link)' };
  }
  if (code === 'ELOOP') return { path, code: 'symlink-loop', detail: 'symbolic link loop' };
  // open(2) on a socket, or on a device file without a driver.
  if (code === 'ENXIO') return { path, code: 'not-a-regular-file', detail: 'a socket or a device (ENXIO); not read' };
  const message = err instanceof Error ? err.message : String(err);
  return { path, code: 'unreadable', detail: message };
}

/** What a non-regular file is, for `not-a-regular-file` details. */
export function fileKind(info: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isDirectory()) return 'a directory';
  return 'not a regular file';
}
