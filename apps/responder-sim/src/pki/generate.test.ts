import { X509Certificate } from 'node:crypto';
import { lstat, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafCert, openssl, opensslRequest, statusIn, withTempDir } from '../testing/openssl.js';
import { generatePki } from './generate.js';
import type { PkiManifest } from './manifest.js';

describe('generatePki', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let manifest: PkiManifest;

  beforeAll(async () => {
    ({ dir, cleanup } = await withTempDir());
    manifest = await generatePki({
      dir,
      count: 6,
      revoked: [2],
      noOcspEvery: 5,
      mustStapleEvery: 3,
      ocspUrls: ['http://127.0.0.1:9/', 'http://127.0.0.2:9/ocsp'],
    });
  });
  afterAll(() => cleanup());

  it('writes the CA files, with private keys readable by the owner only', async () => {
    for (const file of ['root.pem', 'issuer.pem', 'ocsp-signer.pem']) {
      expect((await stat(join(dir, 'ca', file))).isFile()).toBe(true);
    }
    for (const key of ['ca/root.key', 'ca/issuer.key', 'ca/ocsp-signer.key', 'shared/privkey.pem']) {
      const text = await readFile(join(dir, key), 'utf8');
      expect(text).toContain('-----BEGIN PRIVATE KEY-----'); // PKCS#8
      expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
    }
  });

  it('lays leaves out like certbot, chain = issuer, fullchain = cert + issuer, key and chain as symlinks', async () => {
    const issuerPem = await readFile(join(dir, 'ca/issuer.pem'), 'utf8');
    for (const leaf of manifest.leaves) {
      const lineage = join(dir, 'live', leaf.name);
      const cert = await readFile(join(lineage, 'cert.pem'), 'utf8');
      expect(await readFile(join(lineage, 'chain.pem'), 'utf8')).toBe(issuerPem);
      expect(await readFile(join(lineage, 'fullchain.pem'), 'utf8')).toBe(cert + issuerPem);
      expect(await readlink(join(lineage, 'chain.pem'))).toBe('../../ca/issuer.pem');
      expect((await lstat(join(lineage, 'privkey.pem'))).isSymbolicLink()).toBe(true);
      expect(await readlink(join(lineage, 'privkey.pem'))).toBe('../../shared/privkey.pem');
      expect((await stat(join(lineage, 'privkey.pem'))).mode & 0o777).toBe(0o600);
    }
    expect(manifest.leaves.map((leaf) => leaf.name)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `site0000${i}.example.test`));
  });

  it('records serials, fingerprints, names and URLs in manifest.json', async () => {
    const onDisk = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as PkiManifest;
    expect(onDisk).toEqual(manifest);
    expect(manifest.count).toBe(6);
    expect(manifest.ocspUrls).toEqual(['http://127.0.0.1:9/', 'http://127.0.0.2:9/ocsp']);
    expect(manifest.caIssuersUrl).toBe('http://127.0.0.1:9/_sim/issuer.der');
    expect(manifest.revoked).toEqual([manifest.leaves[1]?.serial]);
    expect(new Set(manifest.leaves.map((leaf) => leaf.serial)).size).toBe(6);
    for (const leaf of manifest.leaves) {
      const x509 = new X509Certificate(await readFile(join(dir, leaf.dir, 'cert.pem')));
      expect(x509.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(leaf.fingerprint);
      expect(x509.serialNumber.toLowerCase()).toBe(leaf.serial);
      expect(x509.subjectAltName).toBe(`DNS:${leaf.name}, DNS:www.${leaf.name}`);
      expect(new Date(leaf.notAfter).getTime()).toBe(new Date(x509.validTo).getTime());
    }
  });

  it('puts the OCSP URLs and caIssuers in AIA, except on every noOcspEvery-th leaf; must-staple on every third', async () => {
    const aia = (i: number): Promise<string> =>
      readFile(leafCert(dir, manifest, i)).then((pem) => (new X509Certificate(pem).infoAccess ?? '').trimEnd());
    expect(await aia(1)).toBe(
      'OCSP - URI:http://127.0.0.1:9/\nOCSP - URI:http://127.0.0.2:9/ocsp\nCA Issuers - URI:http://127.0.0.1:9/_sim/issuer.der',
    );
    expect(await aia(5)).toBe('CA Issuers - URI:http://127.0.0.1:9/_sim/issuer.der');
    expect(manifest.leaves.map((leaf) => [leaf.ocsp, leaf.mustStaple])).toEqual([
      [true, false],
      [true, false],
      [true, true],
      [true, false],
      [false, false],
      [true, true],
    ]);
    const text = await openssl(['x509', '-noout', '-text', '-in', leafCert(dir, manifest, 3)]);
    expect(text.stdout).toMatch(/TLS Feature:\s*\n\s*status_request/);
  });

  it('issues chains openssl verifies (leaves and the delegated signer, which has EKU OCSPSigning)', async () => {
    const certs = manifest.leaves.map((leaf) => join(dir, leaf.dir, 'cert.pem'));
    const run = await openssl([
      'verify',
      '-CAfile',
      join(dir, 'ca/root.pem'),
      '-untrusted',
      join(dir, 'ca/issuer.pem'),
      ...certs,
      join(dir, 'ca/ocsp-signer.pem'),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout.match(/: OK$/gm)).toHaveLength(7);
    const signer = await openssl(['x509', '-noout', '-ext', 'extendedKeyUsage', '-in', join(dir, 'ca/ocsp-signer.pem')]);
    expect(signer.stdout).toContain('OCSP Signing');
  });

  it('writes index.txt in openssl ca format', async () => {
    const lines = (await readFile(join(dir, 'index.txt'), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    const serial = (i: number): string => manifest.leaves[i - 1]?.serial.toUpperCase() ?? '';
    expect(lines[0]).toMatch(new RegExp(`^V\\t\\d{12}Z\\t\\t${serial(1)}\\tunknown\\t/CN=site00001\\.example\\.test$`));
    expect(lines[1]).toMatch(
      new RegExp(`^R\\t\\d{12}Z\\t\\d{12}Z,keyCompromise\\t${serial(2)}\\tunknown\\t/CN=site00002\\.example\\.test$`),
    );
  });

  it('serves the same answers through openssl ocsp -index (an independent responder)', async () => {
    const verdicts: string[] = [];
    for (const index of [1, 2]) {
      const reqFile = join(dir, `index-req-${index}.der`);
      const respFile = join(dir, `index-resp-${index}.der`);
      await writeFile(reqFile, await opensslRequest(dir, manifest, { leaves: [index] }));
      const served = await openssl([
        'ocsp',
        '-index',
        join(dir, 'index.txt'),
        '-CA',
        join(dir, 'ca/issuer.pem'),
        '-rsigner',
        join(dir, 'ca/ocsp-signer.pem'),
        '-rkey',
        join(dir, 'ca/ocsp-signer.key'),
        '-reqin',
        reqFile,
        '-respout',
        respFile,
      ]);
      expect(served.code).toBe(0);
      const check = await openssl([
        'ocsp',
        '-respin',
        respFile,
        '-CAfile',
        join(dir, 'ca/root.pem'),
        '-issuer',
        join(dir, 'ca/issuer.pem'),
        '-cert',
        leafCert(dir, manifest, index),
        '-no_nonce',
      ]);
      verdicts.push(statusIn(check) ?? check.all);
    }
    expect(verdicts).toEqual(['good', 'revoked']);
  });
});

describe('generatePki options', () => {
  it('makes an RSA PKI without a delegated signer', async () => {
    const { dir, cleanup } = await withTempDir();
    try {
      const manifest = await generatePki({ dir, count: 2, keyType: 'rsa', delegatedSigner: false, caIssuersUrl: false });
      expect(manifest.signer).toBeNull();
      expect(manifest.caIssuersUrl).toBeNull();
      await expect(stat(join(dir, 'ca/ocsp-signer.pem'))).rejects.toThrow();
      const cert = leafCert(dir, manifest, 1);
      expect(new X509Certificate(await readFile(cert)).publicKey.asymmetricKeyType).toBe('rsa');
      const run = await openssl(['verify', '-CAfile', join(dir, 'ca/root.pem'), '-untrusted', join(dir, 'ca/issuer.pem'), cert]);
      expect(run.stdout.trim()).toBe(`${cert}: OK`);
    } finally {
      await cleanup();
    }
  });

  it('rejects a count that is not a positive integer with code bad-option', async () => {
    await expect(generatePki({ dir: '/nonexistent', count: 0 })).rejects.toMatchObject({ code: 'bad-option' });
  });
});
