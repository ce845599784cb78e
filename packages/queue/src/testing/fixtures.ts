/**
 * Test helper (excluded from the build): the certificate and staple the worker tests play with,
 * when what they test is the queue, not parsing or verification.
 */
import { createHash } from 'node:crypto';
import type { OcspVerifier, Staple } from '@staplewarm/ocsp';
import type { StapleJobData } from '../jobs/job.js';

const DAY = 86_400_000;

/** A target named `label`, whose responder URLs are `url` (its fingerprint: the label's SHA-256). */
export function testTarget(label: string, url: string | string[]): StapleJobData {
  return {
    fingerprint: createHash('sha256').update(label).digest('hex'),
    names: [`${label}.example.test`],
    mustStaple: false,
    certNotAfter: Date.now() + 60 * DAY,
    ocspUrls: Array.isArray(url) ? url : [url],
    certId: { hashAlgorithm: 'sha1', issuerNameHash: 'aa', issuerKeyHash: 'bb', serialNumber: '01' },
    request: 'MAA=',
    issuerSpki: 'MAA=',
    subject: `CN=${label}`,
  };
}

/** A good staple, valid from a minute before `now` for 7 days. */
export function goodStaple(now = Date.now()): Staple {
  return {
    der: Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x00]),
    status: 'good',
    thisUpdate: new Date(now - 60_000),
    nextUpdate: new Date(now + 7 * DAY),
    producedAt: new Date(now - 60_000),
    expiresAt: new Date(now + 7 * DAY),
    certId: { hashAlgorithm: 'sha1', issuerNameHash: 'aa', issuerKeyHash: 'bb', serialNumber: '01' },
    signer: 'issuer',
  };
}

/** A verifier that takes every body for `staple`. */
export function acceptingVerifier(staple: Staple = goodStaple()): OcspVerifier {
  return { verify: () => staple } as unknown as OcspVerifier;
}
