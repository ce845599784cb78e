/** Test keys and signatures: node:crypto does the maths, asn1js/pkijs name the algorithms. */
import { type KeyObject, constants, generateKeyPairSync, sign } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID } from '../oids.js';

export type TestKeyType = 'p256' | 'p384' | 'rsa2048' | 'ed25519';

export type TestSignatureAlgorithm =
  'ecdsa-sha256' | 'ecdsa-sha384' | 'rsa-sha1' | 'rsa-sha256' | 'rsa-sha384' | 'rsa-sha512' | 'rsa-pss-sha256' | 'ed25519';

export interface TestKey {
  type: TestKeyType;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER. */
  spkiDer: Buffer;
}

export function generateTestKey(type: TestKeyType = 'p256'): TestKey {
  const pair =
    type === 'p256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'p384'
        ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
        : type === 'rsa2048'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ed25519');
  return { type, ...pair, spkiDer: pair.publicKey.export({ type: 'spki', format: 'der' }) };
}

/** The usual algorithm for a key type. */
export function defaultAlgorithm(key: TestKey): TestSignatureAlgorithm {
  switch (key.type) {
    case 'p256':
      return 'ecdsa-sha256';
    case 'p384':
      return 'ecdsa-sha384';
    case 'rsa2048':
      return 'rsa-sha256';
    case 'ed25519':
      return 'ed25519';
  }
}

/** PEM of the private key (PKCS#8), for the openssl CLI. */
export function privateKeyPem(key: TestKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

const RSA_OIDS = {
  'rsa-sha1': OID.sha1WithRSAEncryption,
  'rsa-sha256': OID.sha256WithRSAEncryption,
  'rsa-sha384': OID.sha384WithRSAEncryption,
  'rsa-sha512': OID.sha512WithRSAEncryption,
} as const;

/** The signature AlgorithmIdentifier (RSA with NULL parameters, ECDSA and EdDSA without). */
export function algorithmIdentifier(algorithm: TestSignatureAlgorithm): pkijs.AlgorithmIdentifier {
  switch (algorithm) {
    case 'ecdsa-sha256':
      return new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecdsaWithSHA256 });
    case 'ecdsa-sha384':
      return new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecdsaWithSHA384 });
    case 'ed25519':
      return new pkijs.AlgorithmIdentifier({ algorithmId: OID.ed25519 });
    case 'rsa-pss-sha256':
      return new pkijs.AlgorithmIdentifier({ algorithmId: OID.rsassaPss, algorithmParams: pssSha256Params() });
    case 'rsa-sha1':
    case 'rsa-sha256':
    case 'rsa-sha384':
    case 'rsa-sha512':
      return new pkijs.AlgorithmIdentifier({ algorithmId: RSA_OIDS[algorithm], algorithmParams: new asn1js.Null() });
  }
}

/** Signs `data` as `algorithm` says (ECDSA signatures DER-encoded, as X.509 and OCSP carry them). */
export function signData(key: TestKey, algorithm: TestSignatureAlgorithm, data: Uint8Array): Buffer {
  switch (algorithm) {
    case 'ecdsa-sha256':
    case 'rsa-sha256':
      return sign('sha256', data, key.privateKey);
    case 'ecdsa-sha384':
    case 'rsa-sha384':
      return sign('sha384', data, key.privateKey);
    case 'rsa-sha1':
      return sign('sha1', data, key.privateKey);
    case 'rsa-sha512':
      return sign('sha512', data, key.privateKey);
    case 'rsa-pss-sha256':
      return sign('sha256', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'ed25519':
      return sign(null, data, key.privateKey);
  }
}

/** RSASSA-PSS-params for SHA-256, MGF1-SHA-256, salt 32 (RFC 4055 3.1, explicit tags). */
function pssSha256Params(): asn1js.Sequence {
  const sha256 = (): asn1js.Sequence =>
    new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.sha256 }), new asn1js.Null()] });
  const tagged = (n: number, value: asn1js.AsnType): asn1js.Constructed =>
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: n }, value: [value] });
  return new asn1js.Sequence({
    value: [
      tagged(0, sha256()),
      tagged(1, new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.mgf1 }), sha256()] })),
      tagged(2, new asn1js.Integer({ value: 32 })),
    ],
  });
}
