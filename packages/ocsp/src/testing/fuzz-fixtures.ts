/**
 * Seeds for the DER fuzz test: real certificates and OCSP responses covering every field the reader
 * extracts (SAN, AIA, must-staple, EKU, key ids, basicConstraints; byKey/byName responder ids,
 * good/revoked/unknown, delegated certs, SHA-256 CertIDs, several SingleResponses, no nextUpdate,
 * an unsuccessful status).
 *
 * They are the same bytes on every run and machine, so a fuzz seed replays exactly: keys come from
 * fixed seeds (Ed25519 and P-256 from seed bytes, RSA-1024 from seeded primes), serials are fixed,
 * and only deterministic signature schemes sign (Ed25519, RSA PKCS#1 v1.5; ECDSA would draw a
 * random nonce, so P-256 keys appear as subject keys only).
 */
import { checkPrimeSync, createECDH, createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { certIdFor } from '../cert-id.js';
import { parseCertificateDer } from '../certificate.js';
import type { CertId } from '../types.js';
import { type TestCertificate, issueCertificate } from './certificates.js';
import type { TestKey } from './keys.js';
import { buildOcspResponse, buildUnsuccessfulResponse } from './responses.js';

export interface ResponseFixture {
  der: Buffer;
  /** What OcspVerifier.verify expects for this response. */
  expect: { certId: CertId; issuerSpki: Buffer };
}

export interface FuzzFixtures {
  /** Epoch ms the fixtures are valid at. */
  now: number;
  certificates: Record<string, Buffer>;
  responses: Record<string, ResponseFixture>;
}

const DAY = 86_400_000;

/** `n` bytes from SHA-256 in counter mode over `seed`. */
function seededBytes(seed: string, n: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < n; i++) blocks.push(createHash('sha256').update(`${seed}#${i}`).digest());
  return Buffer.concat(blocks).subarray(0, n);
}

const base64url = (value: bigint | Buffer): string =>
  (Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.toString(16).padStart(2 * Math.ceil(value.toString(16).length / 2), '0'), 'hex')
  ).toString('base64url');

function testKey(type: TestKey['type'], privateKey: ReturnType<typeof createPrivateKey>): TestKey {
  const publicKey = createPublicKey(privateKey);
  return { type, privateKey, publicKey, spkiDer: publicKey.export({ type: 'spki', format: 'der' }) };
}

/** Ed25519 from a 32-byte seed (RFC 8410 PKCS#8). */
export function seededEd25519(seed: string): TestKey {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seededBytes(seed, 32)]);
  return testKey('ed25519', createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
}

/** P-256 with a seeded private scalar. */
export function seededP256(seed: string): TestKey {
  const d = seededBytes(seed, 32);
  const point = createECDH('prime256v1');
  point.setPrivateKey(d);
  const xy = point.getPublicKey();
  const jwk = { kty: 'EC', crv: 'P-256', d: base64url(d), x: base64url(xy.subarray(1, 33)), y: base64url(xy.subarray(33)) };
  return testKey('p256', createPrivateKey({ key: jwk, format: 'jwk' }));
}

/** RSA-1024 (small: only a parser is tested) from two seeded primes; labelled rsa2048 for the test helpers' algorithm choice. */
export function seededRsa(seed: string): TestKey {
  const e = 65537n;
  const prime = (label: string): bigint => {
    for (let i = 0; ; i++) {
      const bytes = Buffer.from(seededBytes(`${seed}/${label}/${i}`, 64));
      bytes[0] = bytes[0]! | 0xc0;
      bytes[63] = bytes[63]! | 1;
      const candidate = BigInt(`0x${bytes.toString('hex')}`);
      if (candidate % e !== 1n && checkPrimeSync(candidate)) return candidate;
    }
  };
  const p = prime('p');
  const q = prime('q');
  const d = modInverse(e, (p - 1n) * (q - 1n));
  const jwk = {
    kty: 'RSA',
    n: base64url(p * q),
    e: base64url(e),
    d: base64url(d),
    p: base64url(p),
    q: base64url(q),
    dp: base64url(d % (p - 1n)),
    dq: base64url(d % (q - 1n)),
    qi: base64url(modInverse(q, p)),
  };
  return testKey('rsa2048', createPrivateKey({ key: jwk, format: 'jwk' }));
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  return ((oldS % m) + m) % m;
}

