/**
 * OCSP response verification (DESIGN.md "Verification", RFC 6960 3.2 and 4.2.2.2): turns response
 * bytes into a Staple or throws an OcspError with a stable code. Pure: the clock is a parameter.
 */
import { type KeyObject, createHash } from 'node:crypto';
import { CERT_ID_HASH_OIDS } from './cert-id.js';
import { OcspError } from './errors.js';
import { type PublicKeyEntry, PublicKeyCache } from './keys.js';
import { ResponderCertificates, matchesResponderId } from './responder.js';
import { type BasicResponseFields, type SingleResponseFields, readOcspResponse } from './response.js';
import { signatureSchemeOf, verifySignature } from './signature.js';
import type { CertId, Staple } from './types.js';

export interface OcspVerifierOptions {
  /**
   * How far in the future thisUpdate/producedAt may be (responder clocks run ahead).
   * @defaultValue 300_000 (5 minutes)
   */
  clockSkewMs?: number;
  /**
   * Bound of each cache (issuer KeyObjects, responder certificates).
   * @defaultValue 1_000
   */
  cacheSize?: number;
}

/** What the response must be about, as carried in a StapleTarget. */
export interface VerifyExpectation {
  certId: CertId;
  /** The issuer's SubjectPublicKeyInfo DER, or its base64 (StapleTarget.issuerSpki). */
  issuerSpki: Buffer | string;
  /** The certificate's notAfter (epoch ms): caps Staple.expiresAt. */
  certNotAfter?: number;
}

interface Signer {
  kind: Staple['signer'];
  key: KeyObject;
  /** Epoch ms; only for delegated responders. */
  notAfter?: number;
}

/**
 * Verifies OCSP responses. Keep one instance per worker: it caches issuer KeyObjects and the checks
 * of delegated responder certificates, so each response costs one parse and one signature check.
 */
export class OcspVerifier {
  readonly #clockSkewMs: number;
  readonly #keys: PublicKeyCache;
  readonly #responders: ResponderCertificates;

  constructor(options: OcspVerifierOptions = {}) {
    this.#clockSkewMs = options.clockSkewMs ?? 300_000;
    const cacheSize = options.cacheSize ?? 1_000;
    this.#keys = new PublicKeyCache(cacheSize);
    this.#responders = new ResponderCertificates(this.#keys, cacheSize);
  }

  /**
   * @param der the OCSPResponse bytes as received; Staple.der is this same Buffer.
   * @param now epoch ms.
   * @throws OcspError malformed | unsuccessful:<status> | certid-mismatch | unsupported-algorithm |
   *   unauthorized-signer | bad-signature | not-yet-valid | no-next-update | expired
   *   (and malformed-certificate when `expect.issuerSpki` is not a public key).
   */
  verify(der: Buffer, expect: VerifyExpectation, now: number): Staple {
    const response = readOcspResponse(der);
    if (!response.basic) {
      throw new OcspError(`unsuccessful:${response.responseStatus}`, `responder answered ${response.responseStatus}`);
    }
    const basic = response.basic;
    const single = findSingle(basic.responses, expect.certId);
    const scheme = signatureSchemeOf(basic.signatureAlgorithm);
    const signer = this.#signerOf(basic, this.#issuerKey(expect.issuerSpki), expect.certId, now);
    if (!verifySignature(scheme, basic.tbsResponseData, signer.key, basic.signature)) {
      throw new OcspError('bad-signature', `response signature does not verify under the ${signer.kind} key`);
    }
    return this.#staple(der, basic, single, signer, expect, now);
  }

