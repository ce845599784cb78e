/**
 * X.509 v3 certificate encoding (RFC 5280 4.1):
 * ```asn1
 * Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm AlgorithmIdentifier,
 *                            signatureValue BIT STRING }
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, serialNumber, signature,
 *   issuer Name, validity Validity, subject Name, subjectPublicKeyInfo, ..., extensions [3] EXPLICIT }
 * ```
 */
import { bitString, explicit, sequence, smallInteger, unsignedInteger, x509Time } from '../der/encode.js';
import { signWith, type SigningKey } from './keys.js';

export interface CertificateFields {
  /** Serial number magnitude (big-endian, positive). */
  serial: Buffer;
  issuerName: Buffer;
  subjectName: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo of the subject. */
  spkiDer: Buffer;
  /** Encoded Extension SEQUENCEs (see extensions.ts). */
  extensions: Buffer[];
}

/** Encodes and signs a certificate with `issuerKey`; returns its DER. */
export function issueCertificate(fields: CertificateFields, issuerKey: SigningKey): Buffer {
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(fields.serial),
    issuerKey.signatureAlgorithm,
    fields.issuerName,
    sequence(x509Time(fields.notBefore), x509Time(fields.notAfter)),
    fields.subjectName,
    fields.spkiDer,
    explicit(3, sequence(...fields.extensions)),
  );
  return sequence(tbs, issuerKey.signatureAlgorithm, bitString(signWith(issuerKey, tbs)));
}
