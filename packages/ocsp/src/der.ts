/**
 * A minimal, zero-copy DER reader for the hot path (OCSP responses) and for certificates.
 *
 * Why not asn1js: `asn1js.fromBER` decodes every nested value (and tries to decode the contents of
 * every OCTET STRING and BIT STRING as ASN.1 too), which measured ~1,500 responses/s on this machine.
 * Verification needs a dozen fields, so we walk the tag-length-value headers and slice the Buffer.
 *
 * It reads DER only (X.690 section 10), as Go's crypto/x509 and crypto/ocsp do: definite lengths in
 * the fewest octets, one identifier octet (tag numbers < 31: all X.509 and OCSP use), and the DER
 * forms of the primitives it decodes (BOOLEAN, INTEGER, OBJECT IDENTIFIER, BIT STRING, times).
 * BER-only forms are refused with a code that says which rule they break. Nothing here recurses:
 * `checkDer` walks nested elements with an explicit stack, so deep nesting costs time linear in
 * the input and no call stack.
 */

/**
 * Why a DerError was thrown: a stable code per rule (the message adds the detail).
 * - `truncated`: an element or header runs past the end of its container.
 * - `trailing-data`: bytes after the outer element, or an element after a structure's last field.
 * - `indefinite-length`, `non-minimal-length`: BER length forms DER forbids (X.690 10.1).
 * - `length-too-large`: a length of 4 GiB or more (more than four length octets).
 * - `high-tag-number`: the multi-octet identifier form (tag numbers >= 31, or BER's long form).
 * - `unexpected-tag`: an element of the wrong type where a field is expected (constructed strings too).
 * - `missing`: a required field is absent.
 * - `bad-boolean`, `bad-integer`, `bad-null`, `bad-oid`, `bad-bit-string`, `bad-time`, `bad-string`:
 *   the content of that type is not its DER form (or not a value at all).
 * - `unknown-value`: an enumerated value the RFC does not define (responseStatus 4, CRLReason 7...).
 * - `duplicate-extension`: RFC 5280 4.2: an extension appears at most once.
 * - `unsupported`: well-formed but outside what staplewarm reads (a non-basic OCSP response type).
 * - `invalid`: a rule of the structure being read that none of the above names (the message says which).
 */
export type DerErrorCode =
  | 'truncated'
  | 'trailing-data'
  | 'indefinite-length'
  | 'non-minimal-length'
  | 'length-too-large'
  | 'high-tag-number'
  | 'unexpected-tag'
  | 'missing'
  | 'bad-boolean'
  | 'bad-integer'
  | 'bad-null'
  | 'bad-oid'
  | 'bad-bit-string'
  | 'bad-time'
  | 'bad-string'
  | 'unknown-value'
  | 'duplicate-extension'
  | 'unsupported'
  | 'invalid';

/** Thrown on any structural problem; callers translate it to their own typed error. */
export class DerError extends Error {
  override readonly name = 'DerError';
  readonly code: DerErrorCode;