  #issuerKey(spki: Buffer | string): PublicKeyEntry {
    try {
      return this.#keys.get(spki);
    } catch (err) {
      throw new OcspError('malformed-certificate', 'issuerSpki is not a SubjectPublicKeyInfo', { cause: err });
    }
  }

  /**
   * The key the ResponderID names: the issuer's (by key hash, or by name hashing to the CertID's
   * issuerNameHash), or a delegated responder certificate's from `certs`, checked per RFC 6960 4.2.2.2.
   */
  #signerOf(basic: BasicResponseFields, issuer: PublicKeyEntry, certId: CertId, now: number): Signer {
    const id = basic.responderId;
    const namesIssuer =
      'byKey' in id
        ? id.byKey.equals(issuer.keyHash)
        : createHash(certId.hashAlgorithm).update(id.byName).digest('hex') === certId.issuerNameHash.toLowerCase();
    if (namesIssuer) return { kind: 'issuer', key: issuer.key };

    for (const certDer of basic.certs) {
      const responder = this.#responders.get(certDer);
      if (!responder || !matchesResponderId(responder, id)) continue;
      // Some responders name and include the CA certificate itself.
      if (responder.key.spkiBase64 === issuer.spkiBase64) return { kind: 'issuer', key: issuer.key };
      const problem = this.#responders.delegationProblem(responder, issuer, certId);
      if (problem) throw new OcspError('unauthorized-signer', problem);
      const { notBefore, notAfter, subject } = responder.cert;
      if (now < notBefore.getTime() || now > notAfter.getTime()) {
        throw new OcspError('unauthorized-signer', `responder certificate ${subject} is outside its validity period`);
      }
      return { kind: 'delegated', key: responder.key.key, notAfter: notAfter.getTime() };
    }
    throw new OcspError('unauthorized-signer', 'the responder is neither the issuer nor a certificate included in the response');
  }

  #staple(
    der: Buffer,
    basic: BasicResponseFields,
    single: SingleResponseFields,
    signer: Signer,
    expect: VerifyExpectation,
    now: number,
  ): Staple {
    const latest = now + this.#clockSkewMs;
    if (single.thisUpdate.getTime() > latest) {
      throw new OcspError('not-yet-valid', `thisUpdate ${single.thisUpdate.toISOString()} is in the future`);
    }
    if (basic.producedAt.getTime() > latest) {
      throw new OcspError('not-yet-valid', `producedAt ${basic.producedAt.toISOString()} is in the future`);
    }
    const { nextUpdate } = single;
    if (!nextUpdate) throw new OcspError('no-next-update', 'response has no nextUpdate');
    if (nextUpdate.getTime() <= now) throw new OcspError('expired', `nextUpdate ${nextUpdate.toISOString()} has passed`);

    const expiresAt = Math.min(nextUpdate.getTime(), expect.certNotAfter ?? Infinity, signer.notAfter ?? Infinity);
    return {
      der,
      status: single.status,
      ...(single.revocationTime && { revocationTime: single.revocationTime }),
      ...(single.revocationReason && { revocationReason: single.revocationReason }),
      thisUpdate: single.thisUpdate,
      nextUpdate,
      producedAt: basic.producedAt,
      expiresAt: new Date(expiresAt),
      certId: { ...expect.certId },
      signer: signer.kind,
    };
  }
}

/** The SingleResponse for `certId` (hash algorithm, both hashes and serial must match). */
function findSingle(responses: SingleResponseFields[], certId: CertId): SingleResponseFields {
  const oid = CERT_ID_HASH_OIDS[certId.hashAlgorithm];
  const nameHash = certId.issuerNameHash.toLowerCase();
  const keyHash = certId.issuerKeyHash.toLowerCase();
  const serial = certId.serialNumber.toLowerCase();
  const match = responses.find(
    ({ certId: got }) =>
      got.hashAlgorithmOid === oid && got.issuerNameHash === nameHash && got.issuerKeyHash === keyHash && got.serialNumber === serial,
  );
  if (!match) {
    const got = responses.map((r) => r.certId.serialNumber).join(', ') || 'none';
    throw new OcspError('certid-mismatch', `no response for serial ${serial} (response covers: ${got})`);
  }
  return match;
}
