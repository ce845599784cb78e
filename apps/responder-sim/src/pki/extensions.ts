/** Encoders for the X.509 Name and the v3 extensions (RFC 5280 4.1.2.4, 4.2) the simulated CA issues. */
import { boolean, implicitPrimitive, namedBits, octetString, oid, sequence, set, smallInteger, utf8String } from '../der/encode.js';
import { OID } from '../der/oids.js';

/** Name ::= SEQUENCE OF RelativeDistinguishedName; one attribute per RDN, in the given order. */
export function distinguishedName(attributes: { O?: string; CN: string }): Buffer {
  const rdns: Buffer[] = [];
  if (attributes.O !== undefined) rdns.push(set(sequence(oid(OID.organizationName), utf8String(attributes.O))));
  rdns.push(set(sequence(oid(OID.commonName), utf8String(attributes.CN))));
  return sequence(...rdns);
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** basicConstraints, critical: cA and an optional pathLenConstraint; an empty SEQUENCE for a leaf. */
export function basicConstraints(ca: boolean, pathLength?: number): Buffer {
  const fields = ca ? [boolean(true), ...(pathLength === undefined ? [] : [smallInteger(pathLength)])] : [];
  return extension(OID.basicConstraints, true, sequence(...fields));
}

/** KeyUsage bit numbers (RFC 5280 4.2.1.3). */
export const KeyUsageBit = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

export const keyUsage = (bits: readonly number[]): Buffer => extension(OID.keyUsage, true, namedBits(bits));

export const extKeyUsage = (purposes: readonly string[]): Buffer =>
  extension(OID.extKeyUsage, false, sequence(...purposes.map((purpose) => oid(purpose))));

export const subjectKeyIdentifier = (keyId: Buffer): Buffer => extension(OID.subjectKeyIdentifier, false, octetString(keyId));

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT KeyIdentifier } */
export const authorityKeyIdentifier = (keyId: Buffer): Buffer =>
  extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyId)));

/** subjectAltName with dNSName [2] entries. */
export const subjectAltNames = (dnsNames: readonly string[]): Buffer =>
  extension(OID.subjectAltName, false, sequence(...dnsNames.map((name) => implicitPrimitive(2, Buffer.from(name, 'ascii')))));

/** AuthorityInfoAccess: one id-ad-ocsp AccessDescription per URL, then id-ad-caIssuers (URI [6]). */
export function authorityInfoAccess(ocspUrls: readonly string[], caIssuersUrl: string | undefined): Buffer {
  const uri = (url: string): Buffer => implicitPrimitive(6, Buffer.from(url, 'ascii'));
  const descriptions = ocspUrls.map((url) => sequence(oid(OID.adOcsp), uri(url)));
  if (caIssuersUrl !== undefined) descriptions.push(sequence(oid(OID.adCaIssuers), uri(caIssuersUrl)));
  return extension(OID.authorityInfoAccess, false, sequence(...descriptions));
}

/** RFC 7633 TLS feature status_request (5): "must-staple". */
export const mustStaple = (): Buffer => extension(OID.tlsFeature, false, sequence(smallInteger(5)));

/** RFC 6960 4.2.2.2.1 id-pkix-ocsp-nocheck: clients need not check the delegated responder's revocation. */
export const ocspNoCheck = (): Buffer => extension(OID.ocspNoCheck, false, Buffer.from([0x05, 0x00]));
