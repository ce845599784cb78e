/** The X.509 extensions staplewarm reads (RFC 5280 4.2, RFC 7633), decoded from their DER values. */
import { TAG, type Tlv, children, contents, contextTag, expectTag, readOid, readRoot, readSmallInt } from './der.js';
import { OID } from './oids.js';

/** RFC 7633: the TLS feature value of the status_request extension (RFC 6066). */
const TLS_FEATURE_STATUS_REQUEST = 5;
/** GeneralName CHOICE members (RFC 5280 4.2.1.6), IMPLICIT primitive tags. */
const DNS_NAME = contextTag(2, false);
const URI = contextTag(6, false);
/** AuthorityKeyIdentifier keyIdentifier [0] IMPLICIT OCTET STRING. */
const KEY_IDENTIFIER = contextTag(0, false);

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
 * Decodes the extensions staplewarm needs from `extensions` (extnID -> extnValue contents).
 * @throws DerError when one of them does not parse.
 */
export function readExtensionFields(extensions: ReadonlyMap<string, Buffer>): ExtensionFields {
  const fields: ExtensionFields = { isCA: false, ocspUrls: [], sanDnsNames: [], mustStaple: false, ocspSigning: false };
  const value = (id: string): { buf: Buffer; root: Tlv } | undefined => {
    const buf = extensions.get(id);
    return buf && { buf, root: readRoot(buf) };
  };

  // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
  const bc = value(OID.basicConstraints);
  if (bc) {
    const first = children(bc.buf, expectTag(bc.root, TAG.SEQUENCE, 'basicConstraints'))[0];
    fields.isCA = first?.tag === TAG.BOOLEAN && bc.buf[first.valueStart] !== 0;
  }
  // SubjectKeyIdentifier ::= OCTET STRING
  const ski = value(OID.subjectKeyIdentifier);
  if (ski) fields.subjectKeyId = contents(ski.buf, expectTag(ski.root, TAG.OCTET_STRING, 'subjectKeyIdentifier')).toString('hex');
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL, authorityCertIssuer [1], authorityCertSerialNumber [2] }
  const aki = value(OID.authorityKeyIdentifier);
  if (aki) {
    const keyId = children(aki.buf, expectTag(aki.root, TAG.SEQUENCE, 'authorityKeyIdentifier')).find((t) => t.tag === KEY_IDENTIFIER);
    if (keyId) fields.authorityKeyId = contents(aki.buf, keyId).toString('hex');
  }
  // AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription { accessMethod OID, accessLocation GeneralName }
  const aia = value(OID.authorityInfoAccess);
  if (aia) {
    for (const desc of children(aia.buf, expectTag(aia.root, TAG.SEQUENCE, 'authorityInfoAccess'))) {
      const [method, location] = children(aia.buf, expectTag(desc, TAG.SEQUENCE, 'AccessDescription'));
      if (readOid(aia.buf, expectTag(method, TAG.OID, 'accessMethod')) === OID.adOcsp && location?.tag === URI) {
        fields.ocspUrls.push(contents(aia.buf, location).toString('latin1'));
      }
    }
  }
  // SubjectAltName ::= SEQUENCE OF GeneralName
  const san = value(OID.subjectAltName);
  if (san) {
    for (const name of children(san.buf, expectTag(san.root, TAG.SEQUENCE, 'subjectAltName'))) {
      if (name.tag === DNS_NAME) fields.sanDnsNames.push(contents(san.buf, name).toString('latin1').toLowerCase());
    }
  }
  // ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId (OID)
  const eku = value(OID.extKeyUsage);
  if (eku) {
    fields.ocspSigning = children(eku.buf, expectTag(eku.root, TAG.SEQUENCE, 'extKeyUsage')).some(
      (purpose) => readOid(eku.buf, purpose) === OID.kpOcspSigning,
    );
  }
  // Features ::= SEQUENCE OF INTEGER (RFC 7633 6)
  const tls = value(OID.tlsFeature);
  if (tls) {
    fields.mustStaple = children(tls.buf, expectTag(tls.root, TAG.SEQUENCE, 'tlsFeature')).some(
      (feature) => readSmallInt(tls.buf, expectTag(feature, TAG.INTEGER, 'TLS feature')) === TLS_FEATURE_STATUS_REQUEST,
    );
  }
  return fields;
}
