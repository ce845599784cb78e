/**
 * A minimal, zero-copy DER reader for the hot path (OCSP responses).
 *
 * Why not asn1js: `asn1js.fromBER` decodes every nested value (and tries to decode the contents of
 * every OCTET STRING and BIT STRING as ASN.1 too), which measured ~1,500 responses/s on this machine.
 * Verification needs a dozen fields, so we walk the tag-length-value headers and slice the Buffer.
 * Only definite lengths and low tag numbers (< 31) are accepted: that is all DER OCSP uses.
 */

/** Thrown on any structural problem; callers translate it to their own typed error. */
export class DerError extends Error {
  override readonly name = 'DerError';
}

/** One tag-length-value element: offsets into the buffer it was read from. */
export interface Tlv {
  /** The identifier octet: class (2 bits), constructed (1 bit), tag number (5 bits). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  valueStart: number;
  /** Offset just past the last content octet. */
  end: number;
}

/** Universal tags and the context-specific tags OCSP and X.509 use, as identifier octets. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag octet: `[n]` constructed (EXPLICIT or IMPLICIT SEQUENCE) or primitive. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** Reads the element starting at `offset`, which must end at or before `limit`. */
export function readTlv(buf: Buffer, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated header at ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number at ${offset}`);
  let length = buf[offset + 1]!;
  let valueStart = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new DerError(`unsupported length form at ${offset}`);
    if (valueStart + octets > limit) throw new DerError(`truncated length at ${offset}`);
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[valueStart + i]!;
    valueStart += octets;
  }
  const end = valueStart + length;
  if (end > limit) throw new DerError(`element at ${offset} overruns its container`);
  return { tag, start: offset, valueStart, end };
}

/** Reads `buf` as exactly one element (no trailing bytes). */
export function readRoot(buf: Buffer): Tlv {
  const tlv = readTlv(buf, 0, buf.length);
  if (tlv.end !== buf.length) throw new DerError('trailing bytes after the outer element');
  return tlv;
}

/** The elements directly inside a constructed element. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let offset = parent.valueStart;
  while (offset < parent.end) {
    const tlv = readTlv(buf, offset, parent.end);
    out.push(tlv);
    offset = tlv.end;
  }
  return out;
}

/** Asserts the element's tag; `what` names the field in the error. */
export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv) throw new DerError(`${what}: missing`);
  if (tlv.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${tlv.tag.toString(16)}`);
  return tlv;
}

/** The content octets (zero-copy view). */
export function contents(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.valueStart, tlv.end);
}

/** The whole encoding, header included (zero-copy view). */
export function encoding(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.start, tlv.end);
}

/** A small non-negative INTEGER or ENUMERATED value. */
export function readSmallInt(buf: Buffer, tlv: Tlv): number {
  const len = tlv.end - tlv.valueStart;
  if (len < 1 || len > 4) throw new DerError(`integer of ${len} octets where a small number was expected`);
  let value = 0;
  for (let i = tlv.valueStart; i < tlv.end; i++) value = value * 256 + buf[i]!;
  return value;
}

/** BIT STRING value without the unused-bits octet; only whole-octet strings are accepted. */
export function readBitStringBytes(buf: Buffer, tlv: Tlv): Buffer {
  expectTag(tlv, TAG.BIT_STRING, 'BIT STRING');
  if (tlv.end === tlv.valueStart || buf[tlv.valueStart] !== 0) throw new DerError('BIT STRING with unused bits');
  return buf.subarray(tlv.valueStart + 1, tlv.end);
}

/** An AlgorithmIdentifier (RFC 5280 4.1.1.2): the OID and the parameters' encoding, absent or NULL left out. */
export interface AlgorithmIdentifier {
  oid: string;
  params?: Buffer;
}

/** `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }` */
export function readAlgorithmIdentifier(buf: Buffer, tlv: Tlv | undefined, what: string): AlgorithmIdentifier {
  const [oid, params] = children(buf, expectTag(tlv, TAG.SEQUENCE, what));
  return {
    oid: readOid(buf, expectTag(oid, TAG.OID, `${what}.algorithm`)),
    ...(params && params.tag !== TAG.NULL && { params: encoding(buf, params) }),
  };
}

/** Dotted-decimal form of an OBJECT IDENTIFIER. */
export function readOid(buf: Buffer, tlv: Tlv): string {
  expectTag(tlv, TAG.OID, 'OBJECT IDENTIFIER');
  const parts: number[] = [];
  let value = 0;
  for (let i = tlv.valueStart; i < tlv.end; i++) {
    const octet = buf[i]!;
    value = value * 128 + (octet & 0x7f);
    if (octet & 0x80) continue;
    if (parts.length === 0) {
      const first = value < 80 ? Math.floor(value / 40) : 2;
      parts.push(first, value - first * 40);
    } else {
      parts.push(value);
    }
    value = 0;
  }
  if (parts.length === 0 || buf[tlv.end - 1]! & 0x80) throw new DerError('malformed OBJECT IDENTIFIER');
  return parts.join('.');
}

/**
 * GeneralizedTime (`YYYYMMDDHHMMSS[.fff]Z`) or UTCTime (`YYMMDDHHMMSSZ`, RFC 5280 two-digit years).
 * OCSP uses GeneralizedTime; UTCTime is accepted because it costs nothing.
 */
export function readTime(buf: Buffer, tlv: Tlv): Date {
  const text = buf.toString('latin1', tlv.valueStart, tlv.end);
  let match: RegExpExecArray | null;
  let year: number;
  if (tlv.tag === TAG.GENERALIZED_TIME) {
    match = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d{1,9}))?Z$/.exec(text);
    year = Number(match?.[1]);
  } else if (tlv.tag === TAG.UTC_TIME) {
    match = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)()Z$/.exec(text);
    const yy = Number(match?.[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else {
    throw new DerError(`expected a time, got tag 0x${tlv.tag.toString(16)}`);
  }
  if (!match) throw new DerError(`malformed time ${JSON.stringify(text)}`);
  const millis = match[7] ? Math.floor(Number(`0.${match[7]}`) * 1000) : 0;
  const ms = Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]), millis);
  if (Number.isNaN(ms)) throw new DerError(`invalid time ${JSON.stringify(text)}`);
  return new Date(ms);
}
