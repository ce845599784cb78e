/**
 * The X.509 structure (RFC 5280 4.1) read with the DER reader: the TBSCertificate fields and the
 * extension list, as zero-copy slices. Why not pkijs here: `new pkijs.Certificate()` plus its
 * extension classes measured ~450 certificates/s on this machine (asn1js builds a schema object per
 * GeneralName), which would make scanning 50,000 bundles slower than fetching their staples.
 *
 * Every field of the structure is checked, as OpenSSL's d2i_X509 does, not only those staplewarm
 * uses: a certificate OpenSSL would refuse is refused here too. Values kept without being
 * interpreted (algorithm parameters, the public key bits, unread extension values) are checked for
 * DER framing only.
 */
import { isUtf8 } from 'node:buffer';
import {
  DerError,
  TAG,
  type Tlv,
  checkDer,
  children,
  contents,
  contextTag,
  encoding,
  expectEnd,
  expectTag,
  fields,
  readAlgorithmIdentifier,
  readBitStringBytes,
  readBoolean,
  readInteger,
  readOid,
  readRoot,
  readTime,
} from './der.js';
import type { ParsedCertificate } from './types.js';

export interface X509Fields {
  /** Content octets of the serialNumber INTEGER. */
  serial: Buffer;
  issuerNameDer: Buffer;
  subjectNameDer: Buffer;
  /** The subject's attributes in encoded order (see readNameAttributes). */
  subjectAttributes: NameAttribute[];
  notBefore: Date;
  notAfter: Date;
  spkiDer: Buffer;
  /** Each extension's extnValue contents (the DER of the extension's own value), by extnID. */
  extensions: Map<string, Buffer>;
  /** The issuer's signature: over `tbsDer`, with `signatureAlgorithm`. */
  signed: SignedPart;
}

/** What an issuer signed and how (ParsedCertificate carries it as is). */
export type SignedPart = ParsedCertificate['signed'];

/** One AttributeTypeAndValue of a Name: `{ type: '2.5.4.3', value: 'example.com' }`. */
export interface NameAttribute {
  type: string;
  value: string;
}

/**
 * ```asn1
 * Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, serialNumber INTEGER, signature,
 *   issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, subject Name,
 *   subjectPublicKeyInfo, issuerUniqueID [1] OPTIONAL, subjectUniqueID [2] OPTIONAL,
 *   extensions [3] EXPLICIT SEQUENCE OF Extension OPTIONAL }
 * Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 * ```
 * @throws DerError when the bytes are not one DER certificate.
 */
export function readX509(der: Buffer): X509Fields {
  const cert = expectTag(readRoot(der), TAG.SEQUENCE, 'Certificate');
  const [tbs, signatureAlgorithm, signatureValue] = fields(der, cert, 3, 'Certificate');
  const tbsTlv = expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate');
  const signed: SignedPart = {
    tbsDer: encoding(der, tbsTlv),
    signatureAlgorithm: readAlgorithmIdentifier(der, signatureAlgorithm, 'signatureAlgorithm'),
    signature: readBitStringBytes(der, expectTag(signatureValue, TAG.BIT_STRING, 'signatureValue')),
  };

  const parts = children(der, tbsTlv);
  let at = 0;
  if (parts[0]?.tag === contextTag(0, true)) {
    // version [0] EXPLICIT INTEGER (any value: OpenSSL does not check it either)
    const [version] = fields(der, parts[0], 1, 'version');
    readInteger(der, expectTag(version, TAG.INTEGER, 'version'));
    at = 1;
  }
  const serial = readInteger(der, expectTag(parts[at], TAG.INTEGER, 'serialNumber'));
  readAlgorithmIdentifier(der, parts[at + 1], 'signature');
  const issuer = expectTag(parts[at + 2], TAG.SEQUENCE, 'issuer');
  readName(der, issuer, false);
  const [notBefore, notAfter] = fields(der, expectTag(parts[at + 3], TAG.SEQUENCE, 'validity'), 2, 'validity');
  const subject = expectTag(parts[at + 4], TAG.SEQUENCE, 'subject');
  const subjectAttributes = readName(der, subject);
  const spki = readSubjectPublicKeyInfo(der, parts[at + 5]);

  let next = at + 6;
  for (const n of [1, 2]) {
    // issuerUniqueID [1] / subjectUniqueID [2] IMPLICIT BIT STRING
    const uniqueId = parts[next];
    if (uniqueId?.tag !== contextTag(n, false)) continue;
    if (uniqueId.end === uniqueId.valueStart || der[uniqueId.valueStart]! > 7)
      throw new DerError('bad-bit-string', 'malformed unique identifier');
    next++;
  }
  const extensions = new Map<string, Buffer>();
  if (parts[next]?.tag === contextTag(3, true)) readExtensions(der, parts[next++]!, extensions);
  expectEnd(parts[next], 'TBSCertificate');

  return {
    serial,
    issuerNameDer: encoding(der, issuer),
    notBefore: readTime(der, required(notBefore, 'notBefore')),
    notAfter: readTime(der, required(notAfter, 'notAfter')),
    subjectNameDer: encoding(der, subject),
    subjectAttributes,
    spkiDer: encoding(der, spki),
    extensions,
    signed,
  };
}

