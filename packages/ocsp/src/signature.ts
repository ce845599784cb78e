/** Signature algorithms of OCSP responses, verified with node:crypto and cached KeyObjects. */
import { type KeyObject, constants, verify } from 'node:crypto';
import { DerError, TAG, type Tlv, children, contextTag, expectTag, readOid, readRoot, readSmallInt } from './der.js';
import { OcspError } from './errors.js';
import { OID } from './oids.js';

type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** What node:crypto needs to check one signature. */
export type SignatureScheme =
  { kind: 'ecdsa' | 'rsa'; hash: HashName } | { kind: 'rsa-pss'; hash: HashName; saltLength: number } | { kind: 'ed25519' | 'ed448' };

const HASHES: Readonly<Record<string, HashName>> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

const SIMPLE_SCHEMES: Readonly<Record<string, SignatureScheme>> = {
  [OID.sha1WithRSAEncryption]: { kind: 'rsa', hash: 'sha1' },
  [OID.sha256WithRSAEncryption]: { kind: 'rsa', hash: 'sha256' },
  [OID.sha384WithRSAEncryption]: { kind: 'rsa', hash: 'sha384' },
  [OID.sha512WithRSAEncryption]: { kind: 'rsa', hash: 'sha512' },
  [OID.ecdsaWithSHA256]: { kind: 'ecdsa', hash: 'sha256' },
  [OID.ecdsaWithSHA384]: { kind: 'ecdsa', hash: 'sha384' },
  [OID.ecdsaWithSHA512]: { kind: 'ecdsa', hash: 'sha512' },
  [OID.ed25519]: { kind: 'ed25519' },
  [OID.ed448]: { kind: 'ed448' },
};

/** Key types (KeyObject.asymmetricKeyType) each scheme accepts. */
const KEY_TYPES: Readonly<Record<SignatureScheme['kind'], readonly string[]>> = {
  ecdsa: ['ec'],
  rsa: ['rsa'],
  'rsa-pss': ['rsa', 'rsa-pss'],
  ed25519: ['ed25519'],
  ed448: ['ed448'],
};

/**
 * The scheme of a signature AlgorithmIdentifier.
 * @throws OcspError `unsupported-algorithm` for anything else (DSA, GOST, PSS with a different MGF1 hash...).
 */
export function signatureSchemeOf(algorithm: { oid: string; params?: Buffer }): SignatureScheme {
  const simple = SIMPLE_SCHEMES[algorithm.oid];
  if (simple) return simple;
  if (algorithm.oid === OID.rsassaPss) return pssScheme(algorithm.params);
  throw new OcspError('unsupported-algorithm', `signature algorithm ${algorithm.oid} is not supported`);
}

/** True when `signature` over `data` verifies under `key`; false when it does not or cannot (wrong key type). */
export function verifySignature(scheme: SignatureScheme, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  if (!KEY_TYPES[scheme.kind].includes(key.asymmetricKeyType ?? '')) return false;
  try {
    switch (scheme.kind) {
      case 'ecdsa':
      case 'rsa':
        return verify(scheme.hash, data, key, signature);
      case 'rsa-pss':
        return verify(scheme.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength }, signature);
      case 'ed25519':
      case 'ed448':
        return verify(null, data, key, signature);
    }
  } catch {
    // node:crypto throws on some malformed signatures (e.g. a bad ECDSA DER); that is a failed check.
    return false;
  }
}

/**
 * RFC 4055 3.1 (explicit tags):
 * ```asn1
 * RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] HashAlgorithm DEFAULT sha1,
 *   maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1, saltLength [2] INTEGER DEFAULT 20,
 *   trailerField [3] INTEGER DEFAULT 1 }
 * ```
 * node:crypto uses the message hash for MGF1, so a different MGF1 hash is unsupported.
 */
function pssScheme(params: Buffer | undefined): SignatureScheme {
  let hash: HashName | undefined = 'sha1';
  let mgfHash: HashName | undefined = 'sha1';
  let saltLength = 20;
  try {
    if (params) {
      for (const field of children(params, expectTag(readRoot(params), TAG.SEQUENCE, 'RSASSA-PSS-params'))) {
        const inner = children(params, field)[0];
        if (field.tag === contextTag(0, true)) {
          hash = hashOf(params, inner);
        } else if (field.tag === contextTag(1, true)) {
          const [mgfOid, mgfParams] = children(params, expectTag(inner, TAG.SEQUENCE, 'maskGenAlgorithm'));
          mgfHash = readOid(params, expectTag(mgfOid, TAG.OID, 'maskGenAlgorithm')) === OID.mgf1 ? hashOf(params, mgfParams) : undefined;
        } else if (field.tag === contextTag(2, true)) {
          saltLength = readSmallInt(params, expectTag(inner, TAG.INTEGER, 'saltLength'));
        } else if (field.tag === contextTag(3, true)) {
          if (readSmallInt(params, expectTag(inner, TAG.INTEGER, 'trailerField')) !== 1) hash = undefined;
        }
      }
    }
  } catch (err) {
    if (err instanceof DerError) throw new OcspError('malformed', `RSASSA-PSS parameters do not parse: ${err.message}`);
    throw err;
  }
  if (!hash || hash !== mgfHash) {
    throw new OcspError('unsupported-algorithm', 'RSASSA-PSS with an unsupported hash, MGF or trailer');
  }
  return { kind: 'rsa-pss', hash, saltLength };
}

function hashOf(buf: Buffer, algorithm: Tlv | undefined): HashName | undefined {
  const [oid] = children(buf, expectTag(algorithm, TAG.SEQUENCE, 'hash AlgorithmIdentifier'));
  return HASHES[readOid(buf, expectTag(oid, TAG.OID, 'hash algorithm'))];
}
