/**
 * OCSPRequest decoding against requests written by openssl (the client every server here uses),
 * our own writer, and hand-broken bytes. Status responses and issuer hashes are checked by openssl too.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certIdFor } from './cert-id.js';
import { parseCertificates } from './certificate.js';
import { TAG } from './der.js';
import { derTlv } from './der-write.js';
import { isOcspRequestError } from './errors.js';
import { issuerHashes } from './issuer-hashes.js';
import { MAX_OCSP_REQUEST_BYTES, parseOcspRequest, requestedCertIdToCertId } from './ocsp-request.js';
import { encodeOcspRequest } from './request.js';
import { encodeOcspStatusResponse } from './status-response.js';
import { parseOcspResponse } from './summary.js';
import { type TempDir, type TestPki, createTestPki, openssl, privateKeyPem, tempDir } from './testing/index.js';
import type { ParsedCertificate } from './types.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

let pki: TestPki;
let dir: TempDir;
let leaf: ParsedCertificate;
let other: ParsedCertificate;
let issuer: ParsedCertificate;

/** `openssl ocsp ... -reqout` with `args`, the request bytes back. */
function opensslRequest(name: string, args: string[]): Buffer {
  openssl(['ocsp', '-issuer', 'issuer.pem', ...args, '-reqout', name], dir.path);
  return readFileSync(join(dir.path, name));
}

function expectRefused(der: Buffer, code: 'malformed-request' | 'request-too-large' = 'malformed-request'): void {
  let caught: unknown;
  try {
    parseOcspRequest(der);
  } catch (err) {
    caught = err;
  }
  expect(isOcspRequestError(caught) && caught.code).toBe(code);
}

beforeAll(() => {
  pki = createTestPki({ now: NOW });
  dir = tempDir();
  const leafCert = pki.leaf();
  const otherCert = pki.leaf({ serial: Buffer.from('00ff0102', 'hex') });
  dir.write('leaf.pem', leafCert.pem);
  dir.write('other.pem', otherCert.pem);
  dir.write('issuer.pem', pki.issuer.pem);
  dir.write('signer.pem', pki.responder.pem);
  dir.write('signer.key', privateKeyPem(pki.responder.key));
  [leaf] = parseCertificates(leafCert.pem) as [ParsedCertificate];
  [other] = parseCertificates(otherCert.pem) as [ParsedCertificate];
  [issuer] = parseCertificates(pki.issuer.pem) as [ParsedCertificate];
});
afterAll(() => dir.remove());

describe('parseOcspRequest', () => {
  it.each(['sha1', 'sha256'] as const)('reads the %s CertID of an openssl request, nonce and all', (hash) => {
    const parsed = parseOcspRequest(opensslRequest(`nonce-${hash}.der`, [`-${hash}`, '-cert', 'leaf.pem']));
    expect(parsed.certIds).toHaveLength(1);
    expect(requestedCertIdToCertId(parsed.certIds[0]!)).toEqual(certIdFor(leaf, issuer, hash));
    expect(parsed.hasNonce).toBe(true); // openssl adds one unless -no_nonce
    expect(parsed.signed).toBe(false);
  });

  it('reads an RFC 5019 request without nonce, as nginx and staplewarm send it', () => {
    const parsed = parseOcspRequest(opensslRequest('plain.der', ['-cert', 'leaf.pem', '-no_nonce']));
    expect(parsed.hasNonce).toBe(false);
    expect(parseOcspRequest(encodeOcspRequest(certIdFor(leaf, issuer)))).toEqual(parsed);
  });

  it('keeps the serial exactly as encoded, a leading zero octet included', () => {
    const parsed = parseOcspRequest(opensslRequest('zero.der', ['-cert', 'other.pem', '-no_nonce']));
    expect(parsed.certIds[0]?.serialNumber).toBe('00ff0102');
    expect(parsed.certIds[0]?.serialNumber).toBe(other.serialNumber);
  });

  it('returns every Request of a request for several certificates, in order', () => {
    const parsed = parseOcspRequest(opensslRequest('two.der', ['-cert', 'leaf.pem', '-cert', 'other.pem', '-no_nonce']));
    expect(parsed.certIds.map((c) => c.serialNumber)).toEqual([leaf.serialNumber, other.serialNumber]);
  });

  it('reads a signed request (the signature is not checked)', () => {
    const der = opensslRequest('signed.der', ['-cert', 'leaf.pem', '-signer', 'signer.pem', '-signkey', 'signer.key', '-no_nonce']);
    const parsed = parseOcspRequest(der);
    expect(parsed.signed).toBe(true);
    expect(requestedCertIdToCertId(parsed.certIds[0]!)).toEqual(certIdFor(leaf, issuer));
  });

  it('reads a CertID hashed with an algorithm staplewarm does not index, leaving hashAlgorithm undefined', () => {
    const parsed = parseOcspRequest(opensslRequest('sha384.der', ['-sha384', '-cert', 'leaf.pem', '-no_nonce']));
    expect(parsed.certIds[0]?.hashAlgorithm).toBeUndefined();
    expect(parsed.certIds[0]?.hashAlgorithmOid).toBe('2.16.840.1.101.3.4.2.2');
    expect(parsed.certIds[0]?.issuerNameHash).toHaveLength(96);
    expect(requestedCertIdToCertId(parsed.certIds[0]!)).toBeUndefined();
  });

  it('refuses bytes that are not exactly one DER OCSPRequest', () => {
    const good = encodeOcspRequest(certIdFor(leaf, issuer));
    expectRefused(Buffer.alloc(0));
    expectRefused(good.subarray(0, good.length - 1));
    expectRefused(Buffer.concat([good, Buffer.from([0])]));
    expectRefused(Buffer.from('not an ocsp request'));
    // A CertID without its serial.
    expectRefused(
      derTlv(
        TAG.SEQUENCE,
        derTlv(
          TAG.SEQUENCE,
          derTlv(TAG.SEQUENCE, derTlv(TAG.SEQUENCE, derTlv(TAG.SEQUENCE, derTlv(TAG.SEQUENCE), derTlv(TAG.OCTET_STRING)))),
        ),
      ),
    );
  });

  it('refuses an empty request list, a version other than v1 and sha1 hashes of the wrong length', () => {
    const tbs = (...parts: Buffer[]) => derTlv(TAG.SEQUENCE, derTlv(TAG.SEQUENCE, ...parts));
    const certId = certIdFor(leaf, issuer);
    const requestList = derTlv(
      TAG.SEQUENCE,
      derTlv(TAG.SEQUENCE, reqCertOf(certId.issuerNameHash, certId.issuerKeyHash, certId.serialNumber)),
    );
    expect(parseOcspRequest(tbs(requestList)).certIds).toHaveLength(1);
    expectRefused(tbs(derTlv(TAG.SEQUENCE)));
    const v2 = derTlv(0xa0, derTlv(TAG.INTEGER, Buffer.from([1])));
    expectRefused(tbs(v2, requestList));
    const v1 = derTlv(0xa0, derTlv(TAG.INTEGER, Buffer.from([0])));
    expect(parseOcspRequest(tbs(v1, requestList)).certIds).toHaveLength(1);
    const shortHash = derTlv(TAG.SEQUENCE, derTlv(TAG.SEQUENCE, reqCertOf('00'.repeat(19), certId.issuerKeyHash, '01')));
    expectRefused(tbs(shortHash));
  });

  it('refuses an oversized request unread, and a serial longer than any certificate has', () => {
    expectRefused(Buffer.alloc(MAX_OCSP_REQUEST_BYTES + 1, 0x30), 'request-too-large');
    expectRefused(encodeOcspRequest({ ...certIdFor(leaf, issuer), serialNumber: '11'.repeat(33) }));
    expect(parseOcspRequest(encodeOcspRequest({ ...certIdFor(leaf, issuer), serialNumber: '11'.repeat(32) })).certIds).toHaveLength(1);
  });
});

