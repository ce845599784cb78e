/**
 * The CertID index against a real Redis: what the scanners write (read back with literal key names,
 * as CONTRACT.md documents them) and what the relay reads.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTarget, issuerHashes, parseCertificates, parseOcspRequest, type StapleTarget } from '@staplewarm/ocsp';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CertIdIndex, ISSUER_URLS_KEPT, issuerIdOf } from './certid-index.js';
import { DAY, NOW, binaryDer, fingerprint } from './testing/fixtures.js';
import { REDIS_URL, redisTestContext } from './testing/redis.js';
import { makeOpensslPki } from '@staplewarm/testing';

const ctx = await redisTestContext();

/** An issuer: a real EC key (the index hashes its key bits) and a Name DER (only ever hashed). */
function makeIssuer(label: string): { name: Buffer; spki: Buffer } {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cn = Buffer.from(label);
  // SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String label } } }
  const atv = Buffer.concat([Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, cn.length]), cn]);
  const name = Buffer.concat([Buffer.from([0x30, atv.length + 4, 0x31, atv.length + 2, 0x30, atv.length]), atv]);
  return { name, spki: publicKey.export({ type: 'spki', format: 'der' }) };
}

function target(label: string, issuer: { name: Buffer; spki: Buffer }, overrides: Partial<StapleTarget> = {}): StapleTarget {
  const hashes = issuerHashes(issuer.name, issuer.spki);
  return {
    fingerprint: fingerprint(label),
    names: [`${label}.test`],
    mustStaple: false,
    certNotAfter: NOW + 30 * DAY,
    ocspUrls: ['http://ocsp.example.test/'],
    certId: { hashAlgorithm: 'sha1', ...hashes.sha1, serialNumber: createHash('sha1').update(label).digest('hex').slice(0, 16) },
    request: '',
    issuerSpki: issuer.spki.toString('base64'),
    subject: `CN=${label}.test`,
    issuerName: issuer.name.toString('base64'),
    ...overrides,
  };
}

