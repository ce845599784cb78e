import { describe, expect, it } from 'vitest';
import { readChildren, readTlv, oidToString } from './decode.js';
import { generalizedTime, namedBits, oid, sequence, smallInteger, tlv, unsignedInteger, x509Time } from './encode.js';

describe('DER encoding', () => {
  it('uses short and long length forms', () => {
    expect(tlv(0x04, Buffer.alloc(3)).subarray(0, 2).toString('hex')).toBe('0403');
    expect(tlv(0x04, Buffer.alloc(200)).subarray(0, 3).toString('hex')).toBe('0481c8');
    expect(tlv(0x04, Buffer.alloc(300)).subarray(0, 4).toString('hex')).toBe('0482012c');
    expect(tlv(0x04, Buffer.alloc(70_000)).subarray(0, 5).toString('hex')).toBe('0483011170');
  });

  it('encodes OIDs, integers, named bits and times as X.690 says', () => {
    expect(oid('1.2.840.113549.1.1.11').toString('hex')).toBe('06092a864886f70d01010b');
    // Redundant leading zeros dropped, one added back when the top bit is set (positive INTEGER).
    expect(unsignedInteger(Buffer.from('00007f', 'hex')).toString('hex')).toBe('02017f');
    expect(unsignedInteger(Buffer.from('0080ff', 'hex')).toString('hex')).toBe('02030080ff');
    expect(unsignedInteger(Buffer.from('80', 'hex')).toString('hex')).toBe('02020080');
    expect(smallInteger(0).toString('hex')).toBe('020100');
    expect(namedBits([0]).toString('hex')).toBe('03020780'); // digitalSignature
    expect(namedBits([5, 6]).toString('hex')).toBe('03020106'); // keyCertSign, cRLSign
    const when = new Date('2026-01-02T03:04:05.678Z');
    expect(generalizedTime(when).subarray(2).toString()).toBe('20260102030405Z');
    expect(x509Time(when).subarray(2).toString()).toBe('260102030405Z');
    expect(x509Time(new Date('2051-01-01T00:00:00Z'))[0]).toBe(0x18);
  });

  it('reads back what it writes, and refuses truncated input', () => {
    const der = sequence(oid('2.5.29.37'), smallInteger(5));
    const root = readTlv(der, 0);
    const children = root && readChildren(der, root);
    expect(children?.map((child) => child.tag)).toEqual([0x06, 0x02]);
    const first = children?.[0];
    expect(first && oidToString(der.subarray(first.contentStart, first.end))).toBe('2.5.29.37');
    expect(readTlv(der.subarray(0, der.length - 1), 0)).toBeUndefined();
  });
});
