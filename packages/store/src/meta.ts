import type { CertStatus } from '@staplewarm/ocsp';
import type { StapleMeta } from './types.js';

/** Meta outlives the certificate by a day, so removed or expired certificates clean up by themselves. */
export const META_GRACE_MS = 24 * 60 * 60 * 1000;

/** Hash field names of `<prefix>meta:<fp>` (contract v1). */
export const META_FIELDS = [
  'status',
  'thisUpdate',
  'nextUpdate',
  'producedAt',
  'fetchedAt',
  'expiresAt',
  'serial',
  'responder',
  'names',
  'mustStaple',
  'certNotAfter',
  'revocationTime',
  'revocationReason',
  'lastError',
  'lastErrorCode',
  'lastErrorAt',
] as const;

export type MetaField = (typeof META_FIELDS)[number];

/** Times are `toISOString()` (UTC, millisecond precision, fixed width), so they compare as strings. */
export function isoTime(time: Date | number): string {
  return new Date(time).toISOString();
}

/** DNS names as stored: lowercase, each once, in first-seen order. */
export function normalizeNames(names: readonly string[]): string[] {
  return [...new Set(names.map((name) => name.toLowerCase()))];
}

/** Decodes a meta hash (`HGETALL`); an empty hash (missing key) is null. */
export function decodeMeta(fingerprint: string, hash: Record<string, string>): StapleMeta | null {
  if (Object.keys(hash).length === 0) return null;
  const meta: StapleMeta = {
    fingerprint,
    names: hash.names ? hash.names.split(',') : [],
    mustStaple: hash.mustStaple === '1',
  };
  assignDefined(meta, 'status', parseStatus(hash.status));
  for (const field of [
    'thisUpdate',
    'nextUpdate',
    'producedAt',
    'fetchedAt',
    'expiresAt',
    'certNotAfter',
    'revocationTime',
    'lastErrorAt',
  ] as const) {
    assignDefined(meta, field, parseTime(hash[field]));
  }
  for (const field of ['serial', 'responder', 'revocationReason', 'lastError', 'lastErrorCode'] as const) {
    assignDefined(meta, field, hash[field]);
  }
  return meta;
}

export function parseStatus(value: string | undefined | null): CertStatus | undefined {
  return value === 'good' || value === 'revoked' || value === 'unknown' ? value : undefined;
}

export function parseTime(value: string | undefined | null): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time);
}

function assignDefined<K extends keyof StapleMeta>(meta: StapleMeta, key: K, value: StapleMeta[K] | undefined): void {
  if (value !== undefined) meta[key] = value;
}
