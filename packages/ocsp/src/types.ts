/**
 * The domain types of packages/ocsp. Everything here is plain data (Buffers, strings, numbers)
 * so it crosses package, process and BullMQ job boundaries without pkijs objects leaking out.
 */

/** Hash used in a CertID. RFC 5019 profile: sha1; RFC 9919 recommends sha256 (a per-responder option). */
export type CertIdHash = 'sha1' | 'sha256';

/**
 * RFC 6960 4.1.1:
 * ```asn1
 * CertID ::= SEQUENCE {
 *   hashAlgorithm   AlgorithmIdentifier,
 *   issuerNameHash  OCTET STRING, -- Hash of issuer's DN
 *   issuerKeyHash   OCTET STRING, -- Hash of issuer's public key (the BIT STRING contents)
 *   serialNumber    CertificateSerialNumber }
 * ```
 * Hashes and serial are lowercase hex. The serial is exactly the INTEGER's content octets, so a
 * leading 00 octet (present when the first byte is >= 0x80) is kept.
 */
export interface CertId {
  hashAlgorithm: CertIdHash;
  issuerNameHash: string;
  issuerKeyHash: string;
  serialNumber: string;
}

/** A parsed X.509 certificate: the fields staplewarm needs, nothing else. */
export interface ParsedCertificate {
  /** The certificate's DER bytes. */
  der: Buffer;
  /** Lowercase hex SHA-256 of the DER (what `openssl x509 -fingerprint -sha256` prints, no colons). */
  fingerprint: string;
  /** Human-readable subject, e.g. `CN=example.com, O=Example`. For messages only. */
  subject: string;
  /** DER of the subject Name (for issuer matching and CertID issuerNameHash). */
  subjectNameDer: Buffer;
  /** DER of the issuer Name. */
  issuerNameDer: Buffer;
  /** Serial number, lowercase hex of the INTEGER content octets. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA=TRUE. */
  isCA: boolean;
  /** Subject Key Identifier (hex), when present. */
  subjectKeyId?: string;
  /** Authority Key Identifier keyIdentifier (hex), when present. */
  authorityKeyId?: string;
  /** DER of the SubjectPublicKeyInfo. */
  spkiDer: Buffer;
  /** Every id-ad-ocsp accessLocation URI of the AIA extension, in order, any scheme. */
  ocspUrls: string[];
  /**
   * DNS names from subjectAltName, lowercased (wildcards kept as `*.example.com`); when there is no
   * SAN dNSName, the CN if it looks like a host name (a CA's "Example Root CA" does not).
   */
  dnsNames: string[];
  /** TLS feature extension (RFC 7633) lists status_request (5): the certificate is must-staple. */
  mustStaple: boolean;
  /** Extended key usage includes id-kp-OCSPSigning (for delegated responder certificates). */
  ocspSigning: boolean;
  /** The TBSCertificate and the issuer's signature over it (checked by `isIssuedBy`). */
  signed: {
    /** The exact TBSCertificate encoding. */
    tbsDer: Buffer;
    signatureAlgorithm: { oid: string; params?: Buffer };
    /** The signatureValue BIT STRING value. */
    signature: Buffer;
  };
}

/**
 * Everything a worker needs to fetch and verify one certificate's staple, as plain JSON-safe data.
 * Built once by the scanner (`buildTarget`), carried in the BullMQ job.
 */
export interface StapleTarget {
  fingerprint: string;
  /** DNS names (lowercase) served with this certificate. */
  names: string[];
  mustStaple: boolean;
  /** Certificate notAfter, epoch ms: a staple never outlives its certificate. */
  certNotAfter: number;
  /** HTTP(S) OCSP URLs in the certificate's order. */
  ocspUrls: string[];
  certId: CertId;
  /** DER OCSPRequest, base64 (RFC 5019: one Request, no nonce, no extensions). */
  request: string;
  /** DER SubjectPublicKeyInfo of the issuer, base64: verifies the response or a delegated signer. */
  issuerSpki: string;
  /** Human-readable subject of the leaf, for messages. */
  subject: string;
  /**
   * DER of the issuer's subject Name, base64. Not needed to fetch or verify: with `issuerSpki` it
   * gives the issuer's CertID hashes in both SHA-1 and SHA-256 for the relay's CertID index, which
   * warm and serve write while they still have it. They leave it out of job data (BullMQ memory).
   */
  issuerName?: string;
}

export type CertStatus = 'good' | 'revoked' | 'unknown';

/** RFC 5280 CRLReason names. */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** A verified OCSP response for one certificate: what gets stapled. */
export interface Staple {
  /** The raw DER OCSPResponse: exactly the bytes to staple. */
  der: Buffer;
  status: CertStatus;
  revocationTime?: Date;
  revocationReason?: RevocationReason;
  thisUpdate: Date;
  nextUpdate: Date;
  producedAt: Date;
  /**
   * When the staple stops being usable: the earliest of nextUpdate, the certificate's notAfter
   * (when given to the verifier) and a delegated responder certificate's notAfter.
   */
  expiresAt: Date;
  certId: CertId;
  /** `issuer` when the CA key signed it, `delegated` when an OCSPSigning responder certificate did. */
  signer: 'issuer' | 'delegated';
}

/** RFC 6960 OCSPResponseStatus names other than successful. */
export type OcspResponseStatus = 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';
