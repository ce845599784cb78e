/**
 * Which certificates this responder answers for, their revocation state, and their signed responses:
 * signed on first request, then re-used until near nextUpdate (as a CDN serves a cached response).
 */
import { SimError } from '../errors.js';
import { encodeCertId, HASH_OIDS, type CertIdHash } from './cert-id.js';
import type { ResponderPki } from './load-pki.js';
import type { RequestedCertId } from './ocsp-request.js';
import { signedResponse, type CertificateStatus, type ResponseSigner } from './ocsp-response.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** A request resolved to one of our leaves. */
export interface Target {
  /** The requested CertID DER (as a latin1 string: a cheap Map key). */
  key: string;
  certIdDer: Buffer;
  serial: string;
}

export interface SignedResponse {
  der: Buffer;
  status: CertificateStatus['kind'];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Re-sign from this time on (epoch ms). */
  refreshAt: number;
}

/** Responses the fault switches serve instead of the current one. */
export type ResponseVariant = 'wrongSigner' | 'expired' | 'olderThisUpdate';

export const normalizeSerial = (serial: string): string => serial.toLowerCase().replace(/^0x/, '').replace(/:/g, '');

export class ResponseBook {
  private readonly known: ReadonlySet<string>;
  /** Revoked serial -> revocation time. */
  private revoked = new Map<string, Date>();
  private readonly signed = new Map<string, SignedResponse>();
  /** Count of signatures made (cache misses and variants). */
  signatures = 0;

  constructor(
    private readonly pki: ResponderPki,
    private readonly validityMs: number,
  ) {
    this.known = new Set(pki.manifest.leaves.map((leaf) => leaf.serial));
    for (const leaf of pki.manifest.leaves) {
      if (leaf.revokedAt !== undefined) this.revoked.set(leaf.serial, new Date(leaf.revokedAt));
    }
  }

  /** A Target when the CertID names one of our leaves (issuer hashes under SHA-1 or SHA-256), else undefined. */
  resolve(certId: RequestedCertId): Target | undefined {
    const issuer = this.pki.issuerHashes.get(certId.hashAlgorithm);
    if (!issuer || !issuer.nameHash.equals(certId.issuerNameHash) || !issuer.keyHash.equals(certId.issuerKeyHash)) return undefined;
    if (!this.known.has(certId.serial)) return undefined;
    return { key: certId.der.toString('latin1'), certIdDer: certId.der, serial: certId.serial };
  }

  /** The response to serve now for `target`, signing it when absent or near its nextUpdate. */
  current(target: Target, now: number): SignedResponse {
    const cached = this.signed.get(target.key);
    if (cached && now < cached.refreshAt) return cached;
    const thisUpdate = new Date(now - MINUTE_MS);
    const nextUpdate = new Date(thisUpdate.getTime() + this.validityMs);
    const response = this.sign(target, { thisUpdate, nextUpdate, producedAt: new Date(now) }, this.pki.signer);
    // Re-sign an hour (or half the validity, when shorter) before nextUpdate.
    response.refreshAt = nextUpdate.getTime() - Math.min(HOUR_MS, this.validityMs / 2);
    this.signed.set(target.key, response);
    return response;
  }

  /**
   * Signs every leaf's response ahead of the first request, for the given CertID hashes, so a cold
   * benchmark measures the client rather than our signing. Yields to the event loop between chunks.
   */
  async presign(hashes: readonly CertIdHash[], now: () => number, yieldNow: () => Promise<void>): Promise<void> {
    for (const hash of hashes) {
      const issuer = this.pki.issuerHashes.get(HASH_OIDS[hash]);
      if (!issuer) continue;
      for (const [i, serial] of [...this.known].entries()) {
        const der = encodeCertId(hash, issuer, serial);
        this.current({ key: der.toString('latin1'), certIdDer: der, serial }, now());
        if (i % 1000 === 999) await yieldNow();
      }
    }
  }

  /** A deliberately wrong response for the fault switches (never cached). */
  variant(target: Target, variant: ResponseVariant, now: number): SignedResponse {
    switch (variant) {
      case 'wrongSigner': {
        const thisUpdate = new Date(now - MINUTE_MS);
        const times = { thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + this.validityMs), producedAt: new Date(now) };
        return this.sign(target, times, this.pki.rogueSigner);
      }
      case 'expired': {
        const nextUpdate = new Date(now - HOUR_MS);
        const thisUpdate = new Date(nextUpdate.getTime() - this.validityMs);
        return this.sign(target, { thisUpdate, nextUpdate, producedAt: thisUpdate }, this.pki.signer);
      }
      case 'olderThisUpdate': {
        // Older than what the cache serves (and so than anything served before): a stale CDN node.
        const served = this.current(target, now);
        const thisUpdate = new Date(served.thisUpdate.getTime() - HOUR_MS);
        const nextUpdate = new Date(served.nextUpdate.getTime() - HOUR_MS);
        return this.sign(target, { thisUpdate, nextUpdate, producedAt: thisUpdate }, this.pki.signer);
      }
    }
  }

  /**
   * Replaces the set of revoked serials. Serials already revoked keep their revocation time; newly
   * revoked ones are revoked as of `now`. Cached responses are dropped so the change shows at once.
   */
  setRevoked(serials: readonly string[], now: number): void {
    const next = new Map<string, Date>();
    for (const raw of serials) {
      const serial = normalizeSerial(raw);
      if (!this.known.has(serial)) throw new SimError('bad-option', `unknown serial ${raw}`);
      next.set(serial, this.revoked.get(serial) ?? new Date(Math.floor(now / 1000) * 1000));
    }
    this.revoked = next;
    this.signed.clear();
  }

  revokedSerials(): string[] {
    return [...this.revoked.keys()];
  }

  private sign(target: Target, times: { thisUpdate: Date; nextUpdate: Date; producedAt: Date }, signer: ResponseSigner): SignedResponse {
    const revokedAt = this.revoked.get(target.serial);
    const status: CertificateStatus = revokedAt ? { kind: 'revoked', revokedAt } : { kind: 'good' };
    this.signatures++;
    return {
      der: signedResponse({ certIdDer: target.certIdDer, status, ...times }, signer),
      status: status.kind,
      thisUpdate: times.thisUpdate,
      nextUpdate: times.nextUpdate,
      refreshAt: times.nextUpdate.getTime(),
    };
  }
}
