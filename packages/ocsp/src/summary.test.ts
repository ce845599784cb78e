import { beforeAll, describe, expect, it } from 'vitest';
import { certIdFor } from './cert-id.js';
import { parseCertificates } from './certificate.js';
import { parseOcspResponse } from './summary.js';
import { type TestPki, buildOcspResponse, buildUnsuccessfulResponse, createTestPki } from './testing/index.js';
import type { CertId } from './types.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
let pki: TestPki;
let certId: CertId;

beforeAll(() => {
  pki = createTestPki({ now: NOW });
  const [leaf, issuer] = parseCertificates(`${pki.leaf().pem}${pki.issuer.pem}`);
  certId = certIdFor(leaf!, issuer!);
});

describe('parseOcspResponse', () => {
  it('summarises a successful response without verifying it', () => {
    const der = buildOcspResponse({
      certId,
      status: 'revoked',
      revocationTime: new Date(NOW - 1000),
      revocationReason: 4,
      thisUpdate: new Date(NOW),
      nextUpdate: new Date(NOW + 3_600_000),
      producedAt: new Date(NOW + 1000),
      signer: { key: pki.responder.key, cert: pki.responder },
      certs: [pki.responder],
      tamperAfterSigning: true, // not verified: still summarised
    });
    expect(parseOcspResponse(der)).toEqual({
      responseStatus: 'successful',
      producedAt: new Date(NOW + 2000),
      responses: [
        {
          certId,
          status: 'revoked',
          revocationTime: new Date(NOW - 1000),
          revocationReason: 'superseded',
          thisUpdate: new Date(NOW),
          nextUpdate: new Date(NOW + 3_600_000),
        },
      ],
      certificateCount: 1,
    });
  });

  it('reports a non-successful status', () => {
    expect(parseOcspResponse(buildUnsuccessfulResponse('tryLater'))).toEqual({
      responseStatus: 'tryLater',
      responses: [],
      certificateCount: 0,
    });
  });

  it('throws malformed on garbage', () => {
    expect(() => parseOcspResponse(Buffer.from('0\x03abc', 'latin1'))).toThrow(expect.objectContaining({ code: 'malformed' }));
  });
});
