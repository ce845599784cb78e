/** The X.509 extensions staplewarm reads (RFC 5280 4.2, RFC 7633), decoded from their DER values. */
import {
  DerError,
  TAG,
  type Tlv,
  checkDer,
  children,
  contents,
  contextTag,
  expectEnd,
  expectTag,
  fields,
  readBoolean,
  readInteger,
  readOid,
  readRoot,
} from './der.js';
import { OID } from './oids.js';
import { readName } from './x509.js';

/** RFC 7633: the TLS feature value of the status_request extension (RFC 6066). */
const TLS_FEATURE_STATUS_REQUEST = 5;
/** GeneralName CHOICE members (RFC 5280 4.2.1.6) we read: IMPLICIT IA5String, primitive. */
const DNS_NAME = contextTag(2, false);
const URI = contextTag(6, false);
/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0], authorityCertIssuer [1], authorityCertSerialNumber [2] } */
const KEY_IDENTIFIER = contextTag(0, false);
const AUTHORITY_CERT_ISSUER = contextTag(1, true);
const AUTHORITY_CERT_SERIAL = contextTag(2, false);

export interface ExtensionFields {
  isCA: boolean;
  subjectKeyId?: string;
  authorityKeyId?: string;
  ocspUrls: string[];
  /** dNSName entries of subjectAltName, lowercased; empty when there is no SAN. */
  sanDnsNames: string[];
  mustStaple: boolean;
  ocspSigning: boolean;
}

/**
 * Decodes the extensions staplewarm needs from `extensions` (extnID -> extnValue contents). Each is
 * checked whole, as OpenSSL decodes it: a value that does not parse rejects the certificate rather
 * than losing a name or an OCSP URL silently.
 * @throws DerError when one of them does not parse.
 */
export function readExtensionFields(extensions: ReadonlyMap<string, Buffer>): ExtensionFields {
  const out: ExtensionFields = { isCA: false, ocspUrls: [], sanDnsNames: [], mustStaple: false, ocspSigning: false };
  const value = (id: string): { buf: Buffer; root: Tlv } | undefined => {
    const buf = extensions.get(id);
    return buf && { buf, root: readRoot(buf) };
  };

  // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
  const bc = value(OID.basicConstraints);
  if (bc) {
    const parts = fields(bc.buf, expectTag(bc.root, TAG.SEQUENCE, 'basicConstraints'), 2, 'basicConstraints');
    let at = 0;
    if (parts[0]?.tag === TAG.BOOLEAN) out.isCA = readBoolean(bc.buf, parts[at++]!);
    if (parts[at]) readInteger(bc.buf, expectTag(parts[at++], TAG.INTEGER, 'pathLenConstraint'));
    expectEnd(parts[at], 'basicConstraints');
  }
  // SubjectKeyIdentifier ::= OCTET STRING
  const ski = value(OID.subjectKeyIdentifier);
  if (ski) out.subjectKeyId = contents(ski.buf, expectTag(ski.root, TAG.OCTET_STRING, 'subjectKeyIdentifier')).toString('hex');
  const aki = value(OID.authorityKeyIdentifier);
  if (aki) {
    const parts = fields(aki.buf, expectTag(aki.root, TAG.SEQUENCE, 'authorityKeyIdentifier'), 3, 'authorityKeyIdentifier');
    let at = 0;
    if (parts[at]?.tag === KEY_IDENTIFIER) out.authorityKeyId = contents(aki.buf, parts[at++]!).toString('hex');
    if (parts[at]?.tag === AUTHORITY_CERT_ISSUER) readGeneralNames(aki.buf, parts[at++]!);
    if (parts[at]?.tag === AUTHORITY_CERT_SERIAL) readInteger(aki.buf, parts[at++]!);
    expectEnd(parts[at], 'authorityKeyIdentifier');
  }
  // AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription { accessMethod OID, accessLocation GeneralName }
  const aia = value(OID.authorityInfoAccess);
  if (aia) {
    for (const desc of children(aia.buf, expectTag(aia.root, TAG.SEQUENCE, 'authorityInfoAccess'))) {
      const [method, location] = fields(aia.buf, expectTag(desc, TAG.SEQUENCE, 'AccessDescription'), 2, 'AccessDescription');
      const isOcsp = readOid(aia.buf, expectTag(method, TAG.OID, 'accessMethod')) === OID.adOcsp;
      readGeneralName(aia.buf, location);
      if (isOcsp && location?.tag === URI) out.ocspUrls.push(contents(aia.buf, location).toString('latin1'));
    }
  }
  // SubjectAltName ::= GeneralNames
  const san = value(OID.subjectAltName);
  if (san) {
    for (const name of readGeneralNames(san.buf, expectTag(san.root, TAG.SEQUENCE, 'subjectAltName'))) {
      if (name.tag === DNS_NAME) out.sanDnsNames.push(contents(san.buf, name).toString('latin1').toLowerCase());
    }
  }
  // ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId (OID)
  const eku = value(OID.extKeyUsage);
  if (eku) {
    const purposes = children(eku.buf, expectTag(eku.root, TAG.SEQUENCE, 'extKeyUsage')).map((purpose) => readOid(eku.buf, purpose));
    out.ocspSigning = purposes.includes(OID.kpOcspSigning);
  }
  // Features ::= SEQUENCE OF INTEGER (RFC 7633 6): every feature is read, whatever its place.
  const tls = value(OID.tlsFeature);
  if (tls) {
    for (const feature of children(tls.buf, expectTag(tls.root, TAG.SEQUENCE, 'tlsFeature'))) {
      const octets = readInteger(tls.buf, expectTag(feature, TAG.INTEGER, 'TLS feature'));
      if (octets.length === 1 && octets[0] === TLS_FEATURE_STATUS_REQUEST) out.mustStaple = true;
    }
  }
  return out;
}