/** `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }` */
function readSubjectPublicKeyInfo(der: Buffer, tlv: Tlv | undefined): Tlv {
  const spki = expectTag(tlv, TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const [algorithm, key, extra] = children(der, spki);
  readAlgorithmIdentifier(der, algorithm, 'subjectPublicKeyInfo.algorithm');
  readBitStringBytes(der, expectTag(key, TAG.BIT_STRING, 'subjectPublicKey'));
  expectEnd(extra, 'subjectPublicKeyInfo');
  return spki;
}

/**
 * `[n] EXPLICIT Extensions` (certificates: [3]; OCSP responses: [1]):
 * `Extensions ::= SEQUENCE OF Extension`. With `into`, each extnValue is stored by extnID and an
 * extension that appears twice is refused (RFC 5280 4.2); without, the list is only checked.
 */
export function readExtensions(der: Buffer, explicit: Tlv, into?: Map<string, Buffer>): void {
  const [list] = fields(der, explicit, 1, 'extensions');
  for (const ext of children(der, expectTag(list, TAG.SEQUENCE, 'extensions'))) {
    const parts = fields(der, expectTag(ext, TAG.SEQUENCE, 'Extension'), 3, 'Extension');
    const id = readOid(der, expectTag(parts[0], TAG.OID, 'extnID'));
    // critical BOOLEAN DEFAULT FALSE: DER omits FALSE, but CAs have written it; both are accepted.
    const hasCritical = parts[1]?.tag === TAG.BOOLEAN;
    if (hasCritical) readBoolean(der, parts[1]!);
    const value = expectTag(parts[hasCritical ? 2 : 1], TAG.OCTET_STRING, 'extnValue');
    expectEnd(parts[hasCritical ? 3 : 2], 'Extension');
    if (!into) continue;
    if (into.has(id)) throw new DerError('duplicate-extension', `extension ${id} appears twice`);
    into.set(id, contents(der, value));
  }
}

function required(tlv: Tlv | undefined, what: string): Tlv {
  if (!tlv) throw new DerError('missing', `${what}: missing`);
  return tlv;
}

/** RFC 4514-ish attribute list of a Name, in encoded order: `[{ type: '2.5.4.3', value: 'example.com' }]`. */
export function readNameAttributes(nameDer: Buffer): NameAttribute[] {
  return readName(nameDer, expectTag(readRoot(nameDer), TAG.SEQUENCE, 'Name'));
}

/**
 * ```asn1
 * Name ::= SEQUENCE OF RelativeDistinguishedName
 * RelativeDistinguishedName ::= SET OF AttributeTypeAndValue
 * AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY -- DirectoryString, usually }
 * ```
 */
export function readName(buf: Buffer, name: Tlv, decode = true): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of children(buf, expectTag(name, TAG.SEQUENCE, 'Name'))) {
    for (const atv of children(buf, expectTag(rdn, TAG.SET, 'RelativeDistinguishedName'))) {
      const [type, value] = fields(buf, expectTag(atv, TAG.SEQUENCE, 'AttributeTypeAndValue'), 2, 'AttributeTypeAndValue');
      if (value && (value.tag & 0xc0 || !NAME_VALUE_TYPES.has(value.tag & 0x1f))) {
        throw new DerError('unexpected-tag', `attribute value with tag 0x${value.tag.toString(16)}`);
      }
      const oid = readOid(buf, expectTag(type, TAG.OID, 'attribute type'));
      const text = decodeString(buf, required(value, 'attribute value'), decode);
      if (decode) out.push({ type: oid, value: text });
    }
  }
  return out;
}

