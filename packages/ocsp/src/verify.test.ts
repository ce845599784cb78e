import { beforeAll, describe, expect, it } from 'vitest';
import { certIdFor } from './cert-id.js';
import { parseCertificates } from './certificate.js';
import { buildTarget } from './target.js';
import {
  type TestPki,
  type TestResponseOptions,
  buildOcspResponse,
  buildUnsuccessfulResponse,
  createTestPki,
  generateTestKey,
  issueCertificate,
} from './testing/index.js';
import type { CertId, ParsedCertificate } from './types.js';
import { OcspVerifier, type VerifyExpectation } from './verify.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

let pki: TestPki;
let leaf: ParsedCertificate;
let certId: CertId;
let expectation: VerifyExpectation;

beforeAll(() => {
  pki = createTestPki({ now: NOW, responderNotAfter: new Date(NOW + 2 * DAY) });
  leaf = parseCertificates(pki.leaf({ notAfter: new Date(NOW + 90 * DAY) }).pem)[0]!;
  const issuer = parseCertificates(pki.issuer.pem)[0]!;
  certId = certIdFor(leaf, issuer);
  expectation = { certId, issuerSpki: issuer.spkiDer.toString('base64'), certNotAfter: leaf.notAfter.getTime() };
});

/** A response signed by the issuing CA, thisUpdate an hour ago, nextUpdate in 7 days. */
function respond(overrides: Partial<TestResponseOptions> = {}): Buffer {
  return buildOcspResponse({
    certId,
    status: 'good',
    thisUpdate: new Date(NOW - HOUR),
    nextUpdate: new Date(NOW + 7 * DAY),
    signer: { key: pki.issuer.key, cert: pki.issuer },
    ...overrides,
  });
}

/** Delegated signer fields for `respond`. */
function delegated(responder = pki.responder): Partial<TestResponseOptions> {
  return { signer: { key: responder.key, cert: responder }, certs: [responder] };
}

function verify(der: Buffer, now = NOW, verifier = new OcspVerifier()): ReturnType<OcspVerifier['verify']> {
  return verifier.verify(der, expectation, now);
}

function expectCode(fn: () => unknown, code: string, retryable?: boolean): void {
  expect(fn).toThrow(expect.objectContaining({ name: 'OcspError', code, ...(retryable !== undefined && { retryable }) }));
}

describe('OcspVerifier: good, revoked, unknown', () => {
  it('returns a Staple for a good response signed by the issuer', () => {
    const der = respond({ producedAt: new Date(NOW - 30 * MINUTE) });
    const staple = verify(der);
    expect(staple).toEqual({
      der,
      status: 'good',
      thisUpdate: new Date(NOW - HOUR),
      nextUpdate: new Date(NOW + 7 * DAY),
      producedAt: new Date(NOW - 30 * MINUTE),
      expiresAt: new Date(NOW + 7 * DAY),
      certId,
      signer: 'issuer',
    });
    expect(staple.der).toBe(der);
  });

  it('accepts a ResponderID by name and the issuer key given as a Buffer', () => {
    const der = respond({ responderId: 'byName' });
    const staple = new OcspVerifier().verify(der, { ...expectation, issuerSpki: pki.issuer.key.spkiDer }, NOW);
    expect(staple.signer).toBe('issuer');
  });

  it('takes a StapleTarget from buildTarget as the expectation', () => {
    const target = buildTarget(leaf, parseCertificates(pki.issuer.pem)[0]!);
    const staple = new OcspVerifier().verify(respond(), target, NOW);
    expect(staple.certId).toEqual(target.certId);
    expect(staple.expiresAt).toEqual(new Date(NOW + 7 * DAY));
  });

  it('maps revoked with time and reason', () => {
    const staple = verify(respond({ status: 'revoked', revocationTime: new Date(NOW - DAY), revocationReason: 1 }));
    expect(staple.status).toBe('revoked');
    expect(staple.revocationTime).toEqual(new Date(NOW - DAY));
    expect(staple.revocationReason).toBe('keyCompromise');
  });

  it('maps revoked without a reason', () => {
    const staple = verify(respond({ status: 'revoked', revocationTime: new Date(NOW - DAY) }));
    expect(staple.status).toBe('revoked');
    expect(staple).not.toHaveProperty('revocationReason');
  });

  it('maps unknown', () => {
    expect(verify(respond({ status: 'unknown' })).status).toBe('unknown');
  });

  it('finds our SingleResponse among several', () => {
    const other = { ...certId, serialNumber: '0badc0de' };
    const der = respond({
      others: [{ certId: other, status: 'revoked', thisUpdate: new Date(NOW - HOUR), nextUpdate: new Date(NOW + DAY) }],
    });
    expect(verify(der).status).toBe('good');
  });

  it.each(['p384', 'rsa2048', 'ed25519'] as const)('verifies a %s issuer signature', (keyType) => {
    const other = createTestPki({ now: NOW, keyType });
    const [otherLeaf, otherIssuer] = parseCertificates(`${other.leaf().pem}${other.issuer.pem}`) as [ParsedCertificate, ParsedCertificate];
    const id = certIdFor(otherLeaf, otherIssuer);
    const algorithms =
      keyType === 'rsa2048' ? (['rsa-sha256', 'rsa-sha1', 'rsa-sha384', 'rsa-sha512', 'rsa-pss-sha256'] as const) : ([undefined] as const);
    for (const signatureAlgorithm of algorithms) {
      const der = respond({ certId: id, signer: { key: other.issuer.key }, ...(signatureAlgorithm && { signatureAlgorithm }) });
      const staple = new OcspVerifier().verify(der, { certId: id, issuerSpki: otherIssuer.spkiDer }, NOW);
      expect(staple.status, signatureAlgorithm).toBe('good');
    }
  });
});

