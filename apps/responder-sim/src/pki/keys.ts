import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { nullValue, oid, sequence } from '../der/encode.js';
import { readChildren, readTlv } from '../der/decode.js';
import { OID } from '../der/oids.js';
import { SimError } from '../errors.js';

/** Key algorithm of the simulated PKI: ECDSA P-256 (fast, the default) or RSA-2048. */
export type KeyType = 'ec' | 'rsa';

/** A private key ready to sign certificates and OCSP responses, with the public parts a CA needs. */
export interface SigningKey {
  type: KeyType;
  privateKey: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  spkiDer: Buffer;
  /** The subjectPublicKey BIT STRING contents: what CertID issuerKeyHash and key identifiers hash. */
  publicKeyBits: Buffer;
  /** SHA-1 of publicKeyBits (RFC 5280 4.2.1.2 method 1): SKI/AKI, OCSP ResponderID byKey. */
  keyId: Buffer;
  /** DER AlgorithmIdentifier of the signatures this key makes (SHA-256 based). */
  signatureAlgorithm: Buffer;
}

/** The subjectPublicKey bits of a DER SubjectPublicKeyInfo. */
export function publicKeyBitsOf(spkiDer: Buffer): Buffer {
  const spki = readTlv(spkiDer, 0);
  const bitString = spki && readChildren(spkiDer, spki)?.[1];
  if (!bitString) throw new SimError('pki-invalid', 'SubjectPublicKeyInfo does not parse');
  return spkiDer.subarray(bitString.contentStart + 1, bitString.end);
}

function signingKeyFrom(type: KeyType, privateKey: KeyObject): SigningKey {
  const spkiDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const publicKeyBits = publicKeyBitsOf(spkiDer);
  return {
    type,
    privateKey,
    spkiDer,
    publicKeyBits,
    keyId: createHash('sha1').update(publicKeyBits).digest(),
    // RFC 5758: ecdsa-with-SHA256 has absent parameters; RFC 4055: sha256WithRSAEncryption has NULL.
    signatureAlgorithm: type === 'ec' ? sequence(oid(OID.ecdsaWithSha256)) : sequence(oid(OID.sha256WithRsa), nullValue()),
  };
}

export function generateSigningKey(type: KeyType): SigningKey {
  const { privateKey } =
    type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return signingKeyFrom(type, privateKey);
}

/** Loads a PKCS#8 PEM private key written by `exportKeyPem`. */
export function loadSigningKey(pem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (cause) {
    throw new SimError('pki-invalid', 'private key does not parse', { cause });
  }
  const type = privateKey.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa') throw new SimError('pki-invalid', `unsupported key type ${String(type)}`);
  return signingKeyFrom(type, privateKey);
}

export const exportKeyPem = (key: SigningKey): string => key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Signature over `data` with SHA-256 (ECDSA signatures come DER-encoded, as X.509 and OCSP want). */
export const signWith = (key: SigningKey, data: Buffer): Buffer => sign('sha256', data, key.privateKey);
