import { describe, expect, it } from 'vitest';
import { buildUnsuccessfulResponse } from '../../ocsp/src/testing/index.js';
import { decideExport } from './decision.js';
import { DAY, HOUR, MINUTE, exportPki, signedResponse } from './testing/fixtures.js';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const p = exportPki(NOW);
const [leaf, other] = p.leaves as [NonNullable<(typeof p.leaves)[0]>, NonNullable<(typeof p.leaves)[1]>];
const options = { now: NOW, minValidityMs: 15 * MINUTE };

describe('decideExport', () => {
  it('hands over a good or revoked staple, to be withdrawn the minimum validity before it expires', () => {
    const der = signedResponse(p, leaf, { thisUpdate: NOW - HOUR, nextUpdate: NOW + 7 * DAY });
    expect(decideExport({ der }, options)).toEqual({
      action: 'export',
      der,
      status: 'good',
      nextUpdate: new Date(NOW + 7 * DAY),
      expiresAt: new Date(NOW + 7 * DAY),
      withdrawAt: NOW + 7 * DAY - 15 * MINUTE,
    });
    const revoked = signedResponse(p, leaf, { status: 'revoked', thisUpdate: NOW - HOUR, nextUpdate: NOW + DAY });
    expect(decideExport({ der: revoked }, options)).toMatchObject({ action: 'export', status: 'revoked' });
  });

  it("takes the staple key's expiry when it is earlier than nextUpdate (certificate or responder notAfter)", () => {
    const der = signedResponse(p, leaf, { thisUpdate: NOW - HOUR, nextUpdate: NOW + 7 * DAY });
    expect(decideExport({ der, expiresAt: new Date(NOW + DAY) }, options)).toMatchObject({
      expiresAt: new Date(NOW + DAY),
      withdrawAt: NOW + DAY - 15 * MINUTE,
    });
    expect(decideExport({ der, expiresAt: new Date(NOW + 10 * MINUTE) }, options)).toMatchObject({
      action: 'withdraw',
      reason: 'expiring',
    });
  });

  it('withdraws a staple with less than the minimum validity left, and nothing at all', () => {
    const der = signedResponse(p, leaf, { thisUpdate: NOW - 7 * DAY, nextUpdate: NOW + 15 * MINUTE });
    expect(decideExport({ der }, options)).toEqual({
      action: 'withdraw',
      reason: 'expiring',
      detail: `the staple expires in 900 s (${new Date(NOW + 15 * MINUTE).toISOString()})`,
    });
    expect(decideExport({ der }, { ...options, now: NOW - 1 })).toMatchObject({ action: 'export' });
    expect(decideExport(null, options)).toMatchObject({ action: 'withdraw', reason: 'no-staple' });
  });

  it('refuses what HAProxy refuses: several SingleResponses, unknown, no nextUpdate; and non-SHA-1 CertIDs when asked', () => {
    const several = signedResponse(p, leaf, { thisUpdate: NOW - HOUR, nextUpdate: NOW + DAY, withOther: other });
    expect(decideExport({ der: several }, options)).toMatchObject({ reason: 'several-responses' });
    const unknown = signedResponse(p, leaf, { status: 'unknown', thisUpdate: NOW - HOUR, nextUpdate: NOW + DAY });
    expect(decideExport({ der: unknown }, options)).toMatchObject({ reason: 'status-unknown' });
    const open = signedResponse(p, leaf, { thisUpdate: NOW - HOUR, nextUpdate: null });
    expect(decideExport({ der: open }, options)).toMatchObject({ reason: 'no-next-update' });
    const sha256 = signedResponse(p, leaf, { thisUpdate: NOW - HOUR, nextUpdate: NOW + DAY, hash: 'sha256' });
    expect(decideExport({ der: sha256 }, options)).toMatchObject({ action: 'export' });
    expect(decideExport({ der: sha256 }, { ...options, sha1CertIdOnly: true })).toMatchObject({ reason: 'certid-hash' });
  });

  it('never hands over bytes that are not a successful response', () => {
    expect(decideExport({ der: Buffer.from('not der') }, options)).toMatchObject({ action: 'withdraw', reason: 'unparsable' });
    expect(decideExport({ der: buildUnsuccessfulResponse('tryLater') }, options)).toMatchObject({
      action: 'withdraw',
      reason: 'unparsable',
      detail: "the stored staple's status is tryLater",
    });
  });
});