describe('OcspVerifier: delegated responders', () => {
  it('accepts a responder certificate issued by the CA with EKU OCSPSigning, capping expiresAt at its notAfter', () => {
    const staple = verify(respond(delegated()));
    expect(staple.signer).toBe('delegated');
    expect(staple.expiresAt).toEqual(pki.responder.notAfter);
  });

  it('checks the cached responder certificate against `now` on every response', () => {
    const verifier = new OcspVerifier();
    expect(verify(respond(delegated()), NOW, verifier).signer).toBe('delegated');
    const afterResponderExpiry = pki.responder.notAfter.getTime() + HOUR;
    expectCode(() => verify(respond(delegated()), afterResponderExpiry, verifier), 'unauthorized-signer');
  });

  it('treats an included CA certificate named by the ResponderID as the issuer', () => {
    expect(verify(respond({ responderId: 'byName', certs: [pki.issuer] })).signer).toBe('issuer');
  });

  it('rejects a signature by a random key', () => {
    expectCode(() => verify(respond({ signer: { key: generateTestKey() } })), 'unauthorized-signer', false);
  });

  it('rejects a delegated certificate without EKU OCSPSigning', () => {
    const noEku = issueCertificate({
      subject: { CN: 'not a responder' },
      issuer: pki.issuer,
      notBefore: new Date(NOW - DAY),
      notAfter: new Date(NOW + DAY),
    });
    expectCode(() => verify(respond(delegated(noEku))), 'unauthorized-signer');
  });

  it('rejects a delegated certificate issued by another CA', () => {
    expectCode(() => verify(respond(delegated(createTestPki({ now: NOW }).responder))), 'unauthorized-signer');
  });

  it('rejects a responder certificate self-signed under the CA name', () => {
    const selfSigned = issueCertificate({
      subject: { O: 'Staplewarm Test', CN: 'Staplewarm Test Issuing CA' },
      ocspSigning: true,
      notBefore: new Date(NOW - DAY),
      notAfter: new Date(NOW + DAY),
    });
    expectCode(() => verify(respond({ ...delegated(selfSigned), responderId: 'byKey' })), 'unauthorized-signer');
  });

  it('rejects a delegated responder outside its validity period', () => {
    const notYet = issueCertificate({
      subject: { CN: 'future responder' },
      issuer: pki.issuer,
      ocspSigning: true,
      notBefore: new Date(NOW + HOUR),
      notAfter: new Date(NOW + DAY),
    });
    expectCode(() => verify(respond(delegated(notYet))), 'unauthorized-signer');
  });

  it('rejects a delegated response whose responder certificate is not included', () => {
    expectCode(() => verify(respond({ signer: { key: pki.responder.key, cert: pki.responder } })), 'unauthorized-signer');
  });
});

