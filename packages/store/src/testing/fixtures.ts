/** Test helper: staples and records built from plain values (the store never parses DER). */
import { createHash } from 'node:crypto';
import type { Staple } from '@staplewarm/ocsp';
import type { StapleRecord } from '../types.js';

export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;
/** Real time: TTLs are set against Redis's clock, so fixtures must be near it. */
export const NOW = Date.now();

/** A fingerprint-shaped string (lowercase hex SHA-256) derived from a label. */
export function fingerprint(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

/** Bytes that would break any text handling: NUL, 0xff, CR/LF, an invalid UTF-8 sequence. */
export function binaryDer(tag: number): Buffer {
  return Buffer.from([0x30, 0x82, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0xc3, 0x28, tag & 0xff, 0xff, 0x00]);
}

export interface StapleSpec {
  status?: 'good' | 'revoked' | 'unknown';
  /** ms relative to NOW */
  thisUpdate?: number;
  expiresIn?: number;
  der?: Buffer;
}

export function staple(spec: StapleSpec = {}, now = NOW): Staple {
  const thisUpdate = new Date(now + (spec.thisUpdate ?? -HOUR));
  const nextUpdate = new Date(thisUpdate.getTime() + 7 * DAY);
  const s: Staple = {
    der: spec.der ?? binaryDer(1),
    status: spec.status ?? 'good',
    thisUpdate,
    nextUpdate,
    producedAt: thisUpdate,
    expiresAt: new Date(now + (spec.expiresIn ?? 6 * DAY)),
    certId: { hashAlgorithm: 'sha1', issuerNameHash: 'aa', issuerKeyHash: 'bb', serialNumber: '0A1B2C' },
    signer: 'issuer',
  };
  if (s.status === 'revoked') {
    s.revocationTime = new Date(now - DAY);
    s.revocationReason = 'keyCompromise';
  }
  return s;
}

export function record(fp: string, st: Staple, overrides: Partial<StapleRecord> = {}, now = NOW): StapleRecord {
  return {
    fingerprint: fp,
    staple: st,
    responder: 'http://ocsp.example.test',
    names: ['www.example.test', 'Example.test', '*.example.test'],
    mustStaple: false,
    certNotAfter: now + 60 * DAY,
    fetchedAt: new Date(now),
    ...overrides,
  };
}
