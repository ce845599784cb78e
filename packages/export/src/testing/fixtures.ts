/**
 * Test helpers of packages/export (excluded from the build): real signed OCSP responses from
 * packages/ocsp's test fixtures, and an in-memory StapleSource.
 */
import { certIdFor, parseCertificates, type CertIdHash, type ParsedCertificate } from '@staplewarm/ocsp';
import { buildOcspResponse, createTestPki, type TestCertificate, type TestPki } from '../../../ocsp/src/testing/index.js';
import type { StapleSource } from '../exporter.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface ExportPki {
  pki: TestPki;
  issuer: ParsedCertificate;
  leaves: ParsedCertificate[];
  /** The leaves as issued: PEM and private key (HAProxy's bundles hold both). */
  issued: TestCertificate[];
}

export function exportPki(now: number, count = 2): ExportPki {
  const pki = createTestPki({ now });
  const [issuer] = parseCertificates(pki.issuer.pem);
  const issued = Array.from({ length: count }, (_, i) => pki.leaf({ dnsNames: [`site${i}.export.test`] }));
  const leaves = issued.map((cert) => parseCertificates(cert.pem)[0]);
  if (!issuer || leaves.some((l) => !l)) throw new Error('test PKI did not parse');
  return { pki, issuer, leaves: leaves as ParsedCertificate[], issued };
}

export interface ResponseOptions {
  status?: 'good' | 'revoked' | 'unknown';
  thisUpdate: number;
  /** null: no nextUpdate. */
  nextUpdate: number | null;
  hash?: CertIdHash;
  /** Another SingleResponse before the leaf's (HAProxy refuses such a response). */
  withOther?: ParsedCertificate;
}

/** A response for `leaf` signed by the issuer. */
export function signedResponse(p: ExportPki, leaf: ParsedCertificate, opts: ResponseOptions): Buffer {
  const hash = opts.hash ?? 'sha1';
  return buildOcspResponse({
    certId: certIdFor(leaf, p.issuer, hash),
    status: opts.status ?? 'good',
    ...(opts.status === 'revoked' && { revocationTime: new Date(opts.thisUpdate - DAY) }),
    thisUpdate: new Date(opts.thisUpdate),
    nextUpdate: opts.nextUpdate === null ? null : new Date(opts.nextUpdate),
    signer: { key: p.pki.issuer.key, cert: p.pki.issuer },
    ...(opts.withOther && {
      others: [
        { certId: certIdFor(opts.withOther, p.issuer, hash), status: 'good', thisUpdate: new Date(opts.thisUpdate), nextUpdate: null },
      ],
    }),
  });
}

/** Staples by fingerprint, as Redis would hold them; counts reads. */
export class MemorySource implements StapleSource {
  readonly staples = new Map<string, { der: Buffer; expiresAt?: Date }>();
  reads = 0;

  set(fingerprint: string, der: Buffer, expiresAt?: number): void {
    this.staples.set(fingerprint, expiresAt === undefined ? { der } : { der, expiresAt: new Date(expiresAt) });
  }

  async get(fingerprint: string): Promise<{ der: Buffer | null; meta: { expiresAt?: Date } | null }> {
    this.reads++;
    const staple = this.staples.get(fingerprint);
    if (!staple) return { der: null, meta: null };
    return { der: staple.der, meta: staple.expiresAt ? { expiresAt: staple.expiresAt } : {} };
  }
}
