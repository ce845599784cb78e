/**
 * Cross-checks with an independent implementation: responses made by `openssl ocsp` (index.txt
 * responder in -reqin/-respout mode) verify with OcspVerifier, and responses made by our test helper
 * verify with `openssl ocsp -respin`. Both run at the real clock because openssl uses it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certIdFor } from './cert-id.js';
import { parseCertificates } from './certificate.js';
import { encodeOcspRequest } from './request.js';
import {
  type TempDir,
  type TestCertificate,
  type TestPki,
  buildOcspResponse,
  createTestPki,
  openssl,
  privateKeyPem,
  tempDir,
} from './testing/index.js';
import type { CertIdHash } from './types.js';
import { OcspVerifier, type VerifyExpectation } from './verify.js';

const DAY = 86_400_000;

let pki: TestPki;
let dir: TempDir;
let good: TestCertificate;
let revoked: TestCertificate;

/** openssl's CA database line: status, expiry, revocation[,reason], serial, file, subject. */
function indexLine(cert: TestCertificate, revocation?: string): string {
  const expiry = cert.notAfter.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');
  return [
    revocation ? 'R' : 'V',
    expiry,
    revocation ?? '',
    cert.serial.toString('hex').toUpperCase(),
    'unknown',
    '/CN=www.example.test',
  ].join('\t');
}

beforeAll(() => {
  const now = Date.now();
  pki = createTestPki({ now });
  dir = tempDir();
  good = pki.leaf();
  revoked = pki.leaf();
  dir.write('index.txt', `${indexLine(good)}\n${indexLine(revoked, '250101000000Z,keyCompromise')}\n`);
  dir.write('issuer.pem', pki.issuer.pem);
  dir.write('issuer.key', privateKeyPem(pki.issuer.key));
  dir.write('responder.pem', pki.responder.pem);
  dir.write('responder.key', privateKeyPem(pki.responder.key));
  dir.write('root.pem', pki.root.pem);
  dir.write('good.pem', good.pem);
});
afterAll(() => dir.remove());

/** Asks openssl's index.txt responder about `leaf` with our request bytes. */
function opensslRespond(
  leaf: TestCertificate,
  signer: 'issuer' | 'responder',
  hash: CertIdHash = 'sha1',
): { der: Buffer; verify: (now?: number) => ReturnType<OcspVerifier['verify']> } {
  const [parsedLeaf, issuer] = parseCertificates(`${leaf.pem}${pki.issuer.pem}`);
  const certId = certIdFor(parsedLeaf!, issuer!, hash);
  dir.write('req.der', encodeOcspRequest(certId));
  openssl(
    [
      'ocsp',
      '-index',
      'index.txt',
      '-CA',
      'issuer.pem',
      '-rsigner',
      `${signer}.pem`,
      '-rkey',
      `${signer}.key`,
      '-reqin',
      'req.der',
      '-respout',
      'resp.der',
      '-ndays',
      '1',
    ],
    dir.path,
  );
  const der = readFileSync(join(dir.path, 'resp.der'));
  const expectation = { certId, issuerSpki: issuer!.spkiDer.toString('base64'), certNotAfter: leaf.notAfter.getTime() };
  return { der, verify: (now = Date.now()) => new OcspVerifier().verify(der, expectation, now) };
}

describe('responses made by openssl ocsp verify with OcspVerifier', () => {
  it('good, signed by the delegated responder (openssl includes its certificate)', () => {
    const staple = opensslRespond(good, 'responder').verify();
    expect(staple.status).toBe('good');
    expect(staple.signer).toBe('delegated');
    expect(staple.nextUpdate.getTime() - staple.thisUpdate.getTime()).toBe(DAY);
  });

  it('good, signed by the issuing CA', () => {
    const staple = opensslRespond(good, 'issuer').verify();
    expect(staple.status).toBe('good');
    expect(staple.signer).toBe('issuer');
  });

  it('revoked with time and reason', () => {
    const staple = opensslRespond(revoked, 'responder').verify();
    expect(staple.status).toBe('revoked');
    expect(staple.revocationTime).toEqual(new Date(Date.UTC(2025, 0, 1)));
    expect(staple.revocationReason).toBe('keyCompromise');
  });

  it('answers a SHA-256 CertID in kind', () => {
    expect(opensslRespond(good, 'responder', 'sha256').verify().certId.hashAlgorithm).toBe('sha256');
  });

  it('is expired once nextUpdate has passed', () => {
    const response = opensslRespond(good, 'responder');
    expect(() => response.verify(Date.now() + 2 * DAY)).toThrow(expect.objectContaining({ code: 'expired' }));
  });
});

