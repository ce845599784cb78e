/**
 * A minimal DER encoder (X.690): just the types a CA and an OCSP responder emit.
 * Hand-rolled rather than pkijs so 50,000 certificates and responses encode in milliseconds each,
 * not in an async WebCrypto pipeline; openssl verifies the output in the tests.
 */

/** Universal and context tags used here. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

/** One TLV with a single-byte tag, written into one allocation (this runs ~50 times per certificate). */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  let length = 0;
  for (const part of contents) length += part.length;
  const lengthBytes = length < 0x80 ? 0 : length < 0x100 ? 1 : length < 0x10000 ? 2 : length < 0x1000000 ? 3 : 4;
  const out = Buffer.allocUnsafe(2 + lengthBytes + length);
  out[0] = tag;
  let offset = 2;
  if (lengthBytes === 0) {
    out[1] = length;
  } else {
    // Long form: 0x80 | number of length bytes, then the length big-endian.
    out[1] = 0x80 | lengthBytes;
    for (let i = lengthBytes - 1, rest = length; i >= 0; i--, rest = Math.floor(rest / 256)) out[2 + i] = rest & 0xff;
    offset += lengthBytes;
  }
  for (const part of contents) {
    part.copy(out, offset);
    offset += part.length;
  }
  return out;
}

export const sequence = (...items: Buffer[]): Buffer => tlv(Tag.SEQUENCE, ...items);
export const set = (...items: Buffer[]): Buffer => tlv(Tag.SET, ...items);
export const octetString = (bytes: Buffer): Buffer => tlv(Tag.OCTET_STRING, bytes);
export const nullValue = (): Buffer => Buffer.from([Tag.NULL, 0x00]);
export const utf8String = (text: string): Buffer => tlv(Tag.UTF8_STRING, Buffer.from(text, 'utf8'));
export const ia5String = (text: string): Buffer => tlv(Tag.IA5_STRING, Buffer.from(text, 'ascii'));
export const boolean = (value: boolean): Buffer => Buffer.from([Tag.BOOLEAN, 0x01, value ? 0xff : 0x00]);

/** `[n] EXPLICIT`: a constructed context tag wrapping one complete TLV. */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

/** `[n] IMPLICIT` of a primitive value (e.g. GeneralName dNSName [2], URI [6]). */
export const implicitPrimitive = (n: number, contents: Buffer): Buffer => tlv(0x80 | n, contents);

/** A non-negative INTEGER from its big-endian magnitude (a leading 0x00 is added when the top bit is set). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsPad = (trimmed[0] ?? 0) & 0x80;
  return tlv(Tag.INTEGER, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`integer out of range: ${value}`);
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return unsignedInteger(Buffer.from(bytes.length > 0 ? bytes : [0]));
}

export const enumerated = (value: number): Buffer => Buffer.from([Tag.ENUMERATED, 0x01, value]);

const oidCache = new Map<string, Buffer>();

/** OBJECT IDENTIFIER from dotted form (memoized: the same few OIDs are encoded over and over). */
export function oid(dotted: string): Buffer {
  let encoded = oidCache.get(dotted);
  if (!encoded) {
    encoded = encodeOid(dotted);
    oidCache.set(dotted, encoded);
  }
  return encoded;
}

function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const out: number[] = [first * 40 + second];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(Tag.OID, Buffer.from(out));
}

/** BIT STRING of whole bytes (keys, signatures): zero unused bits. */
export const bitString = (bytes: Buffer): Buffer => tlv(Tag.BIT_STRING, Buffer.from([0]), bytes);

/** BIT STRING of named bits (KeyUsage): bit 0 is the most significant bit; trailing zeros dropped (DER). */
export function namedBits(bits: readonly number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  return tlv(Tag.BIT_STRING, Buffer.from([unused]), bytes);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function timeDigits(date: Date): string {
  return (
    `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}` +
    `${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`
  );
}

/** GeneralizedTime `YYYYMMDDHHMMSSZ` (whole seconds, as RFC 5280 and RFC 6960 profiles want). */
export const generalizedTime = (date: Date): Buffer =>
  tlv(Tag.GENERALIZED_TIME, Buffer.from(`${pad(date.getUTCFullYear(), 4)}${timeDigits(date)}`, 'ascii'));

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050. */
export function x509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) {
    return tlv(Tag.UTC_TIME, Buffer.from(`${pad(year % 100)}${timeDigits(date)}`, 'ascii'));
  }
  return generalizedTime(date);
}
