import type { OcspResponseStatus } from './types.js';

/**
 * Stable error codes of packages/ocsp. The queue decides retries from `retryable`.
 * - `malformed-certificate`: input is not a parsable X.509 certificate (PEM or DER), or the issuer
 *   key given to the verifier is not a SubjectPublicKeyInfo.
 * - `malformed`: the response does not parse as an OCSPResponse/BasicOCSPResponse.
 * - `unsuccessful:<status>`: responseStatus is not successful (tryLater, unauthorized...).
 * - `certid-mismatch`: no SingleResponse for the requested CertID.
 * - `bad-signature`: the signature does not verify.
 * - `unauthorized-signer`: signed by a key that is neither the issuer nor a valid delegated responder.
 * - `unsupported-algorithm`: signature or hash algorithm we do not implement.
 * - `not-yet-valid`: thisUpdate (or producedAt) is in the future beyond the allowed skew.
 * - `expired`: nextUpdate is in the past.
 * - `no-next-update`: nextUpdate absent (such a response cannot be cached or stapled safely).
 */
export type OcspErrorCode =
  | 'malformed-certificate'
  | 'malformed'
  | `unsuccessful:${OcspResponseStatus}`
  | 'certid-mismatch'
  | 'bad-signature'
  | 'unauthorized-signer'
  | 'unsupported-algorithm'
  | 'not-yet-valid'
  | 'expired'
  | 'no-next-update';

/** Codes a retry may fix (a flaky responder, a CDN node serving stale or broken data). */
const RETRYABLE: ReadonlySet<OcspErrorCode> = new Set<OcspErrorCode>([
  'malformed',
  'unsuccessful:tryLater',
  'unsuccessful:internalError',
  'expired',
  'not-yet-valid',
]);

export class OcspError extends Error {
  override readonly name = 'OcspError';
  readonly code: OcspErrorCode;
  readonly retryable: boolean;

  constructor(code: OcspErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retryable = RETRYABLE.has(code);
  }
}

export function isOcspError(err: unknown): err is OcspError {
  return err instanceof OcspError;
}
