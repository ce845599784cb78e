import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePki } from '../pki/generate.js';
import type { PkiManifest } from '../pki/manifest.js';
import { fromPem } from '../pki/pem.js';
import { getOcsp, postOcsp, updateTimes } from '../testing/http.js';
import { opensslCheck, opensslRequest, signatureVerified, statusIn, withTempDir } from '../testing/openssl.js';
import { findFreePort } from './free-port.js';
import { startResponder, type Responder } from './responder.js';

describe('startResponder', () => {
  let dir: string;
  let otherDir: string;
  let cleanups: (() => Promise<void>)[] = [];
  let manifest: PkiManifest;
  let otherManifest: PkiManifest;
  let responder: Responder;

  beforeAll(async () => {
    const a = await withTempDir();
    const b = await withTempDir();
    dir = a.dir;
    otherDir = b.dir;
    cleanups = [a.cleanup, b.cleanup];
    manifest = await generatePki({ dir, count: 4, revoked: [2] });
    otherManifest = await generatePki({ dir: otherDir, count: 1 });
    responder = await startResponder({ pkiDir: dir });
  });
  afterAll(async () => {
    await responder.close();
    await Promise.all(cleanups.map((cleanup) => cleanup()));
  });

  const request = (what: Parameters<typeof opensslRequest>[2]): Promise<Buffer> => opensslRequest(dir, manifest, what);

  it('answers a POST with a response openssl verifies as good', async () => {
    const res = await postOcsp(responder.url, await request({ leaves: [1] }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/ocsp-response');
    const check = await opensslCheck(dir, manifest, res.body, 1);
    expect(statusIn(check)).toBe('good');
    expect(signatureVerified(check)).toBe(true);
  });

  it('answers an RFC 5019 GET, and says revoked (keyCompromise) for a revoked leaf', async () => {
    const res = await getOcsp(responder.url, await request({ leaves: [2] }));
    const check = await opensslCheck(dir, manifest, res.body, 2, { text: true });
    expect(statusIn(check)).toBe('revoked');
    expect(check.stdout).toContain('Revocation Reason: keyCompromise');
    expect(signatureVerified(check)).toBe(true);
  });

  it('finds the request under any path prefix, escaped or not', async () => {
    const der = await request({ leaves: [3] });
    for (const opts of [{ prefix: 'ocsp/' }, { prefix: 'a/b/', escape: false }, { escape: false }]) {
      const res = await getOcsp(responder.url, der, opts);
      expect(statusIn(await opensslCheck(dir, manifest, res.body, 3))).toBe('good');
    }
  });

  it('matches SHA-256 CertIDs and echoes them', async () => {
    const res = await postOcsp(responder.url, await request({ leaves: [1], hash: 'sha256' }));
    const check = await opensslCheck(dir, manifest, res.body, 1, { text: true, hash: 'sha256' });
    expect(check.stdout).toContain('Hash Algorithm: sha256');
    expect(statusIn(check)).toBe('good');
    expect(signatureVerified(check)).toBe(true);
  });

  it('ignores a nonce (RFC 5019) and caches: the same request gets the same bytes', async () => {
    const der = await request({ leaves: [4], nonce: true });
    const first = await postOcsp(responder.url, der);
    const signatures = responder.stats().signatures;
    const second = await postOcsp(responder.url, der);
    expect(second.body.equals(first.body)).toBe(true);
    expect(responder.stats().signatures).toBe(signatures);
    const check = await opensslCheck(dir, manifest, first.body, 4, { text: true });
    expect(check.stdout).not.toContain('OCSP Nonce');
    expect(statusIn(check)).toBe('good');
  });

  it('answers only the first Request of a multi-request OCSPRequest', async () => {
    const res = await postOcsp(responder.url, await request({ leaves: [3, 1] }));
    const check = await opensslCheck(dir, manifest, res.body, 3, { text: true });
    expect(check.stdout.match(/Certificate ID:/g)).toHaveLength(1);
    expect(statusIn(check)).toBe('good');
    const second = await opensslCheck(dir, manifest, res.body, 1);
    expect(second.all).toContain('No Status found');
  });

  it('answers unauthorized for an unknown serial and for another issuer', async () => {
    const unknown = await postOcsp(responder.url, await request({ serials: ['0badc0de'] }));
    expect((await opensslCheck(dir, manifest, unknown.body, 1)).all).toContain('Responder Error: unauthorized (6)');
    const foreign = await opensslRequest(otherDir, otherManifest, { leaves: [1] });
    const other = await getOcsp(responder.url, foreign);
    expect((await opensslCheck(otherDir, otherManifest, other.body, 1)).all).toContain('Responder Error: unauthorized (6)');
  });

  it('answers malformedRequest to a body that is not an OCSPRequest, 405 to other methods', async () => {
    const res = await postOcsp(responder.url, Buffer.from('not DER at all'));
    expect(res.body.toString('hex')).toBe('30030a0101');
    const put = await fetch(responder.url, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
  });

  it('revokes and un-revokes at run time, from the library and over HTTP', async () => {
    const der = await request({ leaves: [1] });
    const serialOf = (i: number): string => manifest.leaves[i - 1]?.serial ?? '';
    responder.setRevoked([serialOf(2), serialOf(1)]);
    expect(statusIn(await opensslCheck(dir, manifest, (await getOcsp(responder.url, der)).body, 1))).toBe('revoked');

    const reply = await fetch(new URL('_sim/revoked', responder.url), { method: 'POST', body: JSON.stringify({ serials: [serialOf(2)] }) });
    expect(await reply.json()).toEqual({ serials: [serialOf(2)] });
    expect(statusIn(await opensslCheck(dir, manifest, (await getOcsp(responder.url, der)).body, 1))).toBe('good');

    const bad = await fetch(new URL('_sim/revoked', responder.url), { method: 'POST', body: '{"serials":["00ff"]}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'bad-option' });
    expect(() => responder.setRevoked(['abcdef'])).toThrow(expect.objectContaining({ code: 'bad-option' }) as Error);
  });

  it('counts requests by method and outcome, also over GET /_sim/stats', async () => {
    const stats = responder.stats();
    expect(stats.requests).toBe(stats.byMethod.GET + stats.byMethod.POST + stats.byMethod.other);
    expect(stats.byOutcome.unknown).toBe(2);
    expect(stats.byOutcome.malformed).toBe(2);
    expect(stats.byStatus.revoked).toBeGreaterThanOrEqual(2);
    const overHttp = (await (await fetch(new URL('_sim/stats', responder.url))).json()) as typeof stats;
    expect(overHttp.byOutcome).toEqual(stats.byOutcome);
    expect(overHttp.reqPerSec).toBeGreaterThan(0);
  });

  it('serves the issuer certificate at the caIssuers path', async () => {
    const res = await fetch(new URL('_sim/issuer.der', responder.url));
    const issuerDer = fromPem(await readFile(join(dir, 'ca/issuer.pem'), 'utf8'), 'CERTIFICATE');
    expect(Buffer.from(await res.arrayBuffer()).equals(issuerDer ?? Buffer.alloc(0))).toBe(true);
  });
});

describe('startResponder options', () => {
  it('signs with the issuer key, with the requested validity, and pre-signs on request', async () => {
    const { dir, cleanup } = await withTempDir();
    const manifest = await generatePki({ dir, count: 3 });
    const responder = await startResponder({ pkiDir: dir, signer: 'issuer', validityHours: 2, presign: ['sha1', 'sha256'] });
    try {
      expect(responder.stats().signatures).toBe(6);
      const res = await getOcsp(responder.url, await opensslRequest(dir, manifest, { leaves: [2] }));
      expect(responder.stats().signatures).toBe(6);
      const check = await opensslCheck(dir, manifest, res.body, 2, { text: true });
      expect(signatureVerified(check)).toBe(true);
      expect(check.stdout).not.toContain('Certificate:'); // no delegated certificate embedded
      const { thisUpdate, nextUpdate } = updateTimes(check.stdout);
      expect(nextUpdate.getTime() - thisUpdate.getTime()).toBe(2 * 3_600_000);
      expect(Math.abs(thisUpdate.getTime() - (Date.now() - 60_000))).toBeLessThan(10_000);
    } finally {
      await responder.close();
      await cleanup();
    }
  });

  it('listens on a port chosen beforehand with findFreePort (URL known before generating)', async () => {
    const { dir, cleanup } = await withTempDir();
    const port = await findFreePort();
    const manifest = await generatePki({ dir, count: 1, ocspUrls: [`http://127.0.0.1:${port}/`] });
    const responder = await startResponder({ pkiDir: dir, port });
    try {
      expect(responder.url).toBe(manifest.ocspUrls[0]);
      expect(responder.port).toBe(port);
    } finally {
      await responder.close();
      await cleanup();
    }
  });

  it('fails with pki-missing when the directory holds no PKI, bad-option on a bad rate', async () => {
    await expect(startResponder({ pkiDir: '/nonexistent' })).rejects.toMatchObject({ code: 'pki-missing' });
    await expect(startResponder({ pkiDir: '/nonexistent', rate: -1 })).rejects.toMatchObject({ code: 'bad-option' });
  });
});
