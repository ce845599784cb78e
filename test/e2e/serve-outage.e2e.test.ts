/**
 * `serve` through responder outages and revocations: 500 certificates warmed, then refreshed while
 * the simulator misbehaves in every way it can. No bad answer ever replaces a stored staple; the
 * next good refresh stores newer ones; revocations replace good staples at once, logged with names.
 */
import { join } from 'node:path';
import { OcspVerifier } from '@staplewarm/ocsp';
import type { Faults } from '@staplewarm/responder-sim';
import type { ScannedTarget } from '@staplewarm/scan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, runCli, testPrefix } from '@staplewarm/testing';
import {
  FAST_REFRESH,
  ServeProcess,
  readStaples,
  serveArgs,
  startServeFixture,
  targetsOf,
  verifyStaple,
  waitForStaples,
  type ServeFixture,
  type StoredStaple,
} from './serve-harness.js';

const COUNT = 500;

describe('serve keeps the last good staple through outages', () => {
  let fx: ServeFixture;
  let serve: ServeProcess | undefined;
  let targets: Map<string, ScannedTarget>;
  const prefix = testPrefix('serve-outage');
  const fps = () => fx.manifest.leaves.map((l) => l.fingerprint);
  const verifier = new OcspVerifier();
  const verifyAll = (staples: StoredStaple[], status: (fp: string) => string = () => 'good') =>
    staples.forEach((s, i) => {
      const fp = fps()[i] ?? '';
      expect(s.der, fp).not.toBeNull();
      expect(verifyStaple(s.der as Buffer, targets.get(fp) as ScannedTarget, verifier).status).toBe(status(fp));
    });

  /** Switches the responder to `faults` until every certificate has been refreshed and refused. */
  // `codes`: what lastError may say (a hanging host times out, then is marked down for every worker).
  const refusedUnder = async (faults: Faults, ...codes: string[]) => {
    fx.responder.setFaults(faults);
    const refused = (s: StoredStaple) => codes.includes(s.meta.lastErrorCode ?? '');
    // Every certificate has been refreshed (and refused) under this fault: lastError says so.
    await waitForStaples(fx.redis, prefix, fps(), refused, 25_000, `every certificate to fail with ${codes.join(' or ')}`);
    const during = await readStaples(fx.redis, prefix, fps());
    expect(during.map((s) => s.der)).toEqual(before.map((s) => s.der));
    expect(during.every((s) => s.meta.status === 'good' && refused(s))).toBe(true);
  };
  let before: StoredStaple[];

  beforeAll(async () => {
    // Two-hour responses: long enough that the "older thisUpdate" variant (an hour older) is still valid.
    fx = await startServeFixture({ label: 'serve-outage', count: COUNT, prefixes: [prefix], responder: { validityHours: 2 } });
    targets = await targetsOf(join(fx.dir, 'live'));

    const warm = await runCli(['warm', '--certs', join(fx.dir, 'live'), '--redis', REDIS_URL, '--prefix', prefix, '--rate', '0', '--json']);
    expect(warm.code, warm.stderr).toBe(0);
    before = await readStaples(fx.redis, prefix, fps());
    verifyAll(before);

    serve = new ServeProcess(
      // Clock control: the refresh point ~1-5 s after each fetch, retries every 0.5-3 s.
      serveArgs(join(fx.dir, 'live'), prefix, 0, '--concurrency', '128', ...FAST_REFRESH),
      // One try per job: the schedule's retries are what this test is about.
      { STAPLEWARM_ATTEMPTS: '1', STAPLEWARM_RESPONSE_TIMEOUT_MS: '250' },
    );
    expect((await serve.ready()).tracked).toBe(COUNT);
  });

  afterAll(() => fx?.close());

  it('keeps every staple through 5xx, garbage, hanging and tryLater answers', async () => {
    await refusedUnder({ http5xx: true }, 'http-500');
    await refusedUnder({ garbage: true }, 'malformed');
    await refusedUnder({ hang: true }, 'timeout', 'host-down');
    await refusedUnder({ tryLater: true }, 'unsuccessful:tryLater');
    verifyAll(await readStaples(fx.redis, prefix, fps()));
  });

  it('keeps every staple through wrong signers, expired and older responses, then stores newer ones', async () => {
    await refusedUnder({ wrongSigner: true }, 'unauthorized-signer');
    await refusedUnder({ expired: true }, 'expired');
    await refusedUnder({ olderThisUpdate: true }, 'older-response');
    verifyAll(await readStaples(fx.redis, prefix, fps()));

    // The responder recovers and publishes new responses (re-signs): the next refresh stores them.
    fx.responder.setFaults({});
    fx.responder.setRevoked([]);
    const after = await waitForStaples(
      fx.redis,
      prefix,
      fps(),
      (s, i) => (s.meta.thisUpdate ?? '') > (before[i]?.meta.thisUpdate ?? '') && s.meta.lastError === undefined,
      20_000,
      'newer staples for every certificate',
    );
    verifyAll(after);
  });

  it('replaces good staples by revoked ones at once, and logs each revocation with its host names', async () => {
    const revoked = fx.manifest.leaves.filter((l) => l.index % 50 === 3);
    fx.responder.setRevoked(revoked.map((l) => l.serial));
    const isRevoked = (fp: string) => revoked.some((l) => l.fingerprint === fp);
    const staples = await waitForStaples(
      fx.redis,
      prefix,
      fps(),
      (s, i) => s.meta.status === (isRevoked(fps()[i] ?? '') ? 'revoked' : 'good'),
      20_000,
      'the revoked certificates to be stapled as revoked',
    );
    verifyAll(staples, (fp) => (isRevoked(fp) ? 'revoked' : 'good'));
    const errors = (serve?.logs ?? []).filter((l) => l.level >= 50 && /REVOKED/.test(l.msg ?? ''));
    for (const leaf of revoked) {
      expect(errors.some((l) => (l.names as string[] | undefined)?.includes(leaf.name))).toBe(true);
    }
    expect(await serve?.stop()).toBe(0);
    serve = undefined;
  });
});
