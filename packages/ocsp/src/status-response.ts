/** The unsuccessful OCSPResponse a responder sends instead of a status (RFC 6960 4.2.1, 2.3). */
import { TAG } from './der.js';
import { derTlv } from './der-write.js';
import type { OcspResponseStatus } from './types.js';

/** RFC 6960 OCSPResponseStatus values (4 is not used). */
const STATUS_CODES: Readonly<Record<OcspResponseStatus, number>> = {
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
};

/**
 * `OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED }` with no responseBytes: what RFC 6960
 * 2.3 prescribes for every status but successful. These carry no signature, so a client cannot
 * tell who sent them; they are the same bytes for every request (a responder may cache them).
 */
export function encodeOcspStatusResponse(status: OcspResponseStatus): Buffer {
  return derTlv(TAG.SEQUENCE, derTlv(TAG.ENUMERATED, Buffer.from([STATUS_CODES[status]])));
}