  /** `new DerError(message)` (code `invalid`) is for readers of other structures with rules of their own. */
  constructor(message: string);
  constructor(code: DerErrorCode, message: string);
  constructor(codeOrMessage: string, message?: string) {
    super(message ?? codeOrMessage);
    this.code = message === undefined ? 'invalid' : (codeOrMessage as DerErrorCode);
  }
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
  if (offset + 2 > limit) throw new DerError('truncated', `truncated header at ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high-tag-number', `high tag number at ${offset}`);
  let length = buf[offset + 1]!;
  let valueStart = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0) throw new DerError('indefinite-length', `indefinite length at ${offset}`);
    if (valueStart + octets > limit) throw new DerError('truncated', `truncated length at ${offset}`);
    const first = buf[valueStart]!;
    if (first === 0) throw new DerError('non-minimal-length', `length with a leading zero octet at ${offset}`);
    if (octets > 4) throw new DerError('length-too-large', `length of ${octets} octets at ${offset}`);
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[valueStart + i]!;
    if (length < 0x80) throw new DerError('non-minimal-length', `long form for a length of ${length} at ${offset}`);
    valueStart += octets;
  }
  const end = valueStart + length;
  if (end > limit) throw new DerError('truncated', `element at ${offset} overruns its container`);
  return { tag, start: offset, valueStart, end };
}

/** Reads `buf` as exactly one element (no trailing bytes). */
export function readRoot(buf: Buffer): Tlv {
  const tlv = readTlv(buf, 0, buf.length);
  if (tlv.end !== buf.length) throw new DerError('trailing-data', 'trailing bytes after the outer element');
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

/** The elements of a SEQUENCE with at most `max` fields; `what` names it in the error. */
export function fields(buf: Buffer, parent: Tlv, max: number, what: string): Tlv[] {
  const out = children(buf, parent);
  if (out.length > max) throw new DerError('trailing-data', `${what}: ${out.length} elements where at most ${max} are defined`);
  return out;
}

/** Throws unless `tlv` is absent: the field after the last one a structure defines. */
export function expectEnd(tlv: Tlv | undefined, what: string): void {
  if (tlv) throw new DerError('trailing-data', `${what}: unexpected element with tag 0x${tlv.tag.toString(16)}`);
}

/** Asserts the element's tag; `what` names the field in the error. */
export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv) throw new DerError('missing', `${what}: missing`);
  if (tlv.tag !== tag) throw new DerError('unexpected-tag', `${what}: expected tag 0x${tag.toString(16)}, got 0x${tlv.tag.toString(16)}`);
  return tlv;
}

/**
 * Checks a value staplewarm keeps without interpreting (algorithm parameters, attribute values of
 * unusual types, GeneralNames it does not read): the DER framing of the element and of everything
 * nested in it, depth first with an explicit stack, and the DER form of the universal primitives
 * met on the way (BOOLEAN, INTEGER, ENUMERATED, NULL, OBJECT IDENTIFIER, BIT STRING, times; strings
 * are primitive).
 */
export function checkDer(buf: Buffer, tlv: Tlv): void {
  const pending: Tlv[] = [tlv];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const universal = (next.tag & 0xc0) === 0;
    if (next.tag & 0x20) {
      if (universal && !CONSTRUCTED_UNIVERSAL.has(next.tag & 0x1f)) {
        throw new DerError('unexpected-tag', `constructed form of universal type ${next.tag & 0x1f}`);
      }
      for (let offset = next.valueStart; offset < next.end;) {
        const child = readTlv(buf, offset, next.end);
        pending.push(child);
        offset = child.end;
      }
    } else if (universal) {
      checkPrimitive(buf, next);
    }
  }
}

/** Universal types DER writes constructed: EXTERNAL, EMBEDDED PDV, SEQUENCE, SET, CHARACTER STRING. */
const CONSTRUCTED_UNIVERSAL = new Set([8, 11, 16, 17, 29]);

function checkPrimitive(buf: Buffer, tlv: Tlv): void {
  switch (tlv.tag) {
    case 0x00: // end-of-contents: BER's indefinite form only
    case 0x0f: // reserved (X.680 8.6)
    case 0x10: // SEQUENCE and SET are constructed
    case 0x11:
      throw new DerError('unexpected-tag', `universal tag ${tlv.tag} in its primitive form`);
    case TAG.BOOLEAN:
      readBoolean(buf, tlv);
      return;
    case TAG.INTEGER:
    case TAG.ENUMERATED:
      readInteger(buf, tlv);
      return;
    case TAG.NULL:
      readNull(tlv, 'NULL');
      return;
    case TAG.OID:
      readOid(buf, tlv);
      return;
    case TAG.UTC_TIME:
    case TAG.GENERALIZED_TIME:
      readTime(buf, tlv);
      return;
    case TAG.BIT_STRING: {
      const unused = buf[tlv.valueStart];
      if (unused === undefined || unused > 7 || (unused > 0 && tlv.end - tlv.valueStart === 1)) {
        throw new DerError('bad-bit-string', 'BIT STRING with a bad unused-bits octet');
      }
      return;
    }
  }
}

/** The content octets (zero-copy view). */
export function contents(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.valueStart, tlv.end);
}

/** The whole encoding, header included (zero-copy view). */
export function encoding(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.start, tlv.end);
}

/** A BOOLEAN: one octet, 0x00 or 0xFF (X.690 11.1). */
export function readBoolean(buf: Buffer, tlv: Tlv): boolean {
  expectTag(tlv, TAG.BOOLEAN, 'BOOLEAN');
  const value = buf[tlv.valueStart];
  if (tlv.end - tlv.valueStart !== 1 || (value !== 0x00 && value !== 0xff))
    throw new DerError('bad-boolean', 'BOOLEAN is not one octet 0x00 or 0xFF');
  return value === 0xff;
}

/** The content octets of an INTEGER (or ENUMERATED, per `tlv.tag`): at least one, in the fewest octets (X.690 8.3.2). */
export function readInteger(buf: Buffer, tlv: Tlv): Buffer {
  const length = tlv.end - tlv.valueStart;
  if (length === 0) throw new DerError('bad-integer', 'INTEGER with no content octets');
  if (length > 1) {
    const first = buf[tlv.valueStart]!;
    const second = buf[tlv.valueStart + 1]!;
    if ((first === 0x00 && second < 0x80) || (first === 0xff && second >= 0x80)) {
      throw new DerError('bad-integer', 'INTEGER not in the fewest octets');
    }
  }
  return contents(buf, tlv);
}

/** A small non-negative INTEGER or ENUMERATED value (below 2^31). */
export function readSmallInt(buf: Buffer, tlv: Tlv): number {
  const octets = readInteger(buf, tlv);
  if (octets[0]! & 0x80) throw new DerError('bad-integer', 'negative integer where a small number was expected');
  if (octets.length > 4) throw new DerError('bad-integer', `integer of ${octets.length} octets where a small number was expected`);
  let value = 0;
  for (const octet of octets) value = value * 256 + octet;
  return value;
}

/** A NULL (or an IMPLICIT NULL such as OCSP's CertStatus good): no content. */
export function readNull(tlv: Tlv, what: string): void {
  if (tlv.end !== tlv.valueStart) throw new DerError('bad-null', `${what}: NULL with content`);
}

/** BIT STRING value without the unused-bits octet; only whole-octet strings are accepted. */
export function readBitStringBytes(buf: Buffer, tlv: Tlv): Buffer {
  expectTag(tlv, TAG.BIT_STRING, 'BIT STRING');
  if (tlv.end === tlv.valueStart) throw new DerError('bad-bit-string', 'BIT STRING with no content octets');
  if (buf[tlv.valueStart] !== 0) throw new DerError('bad-bit-string', 'BIT STRING with unused bits');
  return buf.subarray(tlv.valueStart + 1, tlv.end);
}

/** An AlgorithmIdentifier (RFC 5280 4.1.1.2): the OID and the parameters' encoding, absent or NULL left out. */
export interface AlgorithmIdentifier {
  oid: string;
  params?: Buffer;
}

/** `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }` */
export function readAlgorithmIdentifier(buf: Buffer, tlv: Tlv | undefined, what: string): AlgorithmIdentifier {
  const [oid, params] = fields(buf, expectTag(tlv, TAG.SEQUENCE, what), 2, what);
  if (params) checkDer(buf, params);
  return {
    oid: readOid(buf, expectTag(oid, TAG.OID, `${what}.algorithm`)),
    ...(params && params.tag !== TAG.NULL && { params: encoding(buf, params) }),
  };
}

/** Arcs up to this value are summed as numbers; larger ones (rare, legal) as BigInt, exactly. */
const SAFE_ARC = 2 ** 45;
/**
 * X.660 bounds no arc, but BigInt arithmetic on a megabyte-long arc is quadratic. The largest arcs
 * in use are UUIDs under 2.25 (128 bits, 19 octets); longer arcs are refused.
 */
const MAX_ARC_OCTETS = 32;

/** Dotted-decimal form of an OBJECT IDENTIFIER; every arc in the fewest octets (X.690 8.19.2). */
export function readOid(buf: Buffer, tlv: Tlv): string {
  expectTag(tlv, TAG.OID, 'OBJECT IDENTIFIER');
  if (tlv.end === tlv.valueStart || buf[tlv.end - 1]! & 0x80) throw new DerError('bad-oid', 'malformed OBJECT IDENTIFIER');
  const parts: string[] = [];
  let value = 0;
  let big: bigint | undefined;
  let arcStart = true;
  let arcOctets = 0;
  for (let i = tlv.valueStart; i < tlv.end; i++) {
    const octet = buf[i]!;
    if (arcStart && octet === 0x80) throw new DerError('bad-oid', 'OBJECT IDENTIFIER arc with a leading 0x80 octet');
    if (++arcOctets > MAX_ARC_OCTETS) throw new DerError('bad-oid', `OBJECT IDENTIFIER arc longer than ${MAX_ARC_OCTETS} octets`);
    if (big !== undefined) big = big * 128n + BigInt(octet & 0x7f);
    else if (value >= SAFE_ARC) big = BigInt(value) * 128n + BigInt(octet & 0x7f);
    else value = value * 128 + (octet & 0x7f);
    arcStart = !(octet & 0x80);
    if (!arcStart) continue;
    if (parts.length === 0) {
      // The first octets hold 40 * first + second, first being 0, 1 or 2 (2 takes any second arc).
      if (big !== undefined) parts.push('2', String(big - 80n));
      else {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(String(first), String(value - first * 40));
      }
    } else {
      parts.push(String(big ?? value));
    }
    value = 0;
    big = undefined;
    arcOctets = 0;
  }
  return parts.join('.');
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * GeneralizedTime (`YYYYMMDDHHMMSS[.fff]Z`) or UTCTime (`YYMMDDHHMMSSZ`, RFC 5280 two-digit years),
 * on a real calendar date. OCSP uses GeneralizedTime; UTCTime is accepted because it costs nothing.
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
    throw new DerError('unexpected-tag', `expected a time, got tag 0x${tlv.tag.toString(16)}`);
  }
  if (!match) throw new DerError('bad-time', `malformed time ${JSON.stringify(text)}`);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6]);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (days === undefined || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) {
    throw new DerError('bad-time', `invalid time ${JSON.stringify(text)}`);
  }
  const millis = match[7] ? Number(match[7].padEnd(3, '0').slice(0, 3)) : 0;
  if (year >= 100) return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  // Date.UTC reads the years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date;
}
