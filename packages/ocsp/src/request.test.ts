import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certIdEquals, certIdFor } from './cert-id.js';
import { parseCertificates } from './certificate.js';
import { encodeOcspRequest, ocspGetUrl } from './request.js';
import { buildTarget } from './target.js';
import { type TempDir, type TestPki, createTestPki, openssl, tempDir } from './testing/index.js';
import type { CertId, ParsedCertificate } from './types.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

let pki: TestPki;
let dir: TempDir;
let leaf: ParsedCertificate;
let issuer: ParsedCertificate;

beforeAll(() => {
  pki = createTestPki({ now: NOW });
  dir = tempDir();
  const leafCert = pki.leaf({ ocspUrls: ['ldap://dir.example.test', 'http://ocsp-a.example.test', 'HTTPS://ocsp-b.example.test/x'] });
  dir.write('leaf.pem', leafCert.pem);
  dir.write('issuer.pem', pki.issuer.pem);
  [leaf] = parseCertificates(leafCert.pem) as [ParsedCertificate];
  [issuer] = parseCertificates(pki.issuer.pem) as [ParsedCertificate];
});
afterAll(() => dir.remove());

describe('certIdFor and encodeOcspRequest', () => {
  it.each(['sha1', 'sha256'] as const)('produces the same %s request bytes as openssl ocsp -no_nonce', (hash) => {
    openssl(['ocsp', `-${hash}`, '-issuer', 'issuer.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', `openssl-${hash}.der`], dir.path);
    const theirs = readFileSync(join(dir.path, `openssl-${hash}.der`));
    expect(encodeOcspRequest(certIdFor(leaf, issuer, hash))).toEqual(theirs);
  });

  it('hashes the issuer Name DER and the issuer key bits, and keeps the leaf serial', () => {
    const certId = certIdFor(leaf, issuer);
    expect(certId.hashAlgorithm).toBe('sha1');
    expect(certId.serialNumber).toBe(leaf.serialNumber);
    const text = openssl(['ocsp', '-reqin', dir.write('ours.der', encodeOcspRequest(certId)), '-req_text']);
    expect(text).toContain('Hash Algorithm: sha1');
    expect(text).toContain(`Issuer Name Hash: ${certId.issuerNameHash.toUpperCase()}`);
    expect(text).toContain(`Issuer Key Hash: ${certId.issuerKeyHash.toUpperCase()}`);
    expect(text).toContain(`Serial Number: ${certId.serialNumber.toUpperCase()}`);
    expect(text).not.toMatch(/Nonce|Requestor Name|Request Extensions/);
    expect(text.match(/Certificate ID:/g)).toHaveLength(1);
  });

  it('keeps a leading zero octet of the serial, as the certificate encodes it', () => {
    const highBit = parseCertificates(pki.leaf({ serial: Buffer.from('00ff0102', 'hex') }).pem)[0]!;
    const certId = certIdFor(highBit, issuer);
    expect(certId.serialNumber).toBe('00ff0102');
    const text = openssl(['ocsp', '-reqin', dir.write('zero.der', encodeOcspRequest(certId)), '-req_text']);
    expect(text).toContain('Serial Number: FF0102');
  });

  it('rejects a CertId whose fields are not hex', () => {
    expect(() => encodeOcspRequest({ ...certIdFor(leaf, issuer), serialNumber: 'xyz' })).toThrow(/serialNumber/);
  });

  it('compares CertIds field by field, case-insensitively', () => {
    const certId = certIdFor(leaf, issuer);
    expect(certIdEquals(certId, { ...certId, issuerKeyHash: certId.issuerKeyHash.toUpperCase() })).toBe(true);
    expect(certIdEquals(certId, { ...certId, serialNumber: '01' })).toBe(false);
    expect(certIdEquals(certId, certIdFor(leaf, issuer, 'sha256'))).toBe(false);
  });
});