describe('RSA responses made by openssl ocsp verify with OcspVerifier', () => {
  let rsa: { dir: TempDir; expectation: VerifyExpectation };

  beforeAll(() => {
    const rsaPki = createTestPki({ now: Date.now(), keyType: 'rsa2048' });
    const leaf = rsaPki.leaf({ keyType: 'p256' });
    const [parsedLeaf, issuer] = parseCertificates(`${leaf.pem}${rsaPki.issuer.pem}`);
    const certId = certIdFor(parsedLeaf!, issuer!);
    const rsaDir = tempDir();
    rsaDir.write('index.txt', `${indexLine(leaf)}\n`);
    rsaDir.write('issuer.pem', rsaPki.issuer.pem);
    rsaDir.write('issuer.key', privateKeyPem(rsaPki.issuer.key));
    rsaDir.write('req.der', encodeOcspRequest(certId));
    rsa = { dir: rsaDir, expectation: { certId, issuerSpki: issuer!.spkiDer } };
  });
  afterAll(() => rsa.dir.remove());

  it.each([
    ['PKCS#1 v1.5 SHA-256', []],
    ['PKCS#1 v1.5 SHA-1', ['-rmd', 'sha1']],
    ['RSASSA-PSS SHA-256', ['-rsigopt', 'rsa_padding_mode:pss']],
    ['RSASSA-PSS SHA-384, salt 20', ['-rmd', 'sha384', '-rsigopt', 'rsa_padding_mode:pss', '-rsigopt', 'rsa_pss_saltlen:20']],
  ])('%s', (_what, signOptions) => {
    openssl(
      [
        'ocsp',
        '-index',
        'index.txt',
        '-CA',
        'issuer.pem',
        '-rsigner',
        'issuer.pem',
        '-rkey',
        'issuer.key',
        '-reqin',
        'req.der',
        '-respout',
        'resp.der',
        '-ndays',
        '1',
        ...signOptions,
      ],
      rsa.dir.path,
    );
    const staple = new OcspVerifier().verify(readFileSync(join(rsa.dir.path, 'resp.der')), rsa.expectation, Date.now());
    expect(staple.status).toBe('good');
  });
});

describe('responses made by the test helper verify with openssl ocsp -respin', () => {
  it.each(['issuer', 'responder'] as const)('signed by the %s', (signer) => {
    const [leaf, issuer] = parseCertificates(`${good.pem}${pki.issuer.pem}`);
    const signerCert = signer === 'issuer' ? pki.issuer : pki.responder;
    const der = buildOcspResponse({
      certId: certIdFor(leaf!, issuer!),
      status: 'good',
      thisUpdate: new Date(Date.now() - 60_000),
      nextUpdate: new Date(Date.now() + DAY),
      signer: { key: signerCert.key, cert: signerCert },
      ...(signer === 'responder' && { certs: [pki.responder] }),
    });
    const out = openssl(
      [
        'ocsp',
        '-respin',
        dir.write(`helper-${signer}.der`, der),
        '-issuer',
        'issuer.pem',
        '-cert',
        'good.pem',
        '-CAfile',
        'root.pem',
        '-verify_other',
        'issuer.pem',
      ],
      dir.path,
    );
    expect(out).toContain('Response verify OK');
    expect(out).toMatch(/good\.pem: good/);
  });
});
