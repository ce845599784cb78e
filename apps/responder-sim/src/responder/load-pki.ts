/** What the responder needs from a generated PKI directory: who it answers for and how it signs. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readChildren, readTlv, whole } from '../der/decode.js';
import { OID } from '../der/oids.js';
import { SimError } from '../errors.js';
import { createAuthority, issueResponderCertificate } from '../pki/authority.js';
import { loadSigningKey, publicKeyBitsOf, type KeyType } from '../pki/keys.js';
import { PkiPaths } from '../pki/layout.js';
import { readManifest, type PkiManifest } from '../pki/manifest.js';
import { fromPem } from '../pki/pem.js';
import type { ResponseSigner } from './ocsp-response.js';

export type SignerKind = 'delegated' | 'issuer';

/** CertID issuer hashes (RFC 6960 4.1.1) for one hash algorithm. */
export interface IssuerHashes {
  nameHash: Buffer;
  keyHash: Buffer;
}

export interface ResponderPki {
  manifest: PkiManifest;
  issuerDer: Buffer;
  /** Keyed by hash algorithm OID: SHA-1 (RFC 5019) and SHA-256 (RFC 9919). */
  issuerHashes: Map<string, IssuerHashes>;
  signer: ResponseSigner;
  /** A key that is neither the issuer nor its delegated responder (the `wrongSigner` fault). */
  rogueSigner: ResponseSigner;
}

async function readPki(pkiDir: string, path: string): Promise<string> {
  try {
    return await readFile(join(pkiDir, path), 'utf8');
  } catch (cause) {
    throw new SimError('pki-missing', `cannot read ${join(pkiDir, path)}`, { cause });
  }
}

function certificateDer(pem: string, path: string): Buffer {
  const der = fromPem(pem, 'CERTIFICATE');
  if (!der) throw new SimError('pki-invalid', `${path} holds no PEM certificate`);
  return der;
}

/** Subject Name DER and SubjectPublicKeyInfo DER of a certificate. */
function subjectAndSpki(der: Buffer): { subjectName: Buffer; spkiDer: Buffer } {
  const certificate = readTlv(der, 0);
  const tbs = certificate && readTlv(der, certificate.contentStart, certificate.end);
  const fields = tbs && readChildren(der, tbs);
  // version [0] is optional; after it: serial, signature, issuer, validity, subject, subjectPublicKeyInfo.
  const rest = fields?.[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  const subject = rest?.[4];
  const spki = rest?.[5];
  if (!subject || !spki) throw new SimError('pki-invalid', 'issuer certificate does not parse');
  return { subjectName: whole(der, subject), spkiDer: whole(der, spki) };
}

function hashesFor(issuerDer: Buffer): Map<string, IssuerHashes> {
  const { subjectName, spkiDer } = subjectAndSpki(issuerDer);
  const keyBits = publicKeyBitsOf(spkiDer);
  const digest = (algorithm: string, data: Buffer): Buffer => createHash(algorithm).update(data).digest();
  return new Map([
    [OID.sha1, { nameHash: digest('sha1', subjectName), keyHash: digest('sha1', keyBits) }],
    [OID.sha256, { nameHash: digest('sha256', subjectName), keyHash: digest('sha256', keyBits) }],
  ]);
}

async function loadSigner(pkiDir: string, kind: SignerKind): Promise<ResponseSigner> {
  switch (kind) {
    case 'issuer':
      return { key: loadSigningKey(await readPki(pkiDir, PkiPaths.issuerKey)), certs: [] };
    case 'delegated': {
      const [certPem, keyPem] = await Promise.all([readPki(pkiDir, PkiPaths.signerCert), readPki(pkiDir, PkiPaths.signerKey)]);
      return { key: loadSigningKey(keyPem), certs: [certificateDer(certPem, PkiPaths.signerCert)] };
    }
  }
}

/** A responder certificate from a throw-away CA: well-formed, properly signed, but not trusted for this issuer. */
function rogueSigner(keyType: KeyType, now: Date): ResponseSigner {
  const rogueCa = createAuthority({ keyType, delegatedSigner: false, now, label: 'rogue' }).issuer;
  const rogue = issueResponderCertificate(rogueCa, now, 'rogue');
  return { key: rogue.key, certs: [rogue.der] };
}

/** @param signerKind default: 'delegated' when the PKI has a delegated signer, else 'issuer'. */
export async function loadResponderPki(pkiDir: string, signerKind: SignerKind | undefined, now: Date): Promise<ResponderPki> {
  const manifest = await readManifest(pkiDir);
  const issuerDer = certificateDer(await readPki(pkiDir, PkiPaths.issuerCert), PkiPaths.issuerCert);
  return {
    manifest,
    issuerDer,
    issuerHashes: hashesFor(issuerDer),
    signer: await loadSigner(pkiDir, signerKind ?? (manifest.signer ? 'delegated' : 'issuer')),
    rogueSigner: rogueSigner(manifest.keyType, now),
  };
}