describe('ocspGetUrl', () => {
  it('appends the URL-escaped base64 so + / = survive', () => {
    const der = Buffer.from([0xfb, 0xff]); // base64 "+/8="
    expect(ocspGetUrl('http://ocsp.example.test', der)).toBe('http://ocsp.example.test/%2B%2F8%3D');
  });

  it('does not double a trailing slash and keeps a path', () => {
    const der = encodeOcspRequest(certIdFor(leaf, issuer));
    const b64 = encodeURIComponent(der.toString('base64'));
    expect(ocspGetUrl('http://ocsp.example.test/', der)).toBe(`http://ocsp.example.test/${b64}`);
    expect(ocspGetUrl('http://ocsp.example.test/ocsp', der)).toBe(`http://ocsp.example.test/ocsp/${b64}`);
  });

  it('decodes back to the request bytes', () => {
    const der = encodeOcspRequest(certIdFor(leaf, issuer, 'sha256'));
    const url = new URL(ocspGetUrl('http://ocsp.example.test/', der));
    expect(Buffer.from(decodeURIComponent(url.pathname.slice(1)), 'base64')).toEqual(der);
  });
});

describe('buildTarget', () => {
  it('carries what a worker needs, as plain JSON-safe data', () => {
    const target = buildTarget(leaf, issuer);
    expect(target).toEqual({
      fingerprint: leaf.fingerprint,
      names: ['www.example.test'],
      mustStaple: false,
      certNotAfter: leaf.notAfter.getTime(),
      ocspUrls: ['http://ocsp-a.example.test', 'HTTPS://ocsp-b.example.test/x'],
      certId: certIdFor(leaf, issuer),
      request: encodeOcspRequest(certIdFor(leaf, issuer)).toString('base64'),
      issuerSpki: issuer.spkiDer.toString('base64'),
      subject: 'CN=www.example.test',
      issuerName: issuer.subjectNameDer.toString('base64'),
    });
    expect(JSON.parse(JSON.stringify(target))).toEqual(target);
  });

  it('uses the requested CertID hash', () => {
    const target = buildTarget(leaf, issuer, { hash: 'sha256' });
    expect(target.certId.hashAlgorithm).toBe('sha256');
    expect(target.certId.issuerNameHash).toHaveLength(64);
    expect(Buffer.from(target.request, 'base64')).toEqual(encodeOcspRequest(target.certId));
  });

  it('keeps an empty URL list when the certificate has no http(s) OCSP URL', () => {
    const noHttp = parseCertificates(pki.leaf({ ocspUrls: ['ldap://dir.example.test'] }).pem)[0]!;
    expect(buildTarget(noHttp, issuer).ocspUrls).toEqual([]);
  });
});

describe('encodeOcspRequest against asn1js', () => {
  // The same structure built with asn1js's generic encoder: the hand-written DER must match it.
  const viaAsn1js = (certId: CertId): Buffer => {
    const oid = certId.hashAlgorithm === 'sha1' ? '1.3.14.3.2.26' : '2.16.840.1.101.3.4.2.1';
    const reqCert = new asn1js.Sequence({
      value: [
        new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), new asn1js.Null()] }),
        new asn1js.OctetString({ valueHex: new Uint8Array(Buffer.from(certId.issuerNameHash, 'hex')) }),
        new asn1js.OctetString({ valueHex: new Uint8Array(Buffer.from(certId.issuerKeyHash, 'hex')) }),
        new asn1js.Integer({ valueHex: new Uint8Array(Buffer.from(certId.serialNumber, 'hex')) }),
      ],
    });
    const tbs = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [reqCert] })] })] });
    return Buffer.from(new asn1js.Sequence({ value: [tbs] }).toBER());
  };

  it.each([
    ['a one-octet serial', '01'],
    ['a 20-octet serial', '7f'.repeat(20)],
    // Long enough that every enclosing SEQUENCE needs the long length form (> 127, then > 255 octets).
    ['a 150-octet serial', '11'.repeat(150)],
    ['a 300-octet serial', '22'.repeat(300)],
  ])('matches for %s, sha1 and sha256', (_what, serialNumber) => {
    for (const hash of ['sha1', 'sha256'] as const) {
      const certId = { ...certIdFor(leaf, issuer, hash), serialNumber };
      expect(encodeOcspRequest(certId)).toEqual(viaAsn1js(certId));
    }
  });
});
