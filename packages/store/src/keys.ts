/**
 * The one place that builds Redis key names of contract v1 (see CONTRACT.md). The OpenResty module
 * builds the same names in Lua; change nothing here without a new contract version.
 */

export const DEFAULT_PREFIX = 'ocsp:';

export interface StapleKeys {
  /** `<prefix>staple:<fp>`: string, the raw DER OCSPResponse. */
  staple(fingerprint: string): string;
  /** `<prefix>meta:<fp>`: hash, what is known about the certificate and its staple. */
  meta(fingerprint: string): string;
  /** `<prefix>host:<name>`: string, the fingerprint of the certificate serving `name`. */
  host(name: string): string;
  /**
   * `<prefix>issuer:<hash>:<issuerNameHash>:<issuerKeyHash>`: hash, an issuer the CertID index knows,
   * under the issuer half of a CertID in `hash` (sha1 or sha256). Hex is lowercased.
   */
  issuer(hash: string, issuerNameHash: string, issuerKeyHash: string): string;
  /** `<prefix>certid:<issuerId>:<serial>`: string, the fingerprint of the certificate with that CertID. */
  certId(issuerId: string, serialNumber: string): string;
  /**
   * `<prefix>changed`: the pub/sub channel (not a key) on which each written staple's fingerprint is
   * published, for readers that copy staples elsewhere (exporters).
   */
  changedChannel(): string;
  /** SCAN MATCH pattern for every meta key under this prefix (glob characters of the prefix escaped). */
  metaPattern(): string;
  /** The fingerprint in a meta key built by `meta()`. */
  fingerprintOfMeta(key: string): string;
}

export function stapleKeys(prefix: string = DEFAULT_PREFIX): StapleKeys {
  const metaPrefix = `${prefix}meta:`;
  return {
    staple: (fp) => `${prefix}staple:${normalizeFingerprint(fp)}`,
    meta: (fp) => `${metaPrefix}${normalizeFingerprint(fp)}`,
    host: (name) => `${prefix}host:${normalizeHostName(name)}`,
    issuer: (hash, nameHash, keyHash) => `${prefix}issuer:${hash}:${nameHash.toLowerCase()}:${keyHash.toLowerCase()}`,
    certId: (issuerId, serial) => `${prefix}certid:${issuerId.toLowerCase()}:${serial.toLowerCase()}`,
    changedChannel: () => `${prefix}changed`,
    metaPattern: () => `${escapeGlob(metaPrefix)}*`,
    fingerprintOfMeta: (key) => key.slice(metaPrefix.length),
  };
}

/** Fingerprints are lowercase hex SHA-256 of the certificate DER. */
export function normalizeFingerprint(fp: string): string {
  return fp.toLowerCase();
}

/** DNS names are stored lowercased; a wildcard stays as written (`*.example.com`). */
export function normalizeHostName(name: string): string {
  return name.toLowerCase();
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
