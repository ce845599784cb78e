import { generateKeyPairSync, sign } from 'node:crypto';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { OID } from './oids.js';
import { signatureSchemeOf, verifySignature } from './signature.js';

/** RSASSA-PSS-params (RFC 4055 3.1, explicit tags). */
function pssParams(hash: string, mgfHash: string, saltLength?: number): Buffer {
  const algorithm = (oid: string): asn1js.Sequence =>
    new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), new asn1js.Null()] });
  const tagged = (n: number, value: asn1js.AsnType): asn1js.Constructed =>
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: n }, value: [value] });
  const fields = [
    tagged(0, algorithm(hash)),
    tagged(1, new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.mgf1 }), algorithm(mgfHash)] })),
  ];
  if (saltLength !== undefined) fields.push(tagged(2, new asn1js.Integer({ value: saltLength })));
  return Buffer.from(new asn1js.Sequence({ value: fields }).toBER());
}

describe('signatureSchemeOf', () => {
  it('maps the supported OIDs', () => {
    expect(signatureSchemeOf({ oid: OID.ecdsaWithSHA384 })).toEqual({ kind: 'ecdsa', hash: 'sha384' });
    expect(signatureSchemeOf({ oid: OID.sha1WithRSAEncryption })).toEqual({ kind: 'rsa', hash: 'sha1' });
    expect(signatureSchemeOf({ oid: OID.ed25519 })).toEqual({ kind: 'ed25519' });
  });

  it('reads RSASSA-PSS parameters, with RFC 4055 defaults', () => {
    expect(signatureSchemeOf({ oid: OID.rsassaPss, params: pssParams(OID.sha256, OID.sha256, 32) })).toEqual({
      kind: 'rsa-pss',
      hash: 'sha256',
      saltLength: 32,
    });
    expect(signatureSchemeOf({ oid: OID.rsassaPss, params: pssParams(OID.sha256, OID.sha256) })).toEqual({
      kind: 'rsa-pss',
      hash: 'sha256',
      saltLength: 20,
    });
    expect(signatureSchemeOf({ oid: OID.rsassaPss })).toEqual({ kind: 'rsa-pss', hash: 'sha1', saltLength: 20 });
  });

  it.each([
    ['DSA with SHA-256', { oid: '2.16.840.1.101.3.4.3.2' }],
    ['MD5 with RSA', { oid: '1.2.840.113549.1.1.4' }],
    ['PSS with an MGF1 hash other than the message hash', { oid: OID.rsassaPss, params: pssParams(OID.sha256, OID.sha1) }],
  ])('rejects %s as unsupported-algorithm', (_what, algorithm) => {
    expect(() => signatureSchemeOf(algorithm)).toThrow(expect.objectContaining({ code: 'unsupported-algorithm', retryable: false }));
  });
});

describe('verifySignature', () => {
  const data = Buffer.from('tbsResponseData');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('verifies and refuses', () => {
    const signature = sign('sha256', data, ec.privateKey);
    expect(verifySignature({ kind: 'ecdsa', hash: 'sha256' }, data, ec.publicKey, signature)).toBe(true);
    expect(verifySignature({ kind: 'ecdsa', hash: 'sha256' }, Buffer.from('other'), ec.publicKey, signature)).toBe(false);
    expect(verifySignature({ kind: 'ecdsa', hash: 'sha256' }, data, ec.publicKey, Buffer.from('not DER'))).toBe(false);
  });

  it('is false, not a throw, when the key type does not fit the scheme', () => {
    const signature = sign('sha256', data, ec.privateKey);
    expect(verifySignature({ kind: 'rsa', hash: 'sha256' }, data, ec.publicKey, signature)).toBe(false);
  });
});