/** An EXPLICIT wrapper holding exactly one value, checked for DER. */
function explicitValue(buf: Buffer, tlv: Tlv, what: string): void {
  const [value] = fields(buf, tlv, 1, what);
  if (!value) throw new DerError('missing', `${what}: missing`);
  checkDer(buf, value);
}

/** `GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName`, each checked. */
function readGeneralNames(buf: Buffer, list: Tlv): Tlv[] {
  const names = children(buf, list);
  for (const name of names) readGeneralName(buf, name);
  return names;
}

/**
 * ```asn1
 * GeneralName ::= CHOICE { otherName [0] OtherName, rfc822Name [1] IA5String, dNSName [2] IA5String,
 *   x400Address [3] ORAddress, directoryName [4] Name, ediPartyName [5] EDIPartyName,
 *   uniformResourceIdentifier [6] IA5String, iPAddress [7] OCTET STRING, registeredID [8] OBJECT IDENTIFIER }
 * ```
 * Strings are primitive in DER: a constructed dNSName or URI is refused, not skipped.
 */
function readGeneralName(buf: Buffer, name: Tlv | undefined): void {
  if (!name) throw new DerError('missing', 'GeneralName: missing');
  switch (name.tag) {
    case contextTag(1, false):
    case contextTag(2, false):
    case contextTag(6, false):
    case contextTag(7, false):
      return;
    case contextTag(8, false):
      readOid(buf, { ...name, tag: TAG.OID });
      return;
    case contextTag(4, true): {
      const [directoryName] = fields(buf, name, 1, 'directoryName');
      readName(buf, expectTag(directoryName, TAG.SEQUENCE, 'directoryName'), false);
      return;
    }
    case contextTag(0, true): {
      // OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
      const [typeId, value, extra] = children(buf, name);
      readOid(buf, expectTag(typeId, TAG.OID, 'otherName type-id'));
      explicitValue(buf, expectTag(value, contextTag(0, true), 'otherName value'), 'otherName value');
      expectEnd(extra, 'otherName');
      return;
    }
    case contextTag(5, true): {
      // EDIPartyName ::= SEQUENCE { nameAssigner [0] DirectoryString OPTIONAL, partyName [1] DirectoryString }
      const parts = fields(buf, name, 2, 'ediPartyName');
      const at = parts[0]?.tag === contextTag(0, true) ? 1 : 0;
      if (at) explicitValue(buf, parts[0]!, 'nameAssigner');
      explicitValue(buf, expectTag(parts[at], contextTag(1, true), 'partyName'), 'partyName');
      expectEnd(parts[at + 1], 'ediPartyName');
      return;
    }
    case contextTag(3, true): // x400Address: ORAddress, checked for DER only
      checkDer(buf, name);
      return;
    default:
      throw new DerError('unexpected-tag', `GeneralName with tag 0x${name.tag.toString(16)}`);
  }
}