/** A SHA-1 CertID SEQUENCE from hex parts (for hand-built requests). */
function reqCertOf(nameHash: string, keyHash: string, serial: string): Buffer {
  const sha1 = Buffer.from([0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a]);
  return derTlv(
    TAG.SEQUENCE,
    derTlv(TAG.SEQUENCE, sha1, derTlv(TAG.NULL)),
    derTlv(TAG.OCTET_STRING, Buffer.from(nameHash, 'hex')),
    derTlv(TAG.OCTET_STRING, Buffer.from(keyHash, 'hex')),
    derTlv(TAG.INTEGER, Buffer.from(serial, 'hex')),
  );
}

describe('encodeOcspStatusResponse', () => {
  it.each([
    ['unauthorized', 6],
    ['malformedRequest', 1],
    ['tryLater', 3],
  ] as const)('writes a bare %s response that openssl reads', (status, code) => {
    const der = encodeOcspStatusResponse(status);
    expect(parseOcspResponse(der)).toEqual({ responseStatus: status, responses: [], certificateCount: 0 });
    // openssl prints the status and exits 1 for any response that is not successful.
    const run = spawnSync('openssl', ['ocsp', '-respin', dir.write(`${status}.der`, der), '-resp_text', '-noverify'], { encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).toContain(`Responder Error: ${status.toLowerCase()} (${code})`);
  });
});

describe('issuerHashes', () => {
  it('gives the issuer half of the SHA-1 and SHA-256 CertIDs openssl computes', () => {
    const hashes = issuerHashes(issuer.subjectNameDer, issuer.spkiDer);
    for (const hash of ['sha1', 'sha256'] as const) {
      const certId = certIdFor(leaf, issuer, hash);
      expect(hashes[hash]).toEqual({ issuerNameHash: certId.issuerNameHash, issuerKeyHash: certId.issuerKeyHash });
      const text = openssl(['ocsp', `-${hash}`, '-issuer', 'issuer.pem', '-cert', 'leaf.pem', '-no_nonce', '-req_text'], dir.path);
      expect(text).toContain(`Issuer Name Hash: ${hashes[hash].issuerNameHash.toUpperCase()}`);
      expect(text).toContain(`Issuer Key Hash: ${hashes[hash].issuerKeyHash.toUpperCase()}`);
    }
  });

  it('refuses a key that is not a SubjectPublicKeyInfo with malformed-certificate', () => {
    expect(() => issuerHashes(issuer.subjectNameDer, Buffer.from('nope'))).toThrow(
      expect.objectContaining({ name: 'OcspError', code: 'malformed-certificate' }),
    );
  });
});
