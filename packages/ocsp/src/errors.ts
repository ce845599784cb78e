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

/**
 * Stable codes of request decoding (the relay reads clients' OCSPRequests; workers never see these).
 * Kept apart from OcspErrorCode, whose codes the queue maps to fetch outcomes.
 * - `malformed-request`: not a DER OCSPRequest (RFC 6960 4.1.1), or one staplewarm refuses to read
 *   (an empty request list, a version other than v1, CertID hashes of the wrong length).
 * - `request-too-large`: more bytes than any OCSP request needs; refused unread.
 */
export type OcspRequestErrorCode = 'malformed-request' | 'request-too-large';

export class OcspRequestError extends Error {
  override readonly name = 'OcspRequestError';
  readonly code: OcspRequestErrorCode;

  constructor(code: OcspRequestErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isOcspRequestError(err: unknown): err is OcspRequestError {
  return err instanceof OcspRequestError;
}
