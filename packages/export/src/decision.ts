/**
 * What to hand a server for one certificate (pure; the clock is an argument): the staple as stored,
 * or nothing and why. The bytes are read from the staple itself, not from the meta beside it, so
 * what is decided is what is written.
 */
import { parseOcspResponse } from '@staplewarm/ocsp';

/** A stored staple as read from Redis (`StapleStore.get`): its bytes, and its meta's `expiresAt`. */
export interface StoredStaple {
  der: Buffer;
  /** The staple key's expiry (earliest of nextUpdate, the certificate's and the responder's notAfter). */
  expiresAt?: Date;
}

export type WithdrawReason =
  /** Nothing in Redis: never fetched, expired, or the certificate has no staple yet. */
  | 'no-staple'
  /** Less than the minimum validity left: the server would go on stapling it past its nextUpdate. */
  | 'expiring'
  /** The stored bytes do not parse as a successful OCSP response (never written by staplewarm). */
  | 'unparsable'
  /** HAProxy refuses a response with several SingleResponses. */
  | 'several-responses'
  /** HAProxy refuses status unknown (staplewarm never stores one). */
  | 'status-unknown'
  /** HAProxy refuses a response without nextUpdate (staplewarm never stores one). */
  | 'no-next-update'
  /** HAProxy keys its responses on SHA-1 CertIDs; a SHA-256 one (STAPLEWARM_CERTID_HASH=sha256) matches none. */
  | 'certid-hash';

export type ExportDecision =
  | {
      action: 'export';
      der: Buffer;
      status: 'good' | 'revoked';
      nextUpdate: Date;
      /** When the server must stop stapling it: the staple's expiry. */
      expiresAt: Date;
      /** When to withdraw it if no newer staple came: `expiresAt` minus the minimum validity, epoch ms. */
      withdrawAt: number;
    }
  | { action: 'withdraw'; reason: WithdrawReason; detail: string };

export interface DecideOptions {
  /** The clock, epoch ms. */
  now: number;
  /** A staple with less validity left is not handed over (HAProxy's own floor is 300 s). */
  minValidityMs: number;
  /** Only a SHA-1 CertID will do (HAProxy's runtime API). @defaultValue false */
  sha1CertIdOnly?: boolean;
}

/** The smallest minimum validity the exporters accept: HAProxy refuses a response with less than 300 s left. */
export const MIN_VALIDITY_FLOOR_MS = 300_000;

export function decideExport(staple: StoredStaple | null, options: DecideOptions): ExportDecision {
  if (!staple) return { action: 'withdraw', reason: 'no-staple', detail: 'no staple in Redis' };
  let summary: ReturnType<typeof parseOcspResponse>;
  try {
    summary = parseOcspResponse(staple.der);
  } catch (err) {
    return { action: 'withdraw', reason: 'unparsable', detail: `the stored staple does not parse: ${(err as Error).message}` };
  }
  if (summary.responseStatus !== 'successful') {
    return { action: 'withdraw', reason: 'unparsable', detail: `the stored staple's status is ${summary.responseStatus}` };
  }
  const [single, ...more] = summary.responses;
  if (!single) return { action: 'withdraw', reason: 'unparsable', detail: 'the stored staple holds no SingleResponse' };
  if (more.length > 0) {
    return { action: 'withdraw', reason: 'several-responses', detail: `the staple holds ${summary.responses.length} SingleResponses` };
  }
  if (single.status === 'unknown') return { action: 'withdraw', reason: 'status-unknown', detail: 'the staple says unknown' };
  if (!single.nextUpdate) return { action: 'withdraw', reason: 'no-next-update', detail: 'the staple has no nextUpdate' };
  if (options.sha1CertIdOnly && single.certId.hashAlgorithm !== 'sha1') {
    return {
      action: 'withdraw',
      reason: 'certid-hash',
      detail: `the staple's CertID uses ${single.certId.hashAlgorithm}; HAProxy matches SHA-1 CertIDs only (STAPLEWARM_CERTID_HASH=sha1)`,
    };
  }
  const nextUpdate = single.nextUpdate;
  const expiresAt = staple.expiresAt && staple.expiresAt < nextUpdate ? staple.expiresAt : nextUpdate;
  const withdrawAt = expiresAt.getTime() - options.minValidityMs;
  if (withdrawAt <= options.now) {
    const left = Math.max(0, Math.round((expiresAt.getTime() - options.now) / 1000));
    return { action: 'withdraw', reason: 'expiring', detail: `the staple expires in ${left} s (${expiresAt.toISOString()})` };
  }
  return { action: 'export', der: staple.der, status: single.status, nextUpdate, expiresAt, withdrawAt };
}
