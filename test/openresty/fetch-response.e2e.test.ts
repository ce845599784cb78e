// fetch_on_miss and what a responder sends back: the SingleResponse is found by CertID, the signer
// must be the issuer or a responder it authorized, and the HTTP exchange is bounded (header line
// length, header count, body size, one deadline). Responses are openssl's own (`openssl ocsp`
// offline), served by a scripted listener so each test controls the bytes around them.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_PORT, requireAll, skipSuite } from './environment.js';
import { startNginx, type RunningNginx } from './nginx.js';
import { combineResponses } from './ocsp-der.js';
import { createTestPki, makeSigner, opensslResponse, type TestPki, type TestSite } from './pki.js';
import { run } from './processes.js';
import { httpReply, startScriptedResponder, type ScriptedResponder } from './scripted-responder.js';
import { handshake } from './tls-client.js';

const TIMEOUT_MS = 1000;
const CASES = [
  'other-first',
  'own-next-update',
  'not-in-response',
  'rogue-signer',
  'delegated-signer',
  'long-header',
  'headers-64',
  'headers-65',
  'big-body',
  'big-length',
  'hang',
] as const;
type Case = (typeof CASES)[number];

describe.skipIf(skipSuite('resty.staple fetched-response tests'))('fetch_on_miss: what the responder answers', () => {
  let dir: string;
  let pki: TestPki;
  let stub: ScriptedResponder;
  let nginx: RunningNginx;
  const started: { stop(): Promise<void> }[] = [];
  const prefix = `swtest:fetched:${randomBytes(4).toString('hex')}:`; // nothing stored: every handshake misses

  const site = (name: string): TestSite => {
    const found = pki.sites.find((s) => s.names[0] === name);
    if (!found) throw new Error(`no site ${name}`);
    return found;
  };
  const leaf = (c: Case): TestSite => site(`${c}.fetch.test`);
  /** A revoked certificate of the same issuer: its answer goes first in the multi-response tests. */
  const other = (): TestSite => site('other.fetch.test');
  const responseFor = (serials: string[], file: string, options: Parameters<typeof opensslResponse>[3] = {}): Promise<Buffer> =>
    opensslResponse(pki, serials, path.join(dir, file), options);
  /** Scripts `reply`, does one handshake for case `c`, returns the staple and the fetch's log lines. */
  const fetchWith = async (c: Case, reply: Buffer | 'hang'): Promise<{ staple: Buffer | null; log: string; ms: number }> => {
    stub.reply(reply);
    const began = Date.now();
    const got = await handshake(nginx.ports.auto, `${c}.fetch.test`, await readFile(pki.rootCert));
    const ms = Date.now() - began;
    expect(got.fingerprint).toBe(leaf(c).fingerprint);
    const log = (await nginx.errorLog())
      .split('\n')
      .filter((line) => line.includes(leaf(c).fingerprint))
      .join('\n');
    return { staple: got.staple, log, ms };
  };

  beforeAll(async () => {
    requireAll();
    dir = await mkdtemp(path.join(os.tmpdir(), 'staple-fetched-'));
    stub = await startScriptedResponder();
    started.push(stub);
    pki = await createTestPki(
      path.join(dir, 'pki'),
      [{ names: ['other.fetch.test'], revoked: true }, ...CASES.map((c) => ({ names: [`${c}.fetch.test`] }))],
      `http://127.0.0.1:${stub.port}/`,
    );
    nginx = await startNginx({
      dir: path.join(dir, 'nginx'),
      sites: pki.sites,
      defaultSite: other(),
      staple: {
        redis: { host: '127.0.0.1', port: REDIS_PORT },
        prefix,
        fetch_on_miss: { inline: true, rate: 1000, timeout_ms: TIMEOUT_MS, responder_allow: ['127.0.0.1'] },
      },
      workers: 1,
    });
    started.push(nginx);
  });

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("finds the certificate's SingleResponse by CertID when another certificate's comes first", async () => {
    const response = await responseFor([other().serial, leaf('other-first').serial], 'other-first.der');
    const got = await fetchWith('other-first', httpReply(response));
    expect(got.staple).toEqual(response);
    // A real verifier agrees: the staple answers "good" for this certificate (and revoked for the other).
    const verified = await run('openssl', [
      'ocsp',
      '-respin',
      path.join(dir, 'other-first.der'),
      '-CAfile',
      pki.rootCert,
      '-issuer',
      pki.ca.issuerCert,
      '-serial',
      `0x${leaf('other-first').serial}`,
      '-serial',
      `0x${other().serial}`,
    ]);
    expect(verified.stderr).toContain('Response verify OK');
    expect(verified.stdout).toMatch(new RegExp(`0x${leaf('other-first').serial}: good[\\s\\S]*0x${other().serial}: revoked`));
  });

  it("caches a staple until its own certificate's nextUpdate, not the first SingleResponse's", async () => {
    const response = combineResponses(
      [
        await responseFor([other().serial], 'week.der', { minutes: 7 * 24 * 60 }),
        await responseFor([leaf('own-next-update').serial], 'hour.der', { minutes: 60 }),
      ],
      await readFile(pki.ca.issuerKey, 'utf8'),
    );
    const got = await fetchWith('own-next-update', httpReply(response));
    expect(got.staple).toEqual(response);
    const validFor = Number(/fetched a staple from the responder for \w+, valid for (\d+) s/.exec(got.log)?.[1]);
    expect(validFor).toBeGreaterThan(3500);
    expect(validFor).toBeLessThanOrEqual(3600);
  });

  it('refuses a response without an answer for this certificate (ngx.ocsp looks up the CertID)', async () => {
    const got = await fetchWith('not-in-response', httpReply(await responseFor([other().serial], 'not-in-response.der')));
    expect(got.staple).toBeNull();
    expect(got.log).toContain('invalid response: certificate status not found in the OCSP response');
  });

  it('refuses a response signed by a certificate the issuer did not authorize', async () => {
    const rogue = await makeSigner(pki, 'rogue');
    const response = await responseFor([leaf('rogue-signer').serial], 'rogue.der', { signer: rogue });
    const got = await fetchWith('rogue-signer', httpReply(response));
    expect(got.staple).toBeNull();
    expect(got.log).toContain('invalid response: not signed by the issuer or by a responder it authorized (EKU OCSPSigning)');
  });

  it('accepts a response signed by a delegated responder (issued by the issuer, EKU OCSPSigning)', async () => {
    const delegated = await makeSigner(pki, 'delegated');
    const response = await responseFor([leaf('delegated-signer').serial], 'delegated.der', { signer: delegated });
    const got = await fetchWith('delegated-signer', httpReply(response));
    expect(got.staple).toEqual(response);
  });

  it('refuses a header line longer than max_header_line (4096), even before a valid response', async () => {
    const response = await responseFor([leaf('long-header').serial], 'long-header.der');
    const got = await fetchWith('long-header', httpReply(response, [`X-Long: ${'a'.repeat(4100)}`]));
    expect(got.staple).toBeNull();
    expect(got.log).toContain('header line longer than max_header_line 4096');
  });

  it('takes max_headers (64) header lines and refuses the 65th', async () => {
    const extra = (n: number): string[] => Array.from({ length: n }, (_, i) => `X-Filler-${i}: ${i}`);
    // httpReply adds Content-Type: 63 more make 64.
    const ok = await fetchWith('headers-64', httpReply(await responseFor([leaf('headers-64').serial], 'h64.der'), extra(63)));
    expect(ok.staple).not.toBeNull();
    const refused = await fetchWith('headers-65', httpReply(await responseFor([leaf('headers-65').serial], 'h65.der'), extra(64)));
    expect(refused.staple).toBeNull();
    expect(refused.log).toContain('more than max_headers 64 header lines');
  });

  it('refuses a body over max_size (16384), with or without Content-Length', async () => {
    const valid = await responseFor([leaf('big-body').serial], 'big-body.der');
    const padded = Buffer.concat([valid, Buffer.alloc(20_000)]);
    const unsized = await fetchWith('big-body', httpReply(padded));
    expect(unsized.staple).toBeNull();
    expect(unsized.log).toContain('response exceeds max_size 16384');
    const sized = await fetchWith('big-length', httpReply(padded, [`Content-Length: ${padded.length}`]));
    expect(sized.staple).toBeNull();
    expect(sized.log).toContain(`response of ${padded.length} bytes exceeds max_size 16384`);
  });

  it('gives up on a responder that never answers after timeout_ms, and the handshake goes on', async () => {
    const got = await fetchWith('hang', 'hang');
    expect(got.staple).toBeNull();
    expect(got.log).toMatch(/fetch_on_miss failed for \w+: http:\/\/127\.0\.0\.1:\d+\/: (header: )?timeout/);
    expect(got.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(got.ms).toBeLessThan(TIMEOUT_MS + 1500);
  });
});
