/** Test certificates built with pkijs and signed with node:crypto (synchronous, no WebCrypto). */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID } from '../oids.js';
import {
  type TestKey,
  type TestKeyType,
  type TestSignatureAlgorithm,
  algorithmIdentifier,
  defaultAlgorithm,
  generateTestKey,
  signData,
} from './keys.js';

export interface TestCertificate {
  der: Buffer;
  pem: string;
  key: TestKey;
  /** The subject Name exactly as encoded (the issuer Name of what this certificate signs). */
  subjectName: pkijs.RelativeDistinguishedNames;
  /** Serial content octets. */
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
}

export interface TestCertificateOptions {
  /** Subject attributes, most general first: `{ O: 'Test', CN: 'example.com' }`. */
  subject: Readonly<Record<string, string>>;
  /** Signs the certificate; self-signed when absent. */
  issuer?: TestCertificate;
  key?: TestKey;
  keyType?: TestKeyType;
  /** Algorithm of the issuer's signature; the usual one for the issuer key by default. */
  signatureAlgorithm?: TestSignatureAlgorithm;
  serial?: Buffer;
  notBefore: Date;
  notAfter: Date;
  isCA?: boolean;
  dnsNames?: string[];
  ocspUrls?: string[];
  mustStaple?: boolean;
  ocspSigning?: boolean;
  /** Add SKI (and AKI when issued by another certificate). @defaultValue true */
  keyIdentifiers?: boolean;
}

const ATTRIBUTE_OIDS: Readonly<Record<string, string>> = { CN: OID.commonName, O: '2.5.4.10', OU: '2.5.4.11', C: '2.5.4.6' };

export function issueCertificate(opts: TestCertificateOptions): TestCertificate {
  const key = opts.key ?? generateTestKey(opts.keyType);
  const signerKey = opts.issuer?.key ?? key;
  const algorithm = opts.signatureAlgorithm ?? defaultAlgorithm(signerKey);
  const serial = opts.serial ?? randomSerial();
  const subjectName = encodeName(opts.subject);

  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: new Uint8Array(serial) });
  cert.signature = algorithmIdentifier(algorithm);
  cert.signatureAlgorithm = algorithmIdentifier(algorithm);
  cert.issuer = opts.issuer?.subjectName ?? subjectName;
  cert.subject = subjectName;
  cert.notBefore = new pkijs.Time({ type: 0, value: opts.notBefore });
  cert.notAfter = new pkijs.Time({ type: 0, value: opts.notAfter });
  cert.subjectPublicKeyInfo = new pkijs.PublicKeyInfo({ schema: asn1js.fromBER(new Uint8Array(key.spkiDer)).result });
  cert.extensions = extensions(opts, key, signerKey);

  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER());
  cert.signatureValue = new asn1js.BitString({ valueHex: new Uint8Array(signData(signerKey, algorithm, cert.tbsView)) });
  const der = Buffer.from(cert.toSchema().toBER());
  return { der, pem: toPem(der), key, subjectName, serial, notBefore: opts.notBefore, notAfter: opts.notAfter };
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** 16 random octets, positive and without a leading zero octet. */
function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x10;
  return serial;
}

/** One single-valued RDN per attribute (pkijs alone would build one multi-valued RDN). */
function encodeName(attributes: Readonly<Record<string, string>>): pkijs.RelativeDistinguishedNames {
  const rdns = Object.entries(attributes).map(([name, value]) => {
    const type = ATTRIBUTE_OIDS[name];
    if (!type) throw new Error(`unknown attribute ${name}`);
    const atv = new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: type }), new asn1js.Utf8String({ value })] });
    return new asn1js.Set({ value: [atv] });
  });
  const der = new asn1js.Sequence({ value: rdns }).toBER();
  return new pkijs.RelativeDistinguishedNames({ schema: asn1js.fromBER(der).result });
}

function keyIdentifier(key: TestKey): asn1js.OctetString {
  const spki = new pkijs.PublicKeyInfo({ schema: asn1js.fromBER(new Uint8Array(key.spkiDer)).result });
  const digest = createHash('sha1').update(spki.subjectPublicKey.valueBlock.valueHexView).digest();
  return new asn1js.OctetString({ valueHex: new Uint8Array(digest) });
}

function extension(extnID: string, value: { toSchema(): asn1js.AsnType } | asn1js.AsnType, critical = false): pkijs.Extension {
  const schema = 'toSchema' in value ? value.toSchema() : value;
  return new pkijs.Extension({ extnID, critical, extnValue: schema.toBER() });
}

function extensions(opts: TestCertificateOptions, key: TestKey, signerKey: TestKey): pkijs.Extension[] {
  const out: pkijs.Extension[] = [];
  if (opts.isCA) out.push(extension(OID.basicConstraints, new pkijs.BasicConstraints({ cA: true }), true));
  if (opts.keyIdentifiers ?? true) {
    out.push(extension(OID.subjectKeyIdentifier, keyIdentifier(key)));
    if (opts.issuer) {
      out.push(extension(OID.authorityKeyIdentifier, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: keyIdentifier(signerKey) })));
    }
  }
  if (opts.dnsNames?.length) {
    const altNames = opts.dnsNames.map((value) => new pkijs.GeneralName({ type: 2, value }));
    out.push(extension(OID.subjectAltName, new pkijs.AltName({ altNames })));
  }
  if (opts.ocspUrls?.length) {
    const accessDescriptions = opts.ocspUrls.map(
      (value) => new pkijs.AccessDescription({ accessMethod: OID.adOcsp, accessLocation: new pkijs.GeneralName({ type: 6, value }) }),
    );
    out.push(extension(OID.authorityInfoAccess, new pkijs.InfoAccess({ accessDescriptions })));
  }
  if (opts.ocspSigning) {
    out.push(extension(OID.extKeyUsage, new pkijs.ExtKeyUsage({ keyPurposes: [OID.kpOcspSigning] })));
  }
  if (opts.mustStaple) {
    out.push(extension(OID.tlsFeature, new asn1js.Sequence({ value: [new asn1js.Integer({ value: 5 })] })));
  }
  return out;
}
