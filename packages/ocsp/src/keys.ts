/** Public keys: SubjectPublicKeyInfo DER to cached node:crypto KeyObjects, and the key bits. */
import { type KeyObject, createHash, createPublicKey } from 'node:crypto';
import { BoundedCache } from './bounded-cache.js';
import { TAG, children, expectTag, readBitStringBytes, readRoot } from './der.js';

/** A public key with what OCSP hashes about it, computed once per SPKI. */
export interface PublicKeyEntry {
  /** The SubjectPublicKeyInfo DER, base64 (also the cache key). */
  spkiBase64: string;
  key: KeyObject;
  /** The subjectPublicKey BIT STRING value (no tag, length or unused-bits octet): RFC 6960 KeyHash input. */
  keyBits: Buffer;
  /** SHA-1 of keyBits: the ResponderID byKey value of this key (RFC 6960 4.2.1). */
  keyHash: Buffer;
}

/** Creates KeyObjects from SPKI DER (Buffer or base64) once and reuses them. */
export class PublicKeyCache {
  readonly #cache: BoundedCache<string, PublicKeyEntry>;

  constructor(maxEntries = 1_000) {
    this.#cache = new BoundedCache(maxEntries);
  }

  /** @throws Error when the bytes are not a SubjectPublicKeyInfo node:crypto can import. */
  get(spki: Buffer | string): PublicKeyEntry {
    const spkiBase64 = typeof spki === 'string' ? spki : spki.toString('base64');
    return this.#cache.getOrCompute(spkiBase64, () => {
      const der = typeof spki === 'string' ? Buffer.from(spki, 'base64') : Buffer.from(spki);
      const keyBits = subjectPublicKeyBits(der);
      return {
        spkiBase64,
        key: createPublicKey({ key: der, format: 'der', type: 'spki' }),
        keyBits,
        keyHash: createHash('sha1').update(keyBits).digest(),
      };
    });
  }
}

/**
 * ```asn1
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 * ```
 * Returns the BIT STRING value without the unused-bits octet (RFC 6960 4.1.1 issuerKeyHash input).
 */
export function subjectPublicKeyBits(spkiDer: Buffer): Buffer {
  const root = expectTag(readRoot(spkiDer), TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  const [algorithm, bits] = children(spkiDer, root);
  expectTag(algorithm, TAG.SEQUENCE, 'SubjectPublicKeyInfo.algorithm');
  return readBitStringBytes(spkiDer, expectTag(bits, TAG.BIT_STRING, 'subjectPublicKey'));
}
