import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificates } from './certificate.js';
import { OcspError } from './errors.js';
import { isIssuedBy } from './issuer.js';
import { isPrivateKeyPem } from './pem.js';
import {
  type TempDir,
  type TestPki,
  createTestPki,
  generateTestKey,
  issueCertificate,
  openssl,
  privateKeyPem,
  tempDir,
} from './testing/index.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

let pki: TestPki;
let dir: TempDir;

beforeAll(() => {
  pki = createTestPki({ now: NOW });
  dir = tempDir();
});
afterAll(() => dir.remove());

describe('parseCertificates', () => {
  it('reads every certificate of a PEM bundle in order and ignores a private key block', () => {
    const leaf = pki.leaf();
    const bundle = `${privateKeyPem(leaf.key)}${leaf.pem}\nsome comment\n${pki.issuer.pem}${pki.root.pem}`;
    const certs = parseCertificates(bundle, 'bundle.pem');
    expect(certs.map((c) => c.der)).toEqual([leaf.der, pki.issuer.der, pki.root.der]);
  });

  it('tolerates CRLF line endings and a Buffer input', () => {
    const crlf = Buffer.from(`${pki.issuer.pem}${pki.root.pem}`.replace(/\n/g, '\r\n'));
    const certs = parseCertificates(crlf, 'crlf.pem');
    expect(certs.map((c) => c.der)).toEqual([pki.issuer.der, pki.root.der]);
  });

  it('reads a single DER certificate', () => {
    const [cert] = parseCertificates(pki.issuer.der, 'issuer.der');
    expect(cert?.der).toEqual(pki.issuer.der);
    expect(cert?.subject).toBe('CN=Staplewarm Test Issuing CA, O=Staplewarm Test');
  });

  it('fills the identity fields as openssl reads them', () => {
    const leaf = pki.leaf();
    const file = dir.write('leaf.pem', leaf.pem);
    const [cert] = parseCertificates(leaf.pem);
    const fingerprint = openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).trim();
    expect(cert?.fingerprint).toBe(fingerprint.replace(/^.*=/, '').replace(/:/g, '').toLowerCase());
    const serial = openssl(['x509', '-in', file, '-noout', '-serial']).trim();
    expect(cert?.serialNumber).toBe(serial.replace('serial=', '').toLowerCase());
    expect(cert?.serialNumber).toBe(leaf.serial.toString('hex'));
    expect(cert?.notBefore).toEqual(leaf.notBefore);
    expect(cert?.notAfter).toEqual(leaf.notAfter);
    expect(cert?.spkiDer).toEqual(leaf.key.spkiDer);
    expect(cert?.subjectNameDer).toEqual(Buffer.from(leaf.subjectName.toSchema().toBER()));
    expect(cert?.issuerNameDer).toEqual(Buffer.from(pki.issuer.subjectName.toSchema().toBER()));
  });

  it('reads basicConstraints, key identifiers and EKU OCSPSigning', () => {
    const [issuer] = parseCertificates(pki.issuer.pem);
    const [responder] = parseCertificates(pki.responder.pem);
    const [leaf] = parseCertificates(pki.leaf().pem);
    expect(issuer?.isCA).toBe(true);
    expect(leaf?.isCA).toBe(false);
    expect(responder?.ocspSigning).toBe(true);
    expect(leaf?.ocspSigning).toBe(false);
    expect(issuer?.subjectKeyId).toMatch(/^[0-9a-f]{40}$/);
    expect(leaf?.authorityKeyId).toBe(issuer?.subjectKeyId);
    const [noIds] = parseCertificates(pki.leaf({ keyIdentifiers: false }).pem);
    expect(noIds?.subjectKeyId).toBeUndefined();
    expect(noIds?.authorityKeyId).toBeUndefined();
  });

  it('lowercases SAN dNSNames, keeps wildcards, and ignores the CN when a SAN exists', () => {
    const leaf = pki.leaf({ subject: { CN: 'Other.Example.Test' }, dnsNames: ['WWW.Example.Test', '*.example.test'] });
    expect(parseCertificates(leaf.pem)[0]?.dnsNames).toEqual(['www.example.test', '*.example.test']);
  });

  it('falls back to a host-like CN when there is no SAN, and not to a CA-style CN', () => {
    const byCn = pki.leaf({ subject: { CN: 'Legacy.Example.Test' }, dnsNames: [] });
    expect(parseCertificates(byCn.pem)[0]?.dnsNames).toEqual(['legacy.example.test']);
    expect(parseCertificates(pki.issuer.pem)[0]?.dnsNames).toEqual([]);
  });

  it('lists every id-ad-ocsp URI in order, any scheme', () => {
    const urls = ['http://ocsp-a.example.test/', 'ldap://directory.example.test/cn=ocsp', 'https://ocsp-b.example.test/ocsp'];
    expect(parseCertificates(pki.leaf({ ocspUrls: urls }).pem)[0]?.ocspUrls).toEqual(urls);
    expect(parseCertificates(pki.leaf({ ocspUrls: [] }).pem)[0]?.ocspUrls).toEqual([]);
  });

  it('detects must-staple (TLS feature status_request), as openssl shows it', () => {
    const mustStaple = pki.leaf({ mustStaple: true });
    const text = openssl(['x509', '-in', dir.write('ms.pem', mustStaple.pem), '-noout', '-text']);
    expect(text).toMatch(/TLS Feature:\s*\n\s*status_request/);
    expect(parseCertificates(mustStaple.pem)[0]?.mustStaple).toBe(true);
    expect(parseCertificates(pki.leaf().pem)[0]?.mustStaple).toBe(false);
  });

  it('reads an openssl-made RSA certificate', () => {
    const key = dir.write('rsa.key', privateKeyPem(generateTestKey('rsa2048')));
    const pem = openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-subj',
      '/O=Acme/CN=rsa.example.test',
      '-days',
      '30',
      '-addext',
      'subjectAltName=DNS:rsa.example.test,DNS:alt.example.test',
      '-addext',
      'authorityInfoAccess=OCSP;URI:http://ocsp.acme.test',
    ]);
    const [cert] = parseCertificates(pem, 'rsa.pem');
    expect(cert?.subject).toBe('CN=rsa.example.test, O=Acme');
    expect(cert?.dnsNames).toEqual(['rsa.example.test', 'alt.example.test']);
    expect(cert?.ocspUrls).toEqual(['http://ocsp.acme.test']);
  });

  it('agrees with node:crypto X509Certificate on every certificate of the test PKI', () => {
    const leaf = pki.leaf({
      dnsNames: ['a.example.test', '*.b.example.test'],
      ocspUrls: ['http://o1.example.test', 'http://o2.example.test/x'],
    });
    for (const made of [leaf, pki.issuer, pki.root, pki.responder]) {
      const ours = parseCertificates(made.der)[0]!;
      const theirs = new X509Certificate(made.der);
      expect(ours.fingerprint).toBe(theirs.fingerprint256.replace(/:/g, '').toLowerCase());
      expect(BigInt(`0x${ours.serialNumber}`)).toBe(BigInt(`0x${theirs.serialNumber}`));
      expect(ours.notBefore).toEqual(new Date(theirs.validFrom));
      expect(ours.notAfter).toEqual(new Date(theirs.validTo));
      expect(ours.isCA).toBe(theirs.ca);
      expect(ours.subject.split(', ').reverse()).toEqual(theirs.subject.split('\n'));
      expect(ours.ocspUrls).toEqual([...(theirs.infoAccess ?? '').matchAll(/OCSP - URI:(\S+)/g)].map((m) => m[1]));
      if (theirs.subjectAltName) expect(ours.dnsNames).toEqual(theirs.subjectAltName.split(', ').map((n) => n.replace('DNS:', '')));
      expect(ours.ocspSigning).toBe((theirs.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.9'));
      expect(ours.spkiDer).toEqual(theirs.publicKey.export({ type: 'spki', format: 'der' }));
    }
  });

  it.each([
    ['utf8only', 'UTF8String'],
    ['pkix', 'BMPString'],
    ['default', 'TeletexString'],
  ])('decodes names written with string_mask=%s (%s) and PrintableString', (mask) => {
    const key = dir.write('names.key', privateKeyPem(generateTestKey()));
    const config = dir.write(`${mask}.cnf`, `[req]\ndistinguished_name=dn\nstring_mask=${mask}\n[dn]\n`);
    const pem = openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-config',
      config,
      '-utf8',
      '-subj',
      '/C=DE/O=Müller GmbH/CN=names.example.test',
      '-days',
      '1',
    ]);
    expect(parseCertificates(pem)[0]?.subject).toBe('CN=names.example.test, O=Müller GmbH, C=DE');
  });

  it.each([
    ['garbage bytes', Buffer.from('not a certificate at all')],
    ['a truncated DER certificate', Buffer.from([0x30, 0x82, 0x01, 0x00, 0x01])],
    ['an empty buffer', Buffer.alloc(0)],
    ['a PEM with only a key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'],
    ['a PEM certificate block with a corrupt body', '-----BEGIN CERTIFICATE-----\nMIIB!!notbase64\n-----END CERTIFICATE-----\n'],
    ['a PEM certificate block holding random base64', '-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n'],
  ])('throws malformed-certificate naming the source for %s', (_what, input) => {
    expect(() => parseCertificates(input, '/etc/certs/broken.pem')).toThrow(
      expect.objectContaining({
        code: 'malformed-certificate',
        retryable: false,
        message: expect.stringContaining('/etc/certs/broken.pem'),
      }),
    );
    expect(() => parseCertificates(input)).toThrow(OcspError);
  });

  it('skips a corrupt block when another certificate in the bundle parses', () => {
    const bundle = `-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n${pki.issuer.pem}`;
    expect(parseCertificates(bundle).map((c) => c.der)).toEqual([pki.issuer.der]);
  });
});

