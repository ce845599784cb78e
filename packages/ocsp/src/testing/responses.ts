/**
 * Test OCSP responses: pkijs BasicOCSPResponse/OCSPResponse structures signed with node:crypto,
 * with a knob for every way a response can be wrong.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID } from '../oids.js';
import type { CertId, OcspResponseStatus } from '../types.js';
import type { TestCertificate } from './certificates.js';
import { type TestKey, type TestSignatureAlgorithm, algorithmIdentifier, defaultAlgorithm, signData } from './keys.js';

const RESPONSE_STATUS_CODES: Readonly<Record<'successful' | OcspResponseStatus, number>> = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
};

export interface TestSingleResponse {
  certId: CertId;
  status?: 'good' | 'revoked' | 'unknown';
  revocationTime?: Date;
  /** CRLReason code (RFC 5280 5.3.1), e.g. 1 = keyCompromise. */
  revocationReason?: number;
  thisUpdate: Date;
  /** Omitted from the response when null. */
  nextUpdate: Date | null;
}

export interface TestResponseOptions extends TestSingleResponse {
  /** The key that signs; `cert` (when given) is the responder's certificate. */
  signer: { key: TestKey; cert?: TestCertificate };
  /** ResponderID form; byName needs `signer.cert`. @defaultValue 'byKey' */
  responderId?: 'byKey' | 'byName';
  /** Certificates to include in `certs` (the delegated responder's, usually). */
  certs?: TestCertificate[];
  producedAt?: Date;
  signatureAlgorithm?: TestSignatureAlgorithm;
  /** More SingleResponses (before the main one), as a multi-certificate response would carry. */
  others?: TestSingleResponse[];
  /** Change producedAt by one second after signing: the signature no longer matches. */
  tamperAfterSigning?: boolean;
}

/** A DER OCSPResponse (successful, id-pkix-ocsp-basic). */
export function buildOcspResponse(opts: TestResponseOptions): Buffer {
  const algorithm = opts.signatureAlgorithm ?? defaultAlgorithm(opts.signer.key);
  const producedAt = opts.producedAt ?? opts.thisUpdate;
  const responseData = (produced: Date): pkijs.ResponseData =>
    new pkijs.ResponseData({
      responderID: responderId(opts),
      producedAt: wholeSeconds(produced),
      responses: [...(opts.others ?? []), opts].map(singleResponse),
    });

  const signed = responseData(producedAt);
  signed.tbsView = new Uint8Array(signed.toSchema(true).toBER());
  const signature = signData(opts.signer.key, algorithm, signed.tbsView);
  const sent = opts.tamperAfterSigning ? responseData(new Date(producedAt.getTime() + 1000)) : signed;
  sent.tbsView = new Uint8Array(sent.toSchema(true).toBER());

  const basic = new pkijs.BasicOCSPResponse({
    tbsResponseData: sent,
    signatureAlgorithm: algorithmIdentifier(algorithm),
    signature: new asn1js.BitString({ valueHex: new Uint8Array(signature) }),
    ...(opts.certs?.length && {
      certs: opts.certs.map((c) => new pkijs.Certificate({ schema: asn1js.fromBER(new Uint8Array(c.der)).result })),
    }),
  });
  return encodeResponse('successful', basic.toSchema().toBER());
}

/** An OCSPResponse with a non-successful status and no responseBytes. */
export function buildUnsuccessfulResponse(status: OcspResponseStatus): Buffer {
  return encodeResponse(status);
}

function encodeResponse(status: 'successful' | OcspResponseStatus, basicDer?: ArrayBuffer): Buffer {
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: RESPONSE_STATUS_CODES[status] }),
    ...(basicDer && {
      responseBytes: new pkijs.ResponseBytes({
        responseType: OID.pkixOcspBasic,
        response: new asn1js.OctetString({ valueHex: basicDer }),
      }),
    }),
  });
  return Buffer.from(response.toSchema().toBER());
}

/** ResponderID: byName [1] Name, or byKey [2] SHA-1 of the signer's key bits. */
function responderId(opts: TestResponseOptions): pkijs.RelativeDistinguishedNames | asn1js.OctetString {
  if (opts.responderId === 'byName') {
    if (!opts.signer.cert) throw new Error('responderId byName needs signer.cert');
    return opts.signer.cert.subjectName;
  }
  const spki = new pkijs.PublicKeyInfo({ schema: asn1js.fromBER(new Uint8Array(opts.signer.key.spkiDer)).result });
  const keyHash = createHash('sha1').update(spki.subjectPublicKey.valueBlock.valueHexView).digest();
  return new asn1js.OctetString({ valueHex: new Uint8Array(keyHash) });
}

function singleResponse(single: TestSingleResponse): pkijs.SingleResponse {
  return new pkijs.SingleResponse({
    certID: new pkijs.CertID({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: single.certId.hashAlgorithm === 'sha1' ? OID.sha1 : OID.sha256,
        algorithmParams: new asn1js.Null(),
      }),
      issuerNameHash: new asn1js.OctetString({ valueHex: hex(single.certId.issuerNameHash) }),
      issuerKeyHash: new asn1js.OctetString({ valueHex: hex(single.certId.issuerKeyHash) }),
      serialNumber: new asn1js.Integer({ valueHex: hex(single.certId.serialNumber) }),
    }),
    certStatus: certStatus(single),
    thisUpdate: wholeSeconds(single.thisUpdate),
    ...(single.nextUpdate && { nextUpdate: wholeSeconds(single.nextUpdate) }),
  });
}

/** CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL } */
function certStatus(single: TestSingleResponse): asn1js.AsnType {
  switch (single.status ?? 'good') {
    case 'good':
      return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
    case 'unknown':
      return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
    case 'revoked': {
      const value: asn1js.AsnType[] = [new asn1js.GeneralizedTime({ valueDate: wholeSeconds(single.revocationTime ?? single.thisUpdate) })];
      if (single.revocationReason !== undefined) {
        value.push(
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 0 },
            value: [new asn1js.Enumerated({ value: single.revocationReason })],
          }),
        );
      }
      return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value });
    }
  }
}

/** asn1js writes milliseconds into GeneralizedTime when present; RFC 5280 profiles want whole seconds. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function hex(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value, 'hex'));
}
