/**
 * DER writing for the one structure staplewarm encodes on its hot path, the OCSP request. asn1js
 * measured ~50 µs per request here (its generic block classes and buffer conversions), a twentieth
 * of that by hand; 50,000 certificates spent 2.5 s of their scan in it. request.test.ts checks the
 * bytes against openssl and asn1js.
 */

/** One tag-length-value: `tag` and the concatenated `contents`, with a definite DER length. */
export function derTlv(tag: number, ...contents: Buffer[]): Buffer {
  let length = 0;
  for (const part of contents) length += part.length;
  const header = lengthOctets(length);
  const out = Buffer.allocUnsafe(1 + header.length + length);
  out[0] = tag;
  header.copy(out, 1);
  let at = 1 + header.length;
  for (const part of contents) at += part.copy(out, at);
  return out;
}

/** X.690 8.1.3: short form below 128, else 0x80 | count followed by the big-endian length. */
function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** The content octets of an OBJECT IDENTIFIER in dotted form (X.690 8.19). */
export function oidContents(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) groups.unshift((value & 0x7f) | 0x80);
    out.push(...groups);
  }
  return Buffer.from(out);
}