describe.skipIf(!ctx.available)('CertIdIndex', () => {
  const index = (): CertIdIndex => new CertIdIndex(ctx.redis, { prefix: ctx.prefix });
  afterEach(() => ctx.cleanup());
  afterAll(() => ctx.close());

  it('maps both CertID hashes of a certificate to its fingerprint, one certid key per certificate', async () => {
    const ca = makeIssuer('ca one');
    const t = target('alpha', ca);
    expect(await index().write([t])).toBe(1);

    const hashes = issuerHashes(ca.name, ca.spki);
    const id = issuerIdOf(hashes.sha256);
    for (const hash of ['sha1', 'sha256'] as const) {
      const literal = `${ctx.prefix}issuer:${hash}:${hashes[hash].issuerNameHash}:${hashes[hash].issuerKeyHash}`;
      expect(await ctx.redis.hgetall(literal)).toEqual({ id, spki: t.issuerSpki, urls: 'http://ocsp.example.test/' });
      expect(await index().issuer(hash, hashes[hash].issuerNameHash.toUpperCase(), hashes[hash].issuerKeyHash)).toEqual({
        id,
        spki: t.issuerSpki,
        ocspUrls: ['http://ocsp.example.test/'],
      });
    }
    expect(await ctx.redis.get(`${ctx.prefix}certid:${id}:${t.certId.serialNumber}`)).toBe(t.fingerprint);
    expect(await index().certificate(id, t.certId.serialNumber)).toEqual({
      fingerprint: t.fingerprint,
      staple: null,
      stapleExpiresInMs: null,
      meta: null,
    });
    // Another issuer's halves, or the right name with another key, are not known.
    const other = issuerHashes(makeIssuer('ca one').name, makeIssuer('ca two').spki);
    expect(await index().issuer('sha1', hashes.sha1.issuerNameHash, other.sha1.issuerKeyHash)).toBeNull();
    expect(await index().certificate(id, '01')).toBeNull();
  });

  it('derives the issuer id from the SHA-256 halves only: first 16 bytes of SHA-256(nameHash || keyHash)', () => {
    const hashes = { issuerNameHash: 'ab'.repeat(32), issuerKeyHash: 'cd'.repeat(32) };
    const expected = createHash('sha256')
      .update(Buffer.from('ab'.repeat(32) + 'cd'.repeat(32), 'hex'))
      .digest('hex')
      .slice(0, 32);
    expect(issuerIdOf(hashes)).toBe(expected);
  });

  it('expires each certid key with its meta, and each issuer with the last certificate indexed under it', async () => {
    const ca = makeIssuer('ca ttl');
    const id = issuerIdOf(issuerHashes(ca.name, ca.spki).sha256);
    const late = target('late', ca, { certNotAfter: NOW + 60 * DAY });
    const early = target('early', ca, { certNotAfter: NOW + 10 * DAY });
    await index().write([late]);
    await index().write([early]); // written after, expires before: must not shorten the issuer's life
    expect(await ctx.redis.pexpiretime(`${ctx.prefix}certid:${id}:${early.certId.serialNumber}`)).toBe(NOW + 11 * DAY);
    expect(await ctx.redis.pexpiretime(`${ctx.prefix}certid:${id}:${late.certId.serialNumber}`)).toBe(NOW + 61 * DAY);
    const hashes = issuerHashes(ca.name, ca.spki);
    for (const hash of ['sha1', 'sha256'] as const) {
      const key = `${ctx.prefix}issuer:${hash}:${hashes[hash].issuerNameHash}:${hashes[hash].issuerKeyHash}`;
      expect(await ctx.redis.pexpiretime(key)).toBe(NOW + 61 * DAY);
    }
    await index().write([target('later still', ca, { certNotAfter: NOW + 90 * DAY })]);
    const key = `${ctx.prefix}issuer:sha1:${hashes.sha1.issuerNameHash}:${hashes.sha1.issuerKeyHash}`;
    expect(await ctx.redis.pexpiretime(key)).toBe(NOW + 91 * DAY);
  });

  it(`keeps an issuer's http(s) OCSP URLs, first seen first, each once, at most ${ISSUER_URLS_KEPT}`, async () => {
    const ca = makeIssuer('ca urls');
    await index().write([
      target('u1', ca, { ocspUrls: ['http://a.test/', 'ldap://dir.test/x', 'http://b.test/'] }),
      target('u2', ca, { ocspUrls: ['http://b.test/', 'http://c.test/'] }),
    ]);
    await index().write([target('u3', ca, { ocspUrls: ['http://d.test/', 'http://e.test/', `http://${'x'.repeat(600)}.test/`] })]);
    const hashes = issuerHashes(ca.name, ca.spki).sha256;
    const found = await index().issuer('sha256', hashes.issuerNameHash, hashes.issuerKeyHash);
    expect(found?.ocspUrls).toEqual(['http://a.test/', 'http://b.test/', 'http://c.test/', 'http://d.test/']);
  });

  it('reads the staple bytes and the meta a fetch needs with the fingerprint, in one call', async () => {
    const ca = makeIssuer('ca read');
    const t = target('stapled', ca);
    await index().write([t]);
    const der = binaryDer(7);
    await ctx.redis.set(`${ctx.prefix}staple:${t.fingerprint}`, der, 'PX', 3 * DAY);
    await ctx.redis.hset(`${ctx.prefix}meta:${t.fingerprint}`, {
      names: 'stapled.test,www.stapled.test',
      mustStaple: '1',
      certNotAfter: new Date(t.certNotAfter).toISOString(),
      responder: 'http://ocsp.example.test/',
    });
    const id = issuerIdOf(issuerHashes(ca.name, ca.spki).sha256);
    const read = await index().certificate(id, t.certId.serialNumber.toUpperCase());
    expect(read?.stapleExpiresInMs).toBeGreaterThan(3 * DAY - 60_000);
    expect(read?.stapleExpiresInMs).toBeLessThanOrEqual(3 * DAY);
    expect(read).toEqual({
      fingerprint: t.fingerprint,
      staple: der,
      stapleExpiresInMs: read?.stapleExpiresInMs,
      meta: {
        names: ['stapled.test', 'www.stapled.test'],
        mustStaple: true,
        certNotAfter: t.certNotAfter,
        responder: 'http://ocsp.example.test/',
      },
    });
  });

  it('finds the certificate from the requests openssl writes for it, SHA-1 and SHA-256', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-certid-'));
    try {
      const pki = makeOpensslPki(dir, [{ name: 'real.certid.test', ocspUrls: ['http://ocsp.real.test/'] }]);
      const leafPath = pki.leaves.get('real.certid.test') ?? '';
      const [leaf] = parseCertificates(readFileSync(leafPath));
      const [issuer] = parseCertificates(readFileSync(pki.issuerPem));
      if (!leaf || !issuer) throw new Error('fixture did not parse');
      await index().write([buildTarget(leaf, issuer)]);
      for (const hash of ['sha1', 'sha256'] as const) {
        const out = join(dir, `${hash}.req`);
        execFileSync('openssl', ['ocsp', `-${hash}`, '-issuer', pki.issuerPem, '-cert', leafPath, '-reqout', out], { stdio: 'ignore' });
        const [asked] = parseOcspRequest(readFileSync(out)).certIds;
        if (!asked) throw new Error('no CertID in the request');
        const found = await index().issuer(hash, asked.issuerNameHash, asked.issuerKeyHash);
        expect(found?.spki).toBe(issuer.spkiDer.toString('base64'));
        expect(found?.ocspUrls).toEqual(['http://ocsp.real.test/']);
        expect((await index().certificate(found?.id ?? '', asked.serialNumber))?.fingerprint).toBe(leaf.fingerprint);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skips targets without the issuer name, and refuses a client with a keyPrefix', async () => {
    const t = target('nameless', makeIssuer('ca nameless'));
    delete t.issuerName;
    expect(await index().write([t])).toBe(0);
    expect(await ctx.redis.keys(`${ctx.prefix}*`)).toEqual([]);
    const prefixed = new Redis(REDIS_URL, { lazyConnect: true, keyPrefix: 'x:' });
    expect(() => new CertIdIndex(prefixed)).toThrow(expect.objectContaining({ code: 'key-prefix-unsupported' }));
    prefixed.disconnect();
  });

  it('writes 1,000 certificates of one issuer with one issuer script call', async () => {
    const ca = makeIssuer('ca bulk');
    const targets = Array.from({ length: 1_000 }, (_, i) => target(`bulk${i}-${randomBytes(2).toString('hex')}`, ca));
    const sent: string[] = [];
    const monitor = await ctx.redis.duplicate().monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'evalsha' || args[0]?.toLowerCase() === 'eval') sent.push(args[0]);
    });
    expect(await index().write(targets)).toBe(1_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    monitor.disconnect();
    // One issuer script for the whole batch (not one per certificate).
    expect(sent.length).toBeLessThanOrEqual(2); // EVALSHA, and EVAL once if the script was not loaded yet
    const id = issuerIdOf(issuerHashes(ca.name, ca.spki).sha256);
    const stored = await ctx.redis.mget(targets.map((t) => `${ctx.prefix}certid:${id}:${t.certId.serialNumber}`));
    expect(stored).toEqual(targets.map((t) => t.fingerprint));
  });
});
