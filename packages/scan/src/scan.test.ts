import { execFileSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Fixtures come from the openssl CLI (shared with the end-to-end tests), not from our own parser.
import { makeOpensslPki, type OpensslPki } from '@staplewarm/testing';
import { PENDING_WINDOW, scanCertificateStores } from './index.js';

describe('scanCertificateStores', () => {
  let dir: string;
  let pki: OpensslPki;
  const url = 'http://ocsp.example.test/';
  const now = Date.now();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-scan-'));
    pki = makeOpensslPki(join(dir, 'pki'), [
      { name: 'a.test', ocspUrls: [url] },
      { name: 'b.test', ocspUrls: [url, 'http://backup.example.test/'] },
      { name: 'c.test', ocspUrls: [url] },
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const leaf = (name: string) => pki.leaves.get(name) as string;

  it('reads a certbot live/ tree: one target per lineage, the key file never opened', async () => {
    const live = join(dir, 'certbot', 'live', 'a.test');
    mkdirSync(live, { recursive: true });
    copyFileSync(leaf('a.test'), join(live, 'cert.pem'));
    copyFileSync(pki.issuerPem, join(live, 'chain.pem'));
    writeFileSync(join(live, 'fullchain.pem'), readFileSync(leaf('a.test'), 'utf8') + readFileSync(pki.issuerPem, 'utf8'));
    copyFileSync(join(pki.dir, 'leaf.key'), join(live, 'privkey.pem'));
    writeFileSync(join(dir, 'certbot', 'live', 'README'), 'certbot readme, not a certificate');

    const report = await scanCertificateStores([join(dir, 'certbot', 'live')], { now });
    expect(report.problems).toEqual([]);
    expect(report.keyFilesSkipped).toBe(1);
    expect(report.filesRead).toBe(3);
    expect(report.targets).toHaveLength(1);
    const [target] = report.targets;
    expect(target?.names).toEqual(['a.test']);
    expect(target?.ocspUrls).toEqual([url]);
    expect(target?.paths.sort()).toEqual([join(live, 'cert.pem'), join(live, 'fullchain.pem')]);
    expect(target?.certId.hashAlgorithm).toBe('sha1');
  });

  it("follows certbot's links from live/ into archive/, and skips the key link without following it", async () => {
    const root = join(dir, 'letsencrypt');
    const archive = join(root, 'archive', 'b.test');
    const live = join(root, 'live', 'b.test');
    mkdirSync(archive, { recursive: true });
    mkdirSync(live, { recursive: true });
    copyFileSync(leaf('b.test'), join(archive, 'cert1.pem'));
    copyFileSync(pki.issuerPem, join(archive, 'chain1.pem'));
    writeFileSync(join(archive, 'fullchain1.pem'), readFileSync(leaf('b.test'), 'utf8') + readFileSync(pki.issuerPem, 'utf8'));
    for (const name of ['cert', 'chain', 'fullchain']) symlinkSync(`../../archive/b.test/${name}1.pem`, join(live, `${name}.pem`));
    symlinkSync('../../archive/b.test/privkey1.pem', join(live, 'privkey.pem')); // dangling: must not matter
    const report = await scanCertificateStores([join(root, 'live')], { now });
    expect(report.problems).toEqual([]);
    expect(report.keyFilesSkipped).toBe(1);
    expect(report.filesRead).toBe(3);
    expect(report.targets.map((t) => t.paths.sort())).toEqual([[join(live, 'cert.pem'), join(live, 'fullchain.pem')]]);
  });

  it('finds the issuer elsewhere in the scan, reads DER files, dedupes copies', async () => {
    const store = join(dir, 'store');
    mkdirSync(join(store, 'ca'), { recursive: true });
    mkdirSync(join(store, 'copy'), { recursive: true });
    execFileSync('openssl', ['x509', '-in', pki.issuerPem, '-outform', 'DER', '-out', join(store, 'ca', 'issuer.cer')]);
    execFileSync('openssl', ['x509', '-in', leaf('b.test'), '-outform', 'DER', '-out', join(store, 'b.der')]);
    copyFileSync(leaf('c.test'), join(store, 'c.crt'));
    copyFileSync(leaf('c.test'), join(store, 'copy', 'c.pem'));

    const report = await scanCertificateStores([store], { now, hash: 'sha256' });
    expect(report.problems).toEqual([]);
    expect(report.leaves).toBe(2);
    const byName = Object.fromEntries(report.targets.map((t) => [t.names[0], t]));
    expect(byName['b.test']?.ocspUrls).toEqual([url, 'http://backup.example.test/']);
    expect(byName['c.test']?.paths).toHaveLength(2);
    expect(byName['c.test']?.certId.hashAlgorithm).toBe('sha256');
  });

  it('reports a leaf whose issuer is nowhere, and missing paths, and link loops', async () => {
    const lonely = join(dir, 'lonely');
    mkdirSync(join(lonely, 'sub'), { recursive: true });
    copyFileSync(leaf('a.test'), join(lonely, 'a.pem'));
    symlinkSync('..', join(lonely, 'sub', 'up'));
    const report = await scanCertificateStores([lonely, join(dir, 'does-not-exist')], { now });
    expect(report.targets).toEqual([]);
    expect(report.problems.map((p) => [p.path, p.code])).toEqual([
      [join(dir, 'does-not-exist'), 'not-found'],
      [join(lonely, 'a.pem'), 'no-issuer'],
    ]);
  });

  it('treats an expired leaf as a problem, at the clock it is given', async () => {
    const later = Date.now() + 365 * 86_400_000; // the fixtures are valid for 90 days
    const report = await scanCertificateStores([leaf('a.test'), pki.issuerPem], { now: later });
    expect(report.problems.map((p) => p.code)).toEqual(['expired']);
  });

  it('hands targets out while reading, each once: bundle-paired leaves first, the rest at the end', async () => {
    const store = join(dir, 'streamed');
    for (const name of ['a.test', 'b.test']) {
      const live = join(store, 'live', name);
      mkdirSync(live, { recursive: true });
      copyFileSync(leaf(name), join(live, 'cert.pem'));
      writeFileSync(join(live, 'fullchain.pem'), readFileSync(leaf(name), 'utf8') + readFileSync(pki.issuerPem, 'utf8'));
    }
    // c.test's issuer is only in a CA directory: it can be paired only once everything is read.
    mkdirSync(join(store, 'ca'), { recursive: true });
    copyFileSync(pki.issuerPem, join(store, 'ca', 'issuer.pem'));
    copyFileSync(leaf('c.test'), join(store, 'c.pem'));
    const calls: string[][] = [];
    const report = await scanCertificateStores([store], {
      now,
      batchSize: 1,
      onTargets: async (targets) => {
        await new Promise((resolve) => setTimeout(resolve, 5)); // a slow consumer: calls must not overlap
        calls.push(targets.map((t) => t.names[0] as string));
      },
    });
    expect(calls.flat().sort()).toEqual(['a.test', 'b.test', 'c.test']);
    expect(calls.every((batch) => batch.length === 1)).toBe(true);
    expect(calls.at(-1)).toEqual(['c.test']);
    // The report is in path order, whenever each was paired: streamed/c.pem < streamed/live/...
    expect(report.targets.map((t) => t.names[0])).toEqual(['c.test', 'a.test', 'b.test']);
    // Paths found after a target was handed out still reach the report.
    const a = report.targets.find((t) => t.names[0] === 'a.test');
    expect(a?.paths.sort()).toEqual([join(store, 'live', 'a.test', 'cert.pem'), join(store, 'live', 'a.test', 'fullchain.pem')]);
  });

  it('with keepTargets: false, hands every target to onTargets and only counts them in the report', async () => {
    const handed: string[] = [];
    const report = await scanCertificateStores([join(dir, 'streamed')], {
      now,
      keepTargets: false,
      onTargets: (targets) => void handed.push(...targets.map((t) => t.names[0] as string)),
    });
    expect(handed.sort()).toEqual(['a.test', 'b.test', 'c.test']);
    expect(report.targets).toEqual([]);
    expect(report.targetCount).toBe(3);
    const kept = await scanCertificateStores([join(dir, 'streamed')], { now });
    expect(kept.targetCount).toBe(kept.targets.length);
  });

  it('rejects with the error of a failing onTargets', async () => {
    const failure = new Error('queue down');
    await expect(scanCertificateStores([join(dir, 'streamed')], { now, onTargets: () => Promise.reject(failure) })).rejects.toBe(failure);
  });

  it('reads each real file once, at its first path in path order: links and a hard link to one file, a directory linked twice, a link loop', async () => {
    const store = join(dir, 'identity');
    mkdirSync(join(store, 'b', 'real'), { recursive: true });
    mkdirSync(join(store, 'd'), { recursive: true });
    copyFileSync(leaf('a.test'), join(store, 'b', 'real', 'a.pem'));
    copyFileSync(pki.issuerPem, join(store, 'b', 'real', 'issuer.pem'));
    symlinkSync(join(store, 'b', 'real', 'a.pem'), join(store, 'a-link.pem')); // sorts first: the path kept
    linkSync(join(store, 'b', 'real', 'a.pem'), join(store, 'd', 'hard.pem'));
    symlinkSync(join(store, 'b', 'real'), join(store, 'c-dir')); // the same directory again
    symlinkSync(store, join(store, 'b', 'real', 'loop')); // back to the top
    const report = await scanCertificateStores([store, join(store, 'd', 'hard.pem')], { now });
    expect(report.problems).toEqual([]);
    expect(report.filesRead).toBe(2); // a.pem (by its link) and issuer.pem
    // b/real/a.pem, c-dir/a.pem and d/hard.pem (twice) are the same file: not read again, not listed.
    expect(report.targets.map((t) => t.paths)).toEqual([[join(store, 'a-link.pem')]]);
  });

  it('loses no target when it lets go of certificates while reading: more waiting leaves than PENDING_WINDOW, and copies found after their target went out', async () => {
    const store = join(dir, 'many');
    const count = PENDING_WINDOW + 200;
    mkdirSync(join(store, 'a-ca'), { recursive: true });
    mkdirSync(join(store, 'b-leaves'));
    mkdirSync(join(store, 'c-copies'));
    copyFileSync(pki.issuerPem, join(store, 'a-ca', 'issuer.pem'));
    const pem = readFileSync(leaf('a.test'), 'latin1');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    for (let i = 0; i < count; i++) {
      // Distinct certificates: the end of the RSA signature changed (pairing goes by key identifier, not signature).
      der.writeUInt16BE(i, der.length - 2);
      const text = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
      writeFileSync(join(store, 'b-leaves', `${String(i).padStart(5, '0')}.pem`), text);
      if (i % 100 === 0) writeFileSync(join(store, 'c-copies', `${i}.pem`), text);
    }
    const handedOut: string[] = [];
    const report = await scanCertificateStores([store], {
      now,
      onTargets: (batch) => void handedOut.push(...batch.map((t) => t.fingerprint)),
    });
    expect(report.problems).toEqual([]);
    expect(report.targets).toHaveLength(count);
    expect(new Set(handedOut).size).toBe(count);
    expect(handedOut).toHaveLength(count);
    const first = report.targets[0];
    expect(first?.paths).toEqual([join(store, 'b-leaves', '00000.pem'), join(store, 'c-copies', '0.pem')]);
    expect(report.targets.filter((t) => t.paths.length === 2)).toHaveLength(count / 100);
  });
});