describe('OcspVerifier: errors', () => {
  it.each([
    ['garbage', Buffer.from('<html>rate limited</html>')],
    ['a truncated response', () => respond().subarray(0, 100)],
    ['trailing bytes', () => Buffer.concat([respond(), Buffer.from([0])])],
    ['an empty body', Buffer.alloc(0)],
  ])('malformed: %s', (_what, input) => {
    const der = typeof input === 'function' ? input() : input;
    expectCode(() => verify(der), 'malformed', true);
  });

  it.each([
    ['tryLater', true],
    ['internalError', true],
    ['unauthorized', false],
    ['malformedRequest', false],
    ['sigRequired', false],
  ] as const)('unsuccessful:%s (retryable: %s)', (status, retryable) => {
    expectCode(() => verify(buildUnsuccessfulResponse(status)), `unsuccessful:${status}`, retryable);
  });

  it('certid-mismatch: a response for another serial', () => {
    expectCode(() => verify(respond({ certId: { ...certId, serialNumber: '0badc0de' } })), 'certid-mismatch', false);
  });

  it('certid-mismatch: a response with another CertID hash algorithm', () => {
    const issuer = parseCertificates(pki.issuer.pem)[0]!;
    expectCode(() => verify(respond({ certId: certIdFor(leaf, issuer, 'sha256') })), 'certid-mismatch');
  });

  it('bad-signature: a byte of tbsResponseData changed after signing', () => {
    expectCode(() => verify(respond({ tamperAfterSigning: true })), 'bad-signature', false);
    expectCode(() => verify(respond({ ...delegated(), tamperAfterSigning: true })), 'bad-signature');
  });

  it('bad-signature: the named signer key does not fit the signature algorithm', () => {
    expectCode(() => verify(respond({ signatureAlgorithm: 'rsa-sha256' })), 'bad-signature');
  });

  it('not-yet-valid: thisUpdate beyond the clock skew, accepted within it', () => {
    expectCode(() => verify(respond({ thisUpdate: new Date(NOW + 6 * MINUTE) })), 'not-yet-valid', true);
    expect(verify(respond({ thisUpdate: new Date(NOW + 4 * MINUTE) })).status).toBe('good');
    const strict = new OcspVerifier({ clockSkewMs: 0 });
    expectCode(() => verify(respond({ thisUpdate: new Date(NOW + 1000) }), NOW, strict), 'not-yet-valid');
  });

  it('not-yet-valid: producedAt beyond the clock skew', () => {
    expectCode(() => verify(respond({ producedAt: new Date(NOW + HOUR) })), 'not-yet-valid');
  });

  it('expired: nextUpdate at or before now', () => {
    expectCode(() => verify(respond({ nextUpdate: new Date(NOW - 1000) })), 'expired', true);
    expectCode(() => verify(respond({ nextUpdate: new Date(NOW) })), 'expired');
  });

  it('no-next-update', () => {
    expectCode(() => verify(respond({ nextUpdate: null })), 'no-next-update', false);
  });

  it('malformed-certificate: the expected issuer key is not a public key', () => {
    expectCode(() => new OcspVerifier().verify(respond(), { ...expectation, issuerSpki: 'AAAA' }, NOW), 'malformed-certificate');
  });
});

describe('OcspVerifier: expiresAt', () => {
  it('is capped by the certificate notAfter', () => {
    const certNotAfter = NOW + 2 * DAY;
    const staple = new OcspVerifier().verify(respond(), { ...expectation, certNotAfter }, NOW);
    expect(staple.expiresAt).toEqual(new Date(certNotAfter));
    expect(staple.nextUpdate).toEqual(new Date(NOW + 7 * DAY));
  });

  it('is nextUpdate when it comes first', () => {
    const staple = verify(respond({ nextUpdate: new Date(NOW + DAY) }));
    expect(staple.expiresAt).toEqual(new Date(NOW + DAY));
  });
});
