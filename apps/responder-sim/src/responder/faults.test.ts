import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generatePki } from '../pki/generate.js';
import type { PkiManifest } from '../pki/manifest.js';
import { getOcsp, postOcsp, updateTimes } from '../testing/http.js';
import { opensslCheck, opensslRequest, signatureVerified, statusIn, withTempDir } from '../testing/openssl.js';
import { FaultPlan } from './faults.js';
import { startResponder, type Responder } from './responder.js';

describe('fault switches over HTTP', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let manifest: PkiManifest;
  let responder: Responder;
  let der: Buffer;

  beforeAll(async () => {
    ({ dir, cleanup } = await withTempDir());
    manifest = await generatePki({ dir, count: 2 });
    responder = await startResponder({ pkiDir: dir });
    der = await opensslRequest(dir, manifest, { leaves: [1] });
  });
  afterEach(() => responder.setFaults({}));
  afterAll(async () => {
    await responder.close();
    await cleanup();
  });

  const check = (body: Buffer, text = false): ReturnType<typeof opensslCheck> => opensslCheck(dir, manifest, body, 1, { text });

  it('http5xx: HTTP 500, on every Nth request when asked', async () => {
    responder.setFaults({ http5xx: { every: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await postOcsp(responder.url, der)).status);
    expect(statuses).toEqual([200, 200, 500, 200, 200, 500]);
    expect(responder.stats().byFault.http5xx).toBe(2);
  });

  it('hang: never answers, until the responder closes', async () => {
    responder.setFaults({ hang: true });
    await expect(postOcsp(responder.url, der, AbortSignal.timeout(300))).rejects.toThrow();
    expect(responder.stats().byFault.hang).toBe(1);
  });

  it('garbage: 200 with the OCSP content type and bytes that do not parse', async () => {
    responder.setFaults({ garbage: true });
    const res = await getOcsp(responder.url, der);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/ocsp-response');
    const run = await check(res.body);
    expect(run.code).not.toBe(0);
    expect(statusIn(run)).toBeUndefined();
  });

  it('tryLater: OCSP responseStatus 3', async () => {
    responder.setFaults({ tryLater: 1 });
    const res = await postOcsp(responder.url, der);
    expect((await check(res.body)).all).toContain('Responder Error: trylater (3)');
  });

  it('wrongSigner: a well-formed response whose signer openssl rejects', async () => {
    responder.setFaults({ wrongSigner: true });
    const run = await check((await postOcsp(responder.url, der)).body);
    expect(run.all).toContain('Response Verify Failure');
    expect(signatureVerified(run)).toBe(false);
  });

  it('expired: nextUpdate in the past', async () => {
    responder.setFaults({ expired: true });
    const run = await check((await postOcsp(responder.url, der)).body, true);
    expect(signatureVerified(run)).toBe(true);
    expect(updateTimes(run.stdout).nextUpdate.getTime()).toBeLessThan(Date.now());
    expect(run.all).toContain('Status times invalid');
  });

  it('olderThisUpdate: thisUpdate older than the response served before', async () => {
    const before = updateTimes((await check((await postOcsp(responder.url, der)).body, true)).stdout);
    responder.setFaults({ olderThisUpdate: true });
    const run = await check((await postOcsp(responder.url, der)).body, true);
    expect(signatureVerified(run)).toBe(true);
    expect(statusIn(run)).toBe('good');
    const older = updateTimes(run.stdout);
    expect(older.thisUpdate.getTime()).toBeLessThan(before.thisUpdate.getTime());
    expect(older.nextUpdate.getTime()).toBeGreaterThan(Date.now());
  });

  it('only429: 429 whatever the rate', async () => {
    responder.setFaults({ only429: true });
    const res = await postOcsp(responder.url, der);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('rejectGet: 405 on GET, POST still answered', async () => {
    responder.setFaults({ rejectGet: true });
    const get = await getOcsp(responder.url, der);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(statusIn(await check((await postOcsp(responder.url, der)).body))).toBe('good');
  });

  it('is set and read over HTTP, rejecting unknown faults with code bad-option', async () => {
    const post = (body: string): Promise<Response> => fetch(new URL('_sim/faults', responder.url), { method: 'POST', body });
    expect(await (await post('{"http5xx":true}')).json()).toEqual({ http5xx: true });
    expect((await postOcsp(responder.url, der)).status).toBe(500);
    expect(await (await fetch(new URL('_sim/faults', responder.url))).json()).toEqual({ http5xx: true });
    const bad = await post('{"teapot":1}');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'bad-option' });
    expect((await post('{}')).status).toBe(200);
    expect((await postOcsp(responder.url, der)).status).toBe(200);
  });
});

describe('FaultPlan', () => {
  it('fires by probability with the given random source, the first armed fault in order winning', () => {
    const draws = [0.5, 0.1];
    const plan = new FaultPlan(() => draws.shift() ?? 1);
    plan.set({ garbage: 0.3, http5xx: 0.3 });
    expect(plan.pick(['http5xx', 'garbage'])).toBe('garbage'); // http5xx drew 0.5, garbage 0.1
    expect(plan.pick(['http5xx', 'garbage'])).toBeUndefined();
  });

  it('rejects malformed triggers', () => {
    const plan = new FaultPlan();
    for (const bad of [{ hang: 2 }, { hang: { every: 0 } }, { hang: 'yes' }, [], null]) {
      expect(() => plan.set(bad)).toThrow(expect.objectContaining({ code: 'bad-option' }) as Error);
    }
  });
});

it('close() ends requests held by the hang fault', async () => {
  const { dir, cleanup } = await withTempDir();
  const manifest = await generatePki({ dir, count: 1 });
  const responder = await startResponder({ pkiDir: dir, faults: { hang: true } });
  const pending = postOcsp(responder.url, await opensslRequest(dir, manifest, { leaves: [1] }));
  await expect.poll(() => responder.stats().hanging).toBe(1);
  await responder.close();
  await expect(pending).rejects.toThrow();
  await cleanup();
});
