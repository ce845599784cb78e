/**
 * Which stored staple answers which request. A response answers a request only when one of its
 * SingleResponses carries exactly the requested CertID, hash algorithm included: OpenSSL's
 * `OCSP_resp_find_status` (used by nginx, Apache, HAProxy and `openssl ocsp`) compares the
 * algorithm, so a SHA-1 response is no answer to a SHA-256 request. Pure; the clock is passed in.
 */
import { createHash } from 'node:crypto';
import { isOcspError, parseOcspResponse, type CertStatus, type RequestedCertId } from '@staplewarm/ocsp';
import { servedTimes, type ServedTimes } from './http-headers.js';

/** A stored response ready to serve: the bytes and what its headers need, computed once. */
export interface StapleEntry extends ServedTimes {
  der: Buffer;
  status: CertStatus;
}

export type StapleMatch =
  | { kind: 'match'; entry: StapleEntry }
  /** The stored response is for this certificate, in the other CertID hash. */
  | { kind: 'other-hash'; storedHash: string }
  /** Nothing in the stored response names the requested CertID. */
  | { kind: 'mismatch' }
  /** It cannot be served (expired, status unknown, not successful, does not parse). */
  | { kind: 'unusable'; reason: string };

/**
 * Checks a stored staple against the requested CertID.
 * @param expiresInMs - Redis's remaining time to live of the staple key (its expiresAt); null if unknown.
 */
export function matchStaple(der: Buffer, requested: RequestedCertId, expiresInMs: number | null, now: number): StapleMatch {
  let summary: ReturnType<typeof parseOcspResponse>;
  try {
    summary = parseOcspResponse(der);
  } catch (err) {
    if (isOcspError(err)) return { kind: 'unusable', reason: err.message };
    throw err;
  }
  if (summary.responseStatus !== 'successful') return { kind: 'unusable', reason: `response status ${summary.responseStatus}` };
  const serial = requested.serialNumber.toLowerCase();
  const single = summary.responses.find(
    ({ certId }) =>
      certId.hashAlgorithm === (requested.hashAlgorithm ?? requested.hashAlgorithmOid) &&
      certId.issuerNameHash === requested.issuerNameHash.toLowerCase() &&
      certId.issuerKeyHash === requested.issuerKeyHash.toLowerCase() &&
      certId.serialNumber === serial,
  );
  if (!single) {
    const sameSerial = summary.responses.find(({ certId }) => certId.serialNumber === serial);
    return sameSerial ? { kind: 'other-hash', storedHash: sameSerial.certId.hashAlgorithm } : { kind: 'mismatch' };
  }
  if (single.status === 'unknown') return { kind: 'unusable', reason: 'status unknown' };
  if (!single.nextUpdate) return { kind: 'unusable', reason: 'no nextUpdate' };
  const nextUpdate = single.nextUpdate.getTime();
  const expiresAt = Math.min(nextUpdate, expiresInMs === null ? nextUpdate : now + expiresInMs);
  if (expiresAt <= now) return { kind: 'unusable', reason: 'expired' };
  const thisUpdate = single.thisUpdate.getTime();
  const etag = `"${createHash('sha256').update(der).digest('hex').slice(0, 32)}"`;
  return { kind: 'match', entry: { der, status: single.status, ...servedTimes({ thisUpdate, nextUpdate, expiresAt, etag }) } };
}