describe('isPrivateKeyPem', () => {
  it.each(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'])('detects %s blocks', (label) => {
    expect(isPrivateKeyPem(`junk\n-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`)).toBe(true);
  });

  it('is false for certificates and public keys', () => {
    expect(isPrivateKeyPem(pki.root.pem)).toBe(false);
    expect(isPrivateKeyPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')).toBe(false);
  });
});

describe('isIssuedBy', () => {
  it('pairs a leaf with its issuer and the issuer with the root', () => {
    const [leaf, issuer, root] = parseCertificates(`${pki.leaf().pem}${pki.issuer.pem}${pki.root.pem}`);
    expect(isIssuedBy(leaf!, issuer!)).toBe(true);
    expect(isIssuedBy(issuer!, root!)).toBe(true);
    expect(isIssuedBy(leaf!, root!)).toBe(false);
    expect(isIssuedBy(issuer!, leaf!)).toBe(false);
  });

  it('rejects an impostor CA with the same name but another key', () => {
    const impostor = issueCertificate({
      subject: { O: 'Staplewarm Test', CN: 'Staplewarm Test Issuing CA' },
      isCA: true,
      keyIdentifiers: false,
      notBefore: new Date(NOW - 1000),
      notAfter: new Date(NOW + 1000),
    });
    const [leaf] = parseCertificates(pki.leaf({ keyIdentifiers: false }).pem);
    const [fake] = parseCertificates(impostor.pem);
    expect(fake?.subjectNameDer).toEqual(parseCertificates(pki.issuer.pem)[0]?.subjectNameDer);
    expect(isIssuedBy(leaf!, fake!)).toBe(false);
  });

  it('rejects when the key identifiers disagree even though the names match', () => {
    const [leaf] = parseCertificates(pki.leaf().pem);
    const [issuer] = parseCertificates(pki.issuer.pem);
    expect(isIssuedBy({ ...leaf!, authorityKeyId: '00'.repeat(20) }, issuer!)).toBe(false);
  });
});
