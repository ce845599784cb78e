/**
 * The X.509 structure (RFC 5280 4.1) read with the DER reader: the TBSCertificate fields and the
 * extension list, as zero-copy slices. Why not pkijs here: `new pkijs.Certificate()` plus its
 * extension classes measured ~450 certificates/s on this machine (asn1js builds a schema object per
 * GeneralName), which would make scanning 50,000 bundles slower than fetching their staples.
 */
import {
  DerError,
  TAG,
  type Tlv,
  children,
  contents,
  contextTag,
  encoding,
  expectTag,
  readAlgorithmIdentifier,
  readBitStringBytes,
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
  const [tbs, signatureAlgorithm, signatureValue] = children(der, cert);
  const signed: SignedPart = {
    tbsDer: encoding(der, expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate')),
    signatureAlgorithm: readAlgorithmIdentifier(der, signatureAlgorithm, 'signatureAlgorithm'),
    signature: readBitStringBytes(der, expectTag(signatureValue, TAG.BIT_STRING, 'signatureValue')),
  };
  const fields = children(der, expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  const at = fields[0]?.tag === contextTag(0, true) ? 1 : 0;
  expectTag(fields[at + 1], TAG.SEQUENCE, 'signature');
  const [notBefore, notAfter] = children(der, expectTag(fields[at + 3], TAG.SEQUENCE, 'validity'));
  const extensions = new Map<string, Buffer>();
  for (const field of fields.slice(at + 6)) {
    if (field.tag === contextTag(3, true)) readExtensions(der, field, extensions);
  }
  return {
    serial: contents(der, expectTag(fields[at], TAG.INTEGER, 'serialNumber')),
    issuerNameDer: encoding(der, expectTag(fields[at + 2], TAG.SEQUENCE, 'issuer')),
    notBefore: readTime(der, required(notBefore, 'notBefore')),
    notAfter: readTime(der, required(notAfter, 'notAfter')),
    subjectNameDer: encoding(der, expectTag(fields[at + 4], TAG.SEQUENCE, 'subject')),
    spkiDer: encoding(der, expectTag(fields[at + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo')),
    extensions,
    signed,
  };
}

function readExtensions(der: Buffer, explicit: Tlv, into: Map<string, Buffer>): void {
  const list = expectTag(children(der, explicit)[0], TAG.SEQUENCE, 'extensions');
  for (const ext of children(der, list)) {
    const parts = children(der, expectTag(ext, TAG.SEQUENCE, 'Extension'));
    const id = readOid(der, expectTag(parts[0], TAG.OID, 'extnID'));
    const value = expectTag(parts[parts[1]?.tag === TAG.BOOLEAN ? 2 : 1], TAG.OCTET_STRING, 'extnValue');
    if (into.has(id)) throw new DerError(`extension ${id} appears twice`); // RFC 5280 4.2
    into.set(id, contents(der, value));
  }
}

function required(tlv: Tlv | undefined, what: string): Tlv {
  if (!tlv) throw new DerError(`${what}: missing`);
  return tlv;
}

/** RFC 4514-ish attribute list of a Name, in encoded order: `[{ type: '2.5.4.3', value: 'example.com' }]`. */
export function readNameAttributes(nameDer: Buffer): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  for (const rdn of children(nameDer, expectTag(readRoot(nameDer), TAG.SEQUENCE, 'Name'))) {
    for (const atv of children(nameDer, expectTag(rdn, TAG.SET, 'RelativeDistinguishedName'))) {
      const [type, value] = children(nameDer, expectTag(atv, TAG.SEQUENCE, 'AttributeTypeAndValue'));
      out.push({
        type: readOid(nameDer, expectTag(type, TAG.OID, 'attribute type')),
        value: decodeString(nameDer, required(value, 'attribute value')),
      });
    }
  }
  return out;
}

/** DirectoryString and friends to text; anything else (rare) as `#<hex>` as RFC 4514 prints it. */
export function decodeString(buf: Buffer, tlv: Tlv): string {
  const bytes = contents(buf, tlv);
  switch (tlv.tag) {
    case 0x0c: // UTF8String
      return bytes.toString('utf8');
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
    case 0x14: // TeletexString: in practice Latin-1
      return bytes.toString('latin1');
    case 0x1e: // BMPString: UTF-16BE
      if (bytes.length % 2 !== 0) throw new DerError('BMPString of odd length');
      return Buffer.from(bytes).swap16().toString('utf16le');
    case 0x1c: // UniversalString: UTF-32BE
      if (bytes.length % 4 !== 0) throw new DerError('UniversalString length not a multiple of 4');
      return String.fromCodePoint(...Array.from({ length: bytes.length >> 2 }, (_, i) => bytes.readUInt32BE(i * 4)));
    default:
      return `#${encoding(buf, tlv).toString('hex')}`;
  }
}