export function createFuzzFixtures(now: number): FuzzFixtures {
  const validity = { notBefore: new Date(now - DAY), notAfter: new Date(now + 90 * DAY) };
  const serial = (n: number): Buffer => {
    const bytes = Buffer.from(seededBytes(`serial ${n}`, 16));
    bytes[0] = (bytes[0]! & 0x7f) | 0x10;
    return bytes;
  };
  const root = issueCertificate({
    subject: { O: 'Staplewarm Fuzz', CN: 'Staplewarm Fuzz Root' },
    key: seededEd25519('root'),
    serial: serial(1),
    isCA: true,
    ...validity,
  });
  const issuer = issueCertificate({
    subject: { C: 'XX', O: 'Staplewarm Fuzz', CN: 'Staplewarm Fuzz Issuing CA' },
    issuer: root,
    key: seededRsa('issuer'),
    serial: serial(2),
    isCA: true,
    ...validity,
  });
  const responder = issueCertificate({
    subject: { O: 'Staplewarm Fuzz', CN: 'Staplewarm Fuzz OCSP Responder' },
    issuer,
    key: seededEd25519('responder'),
    serial: serial(3),
    ocspSigning: true,
    ...validity,
  });
  const leaf = issueCertificate({
    subject: { CN: 'www.example.test' },
    issuer,
    key: seededP256('leaf'),
    serial: serial(4),
    dnsNames: ['www.example.test', '*.Example.test', 'api.example.test'],
    ocspUrls: ['http://ocsp.example.test', 'http://ocsp2.example.test/path'],
    mustStaple: true,
    ...validity,
  });
  const plainLeaf = issueCertificate({
    subject: { OU: 'no SAN', CN: 'plain.example.test' },
    issuer,
    key: seededEd25519('plain leaf'),
    serial: Buffer.from([0x00, 0x80, 0x01]),
    keyIdentifiers: false,
    ocspUrls: ['http://ocsp.example.test'],
    ...validity,
  });
  const certificates: Record<string, Buffer> = {
    root: root.der,
    issuer: issuer.der,
    responder: responder.der,
    leaf: leaf.der,
    'plain-leaf': plainLeaf.der,
  };
  return { now, certificates, responses: createResponses(now, issuer, responder, leaf) };
}

function createResponses(
  now: number,
  issuerCert: TestCertificate,
  responder: TestCertificate,
  leafCert: TestCertificate,
): Record<string, ResponseFixture> {
  const leaf = parseCertificateDer(leafCert.der);
  const issuer = parseCertificateDer(issuerCert.der);
  const expect = (hash: 'sha1' | 'sha256'): ResponseFixture['expect'] => ({
    certId: certIdFor(leaf, issuer, hash),
    issuerSpki: issuer.spkiDer,
  });
  const times = { thisUpdate: new Date(now - DAY), nextUpdate: new Date(now + 6 * DAY) };
  const sha1 = expect('sha1');
  const sha256 = expect('sha256');
  return {
    'issuer-good': { der: buildOcspResponse({ certId: sha1.certId, signer: { key: issuerCert.key }, ...times }), expect: sha1 },
    'delegated-revoked': {
      der: buildOcspResponse({
        certId: sha1.certId,
        status: 'revoked',
        revocationTime: new Date(now - 2 * DAY),
        revocationReason: 1,
        signer: { key: responder.key, cert: responder },
        responderId: 'byName',
        certs: [responder],
        ...times,
      }),
      expect: sha1,
    },
    'sha256-several': {
      der: buildOcspResponse({
        certId: sha256.certId,
        status: 'unknown',
        signer: { key: issuerCert.key, cert: issuerCert },
        responderId: 'byName',
        others: [{ certId: { ...sha256.certId, serialNumber: '0102' }, status: 'revoked', ...times }],
        ...times,
      }),
      expect: sha256,
    },
    'no-next-update': {
      der: buildOcspResponse({ certId: sha1.certId, signer: { key: issuerCert.key }, thisUpdate: times.thisUpdate, nextUpdate: null }),
      expect: sha1,
    },
    'try-later': { der: buildUnsuccessfulResponse('tryLater'), expect: sha1 },
  };
}
