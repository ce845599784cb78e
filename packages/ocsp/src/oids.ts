/** Object identifiers used by packages/ocsp, named as in the RFCs that define them. */
export const OID = {
  // RFC 5280 certificate extensions
  subjectKeyIdentifier: '2.5.29.14',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  /** RFC 7633 TLS feature ("must-staple" when it lists status_request). */
  tlsFeature: '1.3.6.1.5.5.7.1.24',
  /** id-ad-ocsp, the AIA access method of an OCSP responder. */
  adOcsp: '1.3.6.1.5.5.7.48.1',
  /** id-kp-OCSPSigning (RFC 6960 4.2.2.2). */
  kpOcspSigning: '1.3.6.1.5.5.7.3.9',
  commonName: '2.5.4.3',

  // RFC 6960
  pkixOcspBasic: '1.3.6.1.5.5.7.48.1.1',
  /** id-pkix-ocsp-nonce: a request extension RFC 5019 responders ignore. */
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',

  // Hash algorithms
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',

  // Signature algorithms (RFC 3279, RFC 4055, RFC 5758, RFC 8410)
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
} as const;

/** Short attribute names for human-readable distinguished names (RFC 4514 and common usage). */
export const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};
