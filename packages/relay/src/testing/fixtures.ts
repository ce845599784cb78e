/**
 * Test helpers of packages/relay (excluded from the build): a PKI and signed responses from
 * packages/ocsp's test fixtures, an in-memory StapleSource that counts its calls, and a MissFetcher
 * that records what it was asked and can "complete" the fetch by storing a staple.
 */
import {
  certIdFor,
  encodeOcspRequest,
  parseCertificates,
  type CertId,
  type CertIdHash,
  type ParsedCertificate,
  type StapleTarget,
} from '@staplewarm/ocsp';
import type { IndexedCertificate, IndexedIssuer } from '@staplewarm/store';
import { buildOcspResponse, createTestPki, type TestPki } from '../../../ocsp/src/testing/index.js';
import type { MissFetcher, StapleSource } from '../ports.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

export interface RelayPki {
  pki: TestPki;
  issuer: ParsedCertificate;
  leaf: ParsedCertificate;
  /** A second leaf of the same issuer. */
  other: ParsedCertificate;
  issuerId: string;
  /** The issuer as the CertID index stores it. */
  indexed: IndexedIssuer;
}

export function relayPki(): RelayPki {
  const pki = createTestPki({ now: NOW });
  const [issuer] = parseCertificates(pki.issuer.pem);
  const [leaf] = parseCertificates(pki.leaf({ dnsNames: ['leaf.relay.test'] }).pem);
  const [other] = parseCertificates(pki.leaf({ dnsNames: ['other.relay.test'] }).pem);
  if (!issuer || !leaf || !other) throw new Error('test PKI did not parse');
  const issuerId = 'ab'.repeat(16);
  return {
    pki,
    issuer,
    leaf,
    other,
    issuerId,
    indexed: { id: issuerId, spki: issuer.spkiDer.toString('base64'), ocspUrls: ['http://ocsp.relay.test/'] },
  };
}

/** A response for `cert` signed by the issuer, with the CertID in `hash`, valid for 7 days from an hour ago. */
export function signedResponse(
  p: RelayPki,
  cert: ParsedCertificate,
  opts: { hash?: CertIdHash; status?: 'good' | 'revoked' | 'unknown'; thisUpdate?: number; nextUpdate?: number } = {},
): Buffer {
  const thisUpdate = opts.thisUpdate ?? NOW - HOUR;
  return buildOcspResponse({
    certId: certIdFor(cert, p.issuer, opts.hash ?? 'sha1'),
    status: opts.status ?? 'good',
    ...(opts.status === 'revoked' && { revocationTime: new Date(NOW - DAY) }),
    thisUpdate: new Date(thisUpdate),
    nextUpdate: new Date(opts.nextUpdate ?? thisUpdate + 7 * DAY),
    signer: { key: p.pki.issuer.key, cert: p.pki.issuer },
  });
}

/** The DER OCSPRequest for `cert` (RFC 5019 form, what nginx sends). */
export function requestFor(p: RelayPki, cert: ParsedCertificate, hash: CertIdHash = 'sha1'): Buffer {
  return encodeOcspRequest(certIdFor(cert, p.issuer, hash));
}

export function certIdOf(p: RelayPki, cert: ParsedCertificate, hash: CertIdHash = 'sha1'): CertId {
  return certIdFor(cert, p.issuer, hash);
}

/** nginx's GET form: `/` + base64 with `+`, `/` and `=` escaped. */
export function nginxPath(der: Buffer, prefix = ''): string {
  return `${prefix}/${encodeURIComponent(der.toString('base64'))}`;
}

/** An in-memory StapleSource: issuers by `hash:name:key`, certificates by `issuerId:serial`. Counts calls. */
export class FakeSource implements StapleSource {
  readonly issuers = new Map<string, IndexedIssuer>();
  readonly certificates = new Map<string, IndexedCertificate>();
  calls = { issuer: 0, certificate: 0 };
  /** When set, every call rejects with it (Redis down). */
  failure: Error | undefined;

  addIssuer(p: RelayPki): void {
    for (const hash of ['sha1', 'sha256'] as const) {
      const id = certIdFor(p.leaf, p.issuer, hash);
      this.issuers.set(`${hash}:${id.issuerNameHash}:${id.issuerKeyHash}`, p.indexed);
    }
  }

  addCertificate(p: RelayPki, cert: ParsedCertificate, entry: Partial<IndexedCertificate> = {}): IndexedCertificate {
    const indexed: IndexedCertificate = {
      fingerprint: cert.fingerprint,
      staple: null,
      stapleExpiresInMs: null,
      meta: { names: cert.dnsNames, mustStaple: false, certNotAfter: cert.notAfter.getTime(), responder: 'http://ocsp.relay.test/' },
      ...entry,
    };
    this.certificates.set(`${p.issuerId}:${cert.serialNumber}`, indexed);
    return indexed;
  }

  setStaple(p: RelayPki, cert: ParsedCertificate, der: Buffer, expiresInMs = 6 * DAY): void {
    const key = `${p.issuerId}:${cert.serialNumber}`;
    const known = this.certificates.get(key);
    if (!known) throw new Error('add the certificate first');
    this.certificates.set(key, { ...known, staple: der, stapleExpiresInMs: expiresInMs });
  }

  async issuer(hash: CertIdHash, nameHash: string, keyHash: string): Promise<IndexedIssuer | null> {
    this.calls.issuer++;
    await Promise.resolve();
    if (this.failure) throw this.failure;
    return this.issuers.get(`${hash}:${nameHash}:${keyHash}`) ?? null;
  }

  async certificate(issuerId: string, serial: string): Promise<IndexedCertificate | null> {
    this.calls.certificate++;
    await Promise.resolve();
    if (this.failure) throw this.failure;
    return this.certificates.get(`${issuerId}:${serial}`) ?? null;
  }
}

/** Records requested fetches; `onRequest` can complete one (store a staple) as a worker would. */
export class FakeFetcher implements MissFetcher {
  readonly requested: StapleTarget[] = [];
  onRequest: ((target: StapleTarget) => void) | undefined;

  async request(target: StapleTarget): Promise<void> {
    this.requested.push(target);
    await Promise.resolve();
    this.onRequest?.(target);
  }
}
