import type { CertStatus, Staple } from '@staplewarm/ocsp';

/** A verified staple and the certificate facts stored beside it. */
export interface StapleRecord {
  fingerprint: string;
  staple: Staple;
  /** The URL that answered. */
  responder: string;
  /** DNS names of the certificate (lowercased on write; wildcards as `*.example.com`). */
  names: string[];
  mustStaple: boolean;
  /** Certificate notAfter, epoch ms. */
  certNotAfter: number;
  /**
   * When the response arrived, by the caller's clock. Stored as information (`fetchedAt`) only:
   * no expiry and no rule of the store is computed from it.
   */
  fetchedAt: Date;
}

/**
 * `older`: the stored staple has a later thisUpdate. `revoked-kept`: a stored revoked staple is never
 * replaced by a good one. `expired`: the staple's expiresAt is not after Redis' clock (`TIME`), whatever
 * the caller's clock says; nothing was written.
 */
export type WriteOutcome = { written: true } | { written: false; reason: 'older' | 'revoked-kept' | 'expired' };

export interface StapleFailure {
  /** A stable error code, e.g. `rate-limited` or `bad-signature`. */
  code: string;
  message: string;
  /** When the attempt failed, by the caller's clock; stored as information (`lastErrorAt`) only. */
  at: Date;
}

/** The certificate facts a failed attempt refreshes in meta (never host aliases: only a verified staple claims a name). */
export interface FailureContext {
  names: string[];
  mustStaple: boolean;
  /** Certificate notAfter, epoch ms. */
  certNotAfter: number;
  /** Recorded only when meta has no responder yet (it otherwise names the stored staple's source). */
  responder?: string;
}

/** The `<prefix>meta:<fp>` hash, decoded. Fields absent from the hash are undefined. */
export interface StapleMeta {
  fingerprint: string;
  status?: CertStatus;
  thisUpdate?: Date;
  nextUpdate?: Date;
  producedAt?: Date;
  fetchedAt?: Date;
  expiresAt?: Date;
  /** Certificate serial number, lowercase hex. */
  serial?: string;
  responder?: string;
  names: string[];
  mustStaple: boolean;
  certNotAfter?: Date;
  revocationTime?: Date;
  revocationReason?: string;
  lastError?: string;
  lastErrorCode?: string;
  lastErrorAt?: Date;
}

/** What warm needs to decide whether a certificate needs a fetch. */
export interface StapleState {
  hasStaple: boolean;
  status?: CertStatus;
  thisUpdate?: Date;
  nextUpdate?: Date;
  certNotAfter?: Date;
}
