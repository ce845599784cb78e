import { describe, expect, it } from 'vitest';
import { DerError, TAG, children, readOid, readRoot, readSmallInt, readTime, readTlv } from './der.js';

const tlv = (tag: number, body: number[] | string): Buffer => {
  const bytes = typeof body === 'string' ? [...Buffer.from(body, 'latin1')] : body;
  return Buffer.from([tag, bytes.length, ...bytes]);
};

describe('der', () => {
  it('reads short and long lengths and nested elements', () => {
    const octets = Buffer.concat([Buffer.from([TAG.OCTET_STRING, 0x81, 0x80]), Buffer.alloc(0x80, 7)]);
    const long = Buffer.concat([Buffer.from([0x30, 0x81, 0x85]), octets, tlv(TAG.NULL, [])]);
    const root = readRoot(long);
    expect(root).toEqual({ tag: 0x30, start: 0, valueStart: 3, end: long.length });
    expect(children(long, root).map((c) => c.tag)).toEqual([TAG.OCTET_STRING, TAG.NULL]);
  });

  it.each([
    ['indefinite length', Buffer.from([0x30, 0x80, 0x00, 0x00])],
    ['a length past the end', Buffer.from([0x04, 0x05, 0x01])],
    ['a high tag number', Buffer.from([0x1f, 0x81, 0x00])],
    ['trailing bytes', Buffer.from([0x05, 0x00, 0x00])],
    ['a lone byte', Buffer.from([0x30])],
  ])('rejects %s', (_what, bytes) => {
    expect(() => readRoot(bytes)).toThrow(DerError);
  });

  it('keeps a child inside its parent', () => {
    const bytes = Buffer.from([0x30, 0x02, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00]);
    expect(() => children(bytes, readTlv(bytes, 0))).toThrow(/overruns/);
  });

  it('decodes OIDs', () => {
    const bytes = Buffer.from('06082a8648ce3d040302', 'hex');
    expect(readOid(bytes, readRoot(bytes))).toBe('1.2.840.10045.4.3.2');
    const sha1 = Buffer.from('06052b0e03021a', 'hex');
    expect(readOid(sha1, readRoot(sha1))).toBe('1.3.14.3.2.26');
  });

  it('decodes GeneralizedTime (with or without fraction) and UTCTime', () => {
    const read = (bytes: Buffer): Date => readTime(bytes, readRoot(bytes));
    expect(read(tlv(TAG.GENERALIZED_TIME, '20260115120000Z'))).toEqual(new Date(Date.UTC(2026, 0, 15, 12)));
    expect(read(tlv(TAG.GENERALIZED_TIME, '20260115120000.25Z'))).toEqual(new Date(Date.UTC(2026, 0, 15, 12, 0, 0, 250)));
    expect(read(tlv(TAG.UTC_TIME, '491231235959Z'))).toEqual(new Date(Date.UTC(2049, 11, 31, 23, 59, 59)));
    expect(read(tlv(TAG.UTC_TIME, '500101000000Z'))).toEqual(new Date(Date.UTC(1950, 0, 1)));
    expect(() => read(tlv(TAG.GENERALIZED_TIME, '20260115120000+0100'))).toThrow(DerError);
    expect(() => read(tlv(TAG.OCTET_STRING, '20260115120000Z'))).toThrow(DerError);
  });

  it('reads small integers only', () => {
    const five = tlv(TAG.INTEGER, [5]);
    expect(readSmallInt(five, readRoot(five))).toBe(5);
    const big = tlv(TAG.INTEGER, [1, 2, 3, 4, 5]);
    expect(() => readSmallInt(big, readRoot(big))).toThrow(DerError);
  });
});
