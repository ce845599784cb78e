/**
 * Finds the encodings BER allows and DER forbids (or that RFC 5280 profiles out) anywhere in a
 * buffer, including inside OCTET STRINGs and BIT STRINGs that hold ASN.1. The fuzz test uses it to
 * check the reader's claim when it refuses something an oracle accepts: the reader says "non-minimal
 * length", the scanner must find one. Independent of src/der.ts on purpose: recursive, BER-tolerant.
 */

export type DerViolation =
  | 'indefinite-length'
  | 'non-minimal-length'
  | 'high-tag-form'
  /** A universal type DER writes primitive (a string, a time, an INTEGER...) in the constructed form. */
  | 'constructed-string'
  | 'boolean-not-der'
  | 'integer-not-minimal'
  | 'time-profile'
  | 'bit-string-unused-bits'
  | 'oid-not-minimal'
  | 'inner-overrun'
  | 'string-not-valid'
  | 'deep-nesting'
  | 'primitive-sequence'
  | 'end-of-contents';

/**
 * Universal types that are constructed in DER: EXTERNAL, EMBEDDED PDV, SEQUENCE, SET, CHARACTER
 * STRING. DER writes every other one primitive (strings and times too: X.690 10.2).
 */
const CONSTRUCTED_TYPES = new Set([8, 11, 16, 17, 29]);

/** RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ; GeneralizedTime YYYYMMDDHHMMSS[.f]Z (OCSP uses fractions). */
const UTC_TIME = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d{1,9})?Z$/;

/** Every kind of violation found in `buf` (best effort past the first malformed header). */
export function derViolations(buf: Buffer): Set<DerViolation> {
  const found = new Set<DerViolation>();
  scan(buf, 0, buf.length, found, 0);
  return found;
}

function scan(buf: Buffer, start: number, end: number, found: Set<DerViolation>, depth: number): boolean {
  let at = start;
  while (at < end) {
    const next = scanOne(buf, at, end, found, depth);
    if (next === undefined) return false;
    at = next;
  }
  return at === end;
}

/**
 * Scans one element at `at` within `limit`; returns where it ends, or undefined when it is not even
 * BER. Like asn1js, a child may run past the end its parent declares (within `limit`): that is
 * recorded as `inner-overrun` and the parent ends where its last child does.
 */
function scanOne(buf: Buffer, at: number, limit: number, found: Set<DerViolation>, depth: number): number | undefined {
  if (depth > 90) {
    found.add('deep-nesting');
    return undefined;
  }
  if (at + 2 > limit) return undefined;
  let tag = buf[at]!;
  let pos = at + 1;
  if ((tag & 0x1f) === 0x1f) {
    found.add('high-tag-form');
    let number = 0;
    for (;;) {
      if (pos >= limit) return undefined;
      const octet = buf[pos++]!;
      number = number * 128 + (octet & 0x7f);
      if (!(octet & 0x80)) break;
    }
    tag = (tag & 0xe0) | (number < 31 ? number : 0x1f);
  }
  if (pos >= limit) return undefined;
  const first = buf[pos++]!;
  const constructed = (tag & 0x20) !== 0;
  const universal = (tag & 0xc0) === 0;
  if (universal && (tag & 0x1f) === 0)
    found.add('end-of-contents'); // met as an element, in either form
  else if (constructed && universal && !CONSTRUCTED_TYPES.has(tag & 0x1f)) found.add('constructed-string');
  if (!constructed && universal && (tag === 0x10 || tag === 0x11)) found.add('primitive-sequence');
  if (first === 0x80) {
    found.add('indefinite-length');
    if (!constructed) return undefined;
    let child = pos;
    while (child + 2 <= limit && !(buf[child] === 0 && buf[child + 1] === 0)) {
      const next = scanOne(buf, child, limit, found, depth + 1);
      if (next === undefined) return undefined;
      child = next;
    }
    return child + 2 <= limit ? child + 2 : undefined;
  }
  let length = first;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (pos + octets > limit) return undefined;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[pos + i]!;
    if (buf[pos] === 0 || length < 0x80) found.add('non-minimal-length');
    pos += octets;
  }
  const valueEnd = pos + length;
  if (valueEnd > limit) return undefined;
  if (!constructed) {
    checkPrimitive(buf, tag, pos, valueEnd, found, depth);
    return valueEnd;
  }
  let child = pos;
  while (child < valueEnd) {
    const next = scanOne(buf, child, limit, found, depth + 1);
    if (next === undefined) return undefined;
    child = next;
  }
  if (child > valueEnd) found.add('inner-overrun');
  return child;
}

function checkPrimitive(buf: Buffer, tag: number, start: number, end: number, found: Set<DerViolation>, depth: number): void {
  const content = buf.subarray(start, end);
  switch (tag) {
    case 0x01: // BOOLEAN
      if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) found.add('boolean-not-der');
      break;
    case 0x02: // INTEGER
    case 0x0a: // ENUMERATED
      if (
        content.length === 0 ||
        (content.length > 1 && ((content[0] === 0 && content[1]! < 0x80) || (content[0] === 0xff && content[1]! >= 0x80)))
      ) {
        found.add('integer-not-minimal');
      }
      break;
    case 0x03: // BIT STRING: maybe ASN.1 inside
      if (content.length === 0 || content[0] !== 0) found.add('bit-string-unused-bits');
      else tryInner(buf, start + 1, end, found, depth);
      break;
    case 0x04: // OCTET STRING: maybe ASN.1 inside
      tryInner(buf, start, end, found, depth);
      break;
    case 0x06: // OBJECT IDENTIFIER: no arc may start with 0x80 (X.690 8.19.2)
      if (
        content.length === 0 ||
        content[content.length - 1]! & 0x80 ||
        content.some((octet, i) => octet === 0x80 && (i === 0 || !(content[i - 1]! & 0x80)))
      ) {
        found.add('oid-not-minimal');
      }
      break;
    case 0x17:
    case 0x18:
      if (!validTime(tag, content.toString('latin1'))) found.add('time-profile');
      break;
    case 0x0c: // UTF8String
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(content);
      } catch {
        found.add('string-not-valid');
      }
      break;
    case 0x1e: // BMPString
      if (content.length % 2 !== 0) found.add('string-not-valid');
      break;
    case 0x1c: // UniversalString
      if (
        content.length % 4 !== 0 ||
        Array.from({ length: content.length >> 2 }, (_, i) => content.readUInt32BE(i * 4)).some((cp) => cp > 0x10ffff)
      ) {
        found.add('string-not-valid');
      }
      break;
  }
}

/** Scans content as ASN.1 when it is a whole number of elements; otherwise it is just bytes. */
function tryInner(buf: Buffer, start: number, end: number, found: Set<DerViolation>, depth: number): void {
  if (start >= end) return;
  const inner = new Set<DerViolation>();
  const whole = scan(buf, start, end, inner, depth + 1);
  // Nothing nests 90 deep by chance: that finding stands even where the content stops parsing.
  for (const violation of inner) if (whole || violation === 'deep-nesting') found.add(violation);
}

/** The RFC 5280 profile of UTCTime/GeneralizedTime, with a real calendar date. */
export function validTime(tag: number, text: string): boolean {
  const match = (tag === 0x17 ? UTC_TIME : GENERALIZED_TIME).exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fullYear = tag === 0x17 ? (year >= 50 ? 1900 + year : 2000 + year) : year;
  const leap = (fullYear % 4 === 0 && fullYear % 100 !== 0) || fullYear % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return days !== undefined && day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 59;
}