/**
 * Universal types an attribute value may have: DirectoryString's (Teletex, Printable, Universal,
 * UTF8, BMP), IA5String, NumericString, BIT STRING, SEQUENCE and types OpenSSL files as "unknown";
 * not BOOLEAN, INTEGER, OCTET STRING, NULL, OID, ENUMERATED, SET, times, Videotex, Graphic,
 * Visible or General strings. This is OpenSSL's ASN1_PRINTABLE (X509Certificate refuses the rest).
 */
const NAME_VALUE_TYPES = new Set([3, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 28, 29, 30]);

/**
 * DirectoryString and friends to text; anything else (rare) as `#<hex>` as RFC 4514 prints it.
 * With `decode` false the value is only checked (and '' returned): names that are compared as bytes.
 * @throws DerError `bad-string` when the octets are not that string type (bad UTF-8, odd BMPString...).
 */
export function decodeString(buf: Buffer, tlv: Tlv, decode = true): string {
  const bytes = contents(buf, tlv);
  switch (tlv.tag) {
    case 0x0c: // UTF8String
      if (!isUtf8(bytes)) throw new DerError('bad-string', 'UTF8String is not UTF-8');
      return decode ? bytes.toString('utf8') : '';
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString: in practice Latin-1
      return decode ? bytes.toString('latin1') : '';
    case 0x1e: // BMPString: UTF-16BE
      if (bytes.length % 2 !== 0) throw new DerError('bad-string', 'BMPString of odd length');
      return decode ? Buffer.from(bytes).swap16().toString('utf16le') : '';
    case 0x1c: // UniversalString: UTF-32BE
      return decodeUniversalString(bytes, decode);
    default:
      checkDer(buf, tlv);
      return decode ? `#${encoding(buf, tlv).toString('hex')}` : '';
  }
}

/** UTF-32BE to text through UTF-16 (no String.fromCodePoint spread: a long string would overflow the call stack). */
function decodeUniversalString(bytes: Buffer, decode: boolean): string {
  if (bytes.length % 4 !== 0) throw new DerError('bad-string', 'UniversalString length not a multiple of 4');
  if (!decode) {
    for (let i = 0; i < bytes.length; i += 4) {
      if (bytes.readUInt32BE(i) > 0x10ffff) throw new DerError('bad-string', 'UniversalString code point above U+10FFFF');
    }
    return '';
  }
  const utf16 = Buffer.allocUnsafe(bytes.length);
  let at = 0;
  for (let i = 0; i < bytes.length; i += 4) {
    const codePoint = bytes.readUInt32BE(i);
    if (codePoint > 0x10ffff) throw new DerError('bad-string', `UniversalString code point 0x${codePoint.toString(16)}`);
    if (codePoint < 0x10000) {
      utf16.writeUInt16LE(codePoint, at);
      at += 2;
    } else {
      utf16.writeUInt16LE(0xd800 + ((codePoint - 0x10000) >> 10), at);
      utf16.writeUInt16LE(0xdc00 + ((codePoint - 0x10000) & 0x3ff), at + 2);
      at += 4;
    }
  }
  return utf16.toString('utf16le', 0, at);
}
