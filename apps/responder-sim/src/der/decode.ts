/**
 * A minimal DER reader: walks TLVs without building an object tree, so reading the first CertID
 * of an OCSP request costs a few index operations. Returns undefined on anything malformed.
 */

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the value. */
  end: number;
}

/** Reads the TLV at `offset`, bounded by `limit`. Only single-byte tags (all we need). */
export function readTlv(bytes: Buffer, offset: number, limit = bytes.length): Tlv | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  let length = bytes[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > limit) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[contentStart + i]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) return undefined;
  return { tag, start: offset, contentStart, end };
}

/** The children of a constructed TLV, in order; undefined when they do not tile its contents exactly. */
export function readChildren(bytes: Buffer, parent: Tlv): Tlv[] | undefined {
  const children: Tlv[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const child = readTlv(bytes, offset, parent.end);
    if (!child) return undefined;
    children.push(child);
    offset = child.end;
  }
  return children;
}

export const contentOf = (bytes: Buffer, node: Tlv): Buffer => bytes.subarray(node.contentStart, node.end);
export const whole = (bytes: Buffer, node: Tlv): Buffer => bytes.subarray(node.start, node.end);

/** Dotted form of an OBJECT IDENTIFIER's contents. */
export function oidToString(contents: Buffer): string {
  const first = contents[0] ?? 0;
  const arcs = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let value = 0;
  for (let i = 1; i < contents.length; i++) {
    const byte = contents[i]!;
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}
