/**
 * Oracles for the differential fuzz test: what independent parsers make of the same bytes, reduced
 * to the fields staplewarm reads. Certificates: node:crypto's X509Certificate (OpenSSL) decides
 * acceptance and the validity times; asn1js/pkijs give the fields X509Certificate does not expose.
 * OCSP responses: asn1js/pkijs (node:crypto has no OCSP parser).
 *
 * Where an oracle is laxer than the standards in a way the comparison cannot use, the wrapper
 * tightens it, and each such rule is named in the rejection's `by` so the test can count it:
 * - `asn1js-trailing`: asn1js.fromBER ignores bytes after the first element; the wrapper rejects them.
 * - `openssl-trailing`: X509Certificate ignores bytes after the certificate; the wrapper compares `raw`.
 * - `openssl-time`: X509Certificate accepts a certificate whose validity reads "Bad time value".
 * - `openssl-extension`: X509Certificate decodes extensions lazily; a subjectAltName, AIA or EKU
 *   that OpenSSL cannot decode reads as null, which the wrapper treats as a rejection.
 * - `pkijs-extension`: pkijs records a parsingError instead of throwing for a malformed extension.
 * - `duplicate-extension`: RFC 5280 4.2 allows one instance of an extension; OpenSSL and pkijs take more.
 * - `pkijs-extra-element`: pkijs' schema matching ignores elements after the last one it expects.
 * - `pkijs-name-value`: pkijs takes a Name attribute value of any type; OpenSSL only ASN1_PRINTABLE's.
 * - `rfc-enumeration`: values RFC 6960 / RFC 5280 do not define (responseStatus 4, CRLReason 7...),
 *   a non-basic responseType, and good/unknown CertStatus with content, which pkijs accepts.
 * - `oracle-crash`: pkijs throws a TypeError (not a schema error) on some valid inputs, such as an
 *   empty `responses` list: no verdict, and the test counts it apart.
 * Huge OID arcs, which asn1js writes as `{hex}`, are normalized to decimal (normalizeOid).
 */
import { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID } from '../oids.js';

export type Verdict<T> = { ok: true; value: T } | { ok: false; by: string; why: string };

/** The certificate fields staplewarm uses (hex for bytes, epoch ms for times). */
export interface CertificateView {
  serial: string;
  issuerNameDer: string;
  subjectNameDer: string;
  spkiDer: string;
  notBefore: number;
  notAfter: number;
  isCA: boolean;
  subjectKeyId?: string;
  authorityKeyId?: string;
  sanDnsNames: string[];
  ocspUrls: string[];
  mustStaple: boolean;
  ocspSigning: boolean;
}

/** The OCSP response fields staplewarm uses. */
export interface ResponseView {
  responseStatus: string;
  basic?: {
    tbsResponseData: string;
    responderId: { byName: string } | { byKey: string };
    producedAt: number;
    responses: SingleView[];
    signatureAlgorithm: string;
    signature: string;
    certs: string[];
  };
}

export interface SingleView {
  certId: { hashAlgorithmOid: string; issuerNameHash: string; issuerKeyHash: string; serialNumber: string };
  status: 'good' | 'revoked' | 'unknown';
  revocationTime?: number;
  revocationReason?: string;
  thisUpdate: number;
  nextUpdate?: number;
}

class Rejected extends Error {
  constructor(
    readonly by: string,
    why: string,
  ) {
    super(why);
  }
}

function reject(by: string, why: string): never {
  throw new Rejected(by, why);
}

function verdict<T>(run: () => T, by: string): Verdict<T> {
  try {
    return { ok: true, value: run() };
  } catch (err) {
    if (err instanceof Rejected) return { ok: false, by: err.by, why: err.message };
    // pkijs reports schema mismatches as Errors; a TypeError is pkijs itself failing (an empty
    // `responses` list, an empty extKeyUsage): the oracle has no verdict on such an input.
    if (err instanceof TypeError) return { ok: false, by: 'oracle-crash', why: err.message };
    return { ok: false, by, why: err instanceof Error ? err.message : String(err) };
  }
}

/** asn1js writes an arc too large for a number as `{hex of its 7-bit groups}`; the reader writes decimal. */
export function normalizeOid(oid: string): string {
  return oid.replace(/\{([0-9a-f]+)\}/g, (_, hex: string) => {
    let value = 0n;
    for (let i = 0; i < hex.length; i += 2) value = value * 128n + BigInt(parseInt(hex.slice(i, i + 2), 16) & 0x7f);
    return value.toString();
  });
}

const hex = (view: ArrayBuffer | Uint8Array): string =>
  Buffer.from(view instanceof Uint8Array ? view : new Uint8Array(view)).toString('hex');

/** asn1js.fromBER of exactly one element (asn1js alone ignores trailing bytes). */
export function fromBerExactly(bytes: Uint8Array, what: string): asn1js.AsnType {
  const copy = new Uint8Array(bytes);
  const parsed = asn1js.fromBER(copy);
  if (parsed.offset === -1) reject('asn1js', `${what}: ${parsed.result.error}`);
  if (parsed.offset !== copy.byteLength) reject('asn1js-trailing', `${what}: ${copy.byteLength - parsed.offset} trailing bytes`);
  return parsed.result;
}

/** The elements of a constructed asn1js block. */
function items(block: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  const value = (block as asn1js.Constructed | undefined)?.valueBlock?.value;
  if (!Array.isArray(value)) reject('asn1js', `${what}: not constructed`);
  return value;
}

function encodingOf(block: asn1js.AsnType): string {
  return hex(block.valueBeforeDecodeView);
}

// ---------------------------------------------------------------------------------------------
// Certificates

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** OpenSSL's ASN1_TIME_print form ("Jan  1 00:00:00.5 2026 GMT") to epoch ms; undefined for "Bad time value". */
export function parseOpensslTime(text: string): number | undefined {
  const match = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? (\d+) GMT$/.exec(text);
  if (!match) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(Number(match[7]), MONTHS.indexOf(match[1]!), Number(match[2]));
  date.setUTCHours(Number(match[3]), Number(match[4]), Number(match[5]), Number((match[6] ?? '').padEnd(3, '0').slice(0, 3)));
  return date.getTime();
}

/** Every extension staplewarm reads, by OID. */
const USED_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.subjectAltName,
  OID.authorityInfoAccess,
  OID.extKeyUsage,
  OID.tlsFeature,
]);

/** What OpenSSL (acceptance, times, EKU) and pkijs (names, SPKI, extensions) read from `der`. */
export function certificateOracle(der: Buffer): Verdict<CertificateView> {
  return verdict(() => readCertificate(der), 'oracle');
}

function readCertificate(der: Buffer): CertificateView {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (err) {
    return reject('openssl', err instanceof Error ? err.message : String(err));
  }
  if (x509.raw.length !== der.length) reject('openssl-trailing', `${der.length - x509.raw.length} bytes after the certificate`);
  const notBefore = parseOpensslTime(x509.validFrom);
  const notAfter = parseOpensslTime(x509.validTo);
  if (notBefore === undefined || notAfter === undefined) reject('openssl-time', `validity ${x509.validFrom} .. ${x509.validTo}`);

  const root = fromBerExactly(der, 'Certificate');
  let cert: pkijs.Certificate;
  try {
    cert = new pkijs.Certificate({ schema: root });
  } catch (err) {
    return reject('pkijs', err instanceof Error ? err.message : String(err));
  }
  const tbs = items(items(root, 'Certificate')[0], 'TBSCertificate');
  const at = tbs[0]?.idBlock.tagClass === 3 ? 1 : 0;
  const view: CertificateView = {
    serial: hex(cert.serialNumber.valueBlock.valueHexView),
    issuerNameDer: hex(cert.issuer.valueBeforeDecode),
    subjectNameDer: hex(cert.subject.valueBeforeDecode),
    spkiDer: encodingOf(tbs[at + 5]!),
    notBefore,
    notAfter,
    isCA: false,
    sanDnsNames: [],
    ocspUrls: [],
    mustStaple: false,
    ocspSigning: false,
  };
  const seen = new Set<string>();
  for (const extension of cert.extensions ?? []) {
    // RFC 5280 4.2: one instance of an extension at most (OpenSSL and pkijs take several).
    if (seen.has(extension.extnID)) reject('duplicate-extension', `extension ${extension.extnID} appears twice`);
    seen.add(extension.extnID);
    if (USED_EXTENSIONS.has(extension.extnID)) readExtension(extension.extnID, extension.extnValue.valueBlock.valueHexView, view, x509);
  }
  return view;
}

function readExtension(id: string, value: Uint8Array, view: CertificateView, x509: X509Certificate): void {
  const parse = <T>(make: (schema: asn1js.AsnType) => T): T => {
    const schema = fromBerExactly(value, `extension ${id}`);
    const parsed = make(schema);
    if ((parsed as { parsingError?: string }).parsingError) reject('pkijs-extension', `extension ${id}`);
    return parsed;
  };
  const attempt = <T>(make: (schema: asn1js.AsnType) => T): T =>
    parse((schema) => {
      try {
        return make(schema);
      } catch (err) {
        if (err instanceof TypeError) throw err; // pkijs failing, not judging: oracle-crash
        return reject('pkijs-extension', `extension ${id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  switch (id) {
    case OID.basicConstraints: {
      const bc = attempt((schema) => new pkijs.BasicConstraints({ schema }));
      view.isCA = bc.cA === true;
      if (x509.ca !== view.isCA) reject('openssl-extension', `basicConstraints: OpenSSL reads ca=${x509.ca}, pkijs cA=${bc.cA}`);
      break;
    }
    case OID.subjectKeyIdentifier: {
      const ski = attempt((schema) => {
        if (!(schema instanceof asn1js.OctetString) || schema.idBlock.isConstructed) throw new Error('not a primitive OCTET STRING');
        return schema;
      });
      view.subjectKeyId = hex(ski.valueBlock.valueHexView);
      break;
    }
    case OID.authorityKeyIdentifier: {
      const aki = attempt((schema) => new pkijs.AuthorityKeyIdentifier({ schema }));
      if (aki.keyIdentifier) view.authorityKeyId = hex(aki.keyIdentifier.valueBlock.valueHexView);
      // [2] IMPLICIT INTEGER: pkijs takes an empty or padded one, which OpenSSL refuses when it decodes the AKI.
      const serial = aki.authorityCertSerialNumber?.valueBlock.valueHexView;
      if (
        serial &&
        (serial.length === 0 ||
          (serial.length > 1 && ((serial[0] === 0 && serial[1]! < 0x80) || (serial[0] === 0xff && serial[1]! >= 0x80))))
      ) {
        reject('pkijs-extension', 'authorityCertSerialNumber is not a DER INTEGER');
      }
      break;
    }
    case OID.subjectAltName: {
      if (x509.subjectAltName == null) reject('openssl-extension', 'subjectAltName does not decode in OpenSSL');
      const san = attempt((schema) => new pkijs.AltName({ schema }));
      view.sanDnsNames = san.altNames.filter((name) => name.type === 2).map((name) => String(name.value).toLowerCase());
      break;
    }
    case OID.authorityInfoAccess: {
      if (x509.infoAccess == null) reject('openssl-extension', 'authorityInfoAccess does not decode in OpenSSL');
      const aia = attempt((schema) => new pkijs.InfoAccess({ schema }));
      view.ocspUrls = aia.accessDescriptions
        .filter((desc) => desc.accessMethod === OID.adOcsp && desc.accessLocation.type === 6)
        .map((desc) => String(desc.accessLocation.value));
      break;
    }
    case OID.extKeyUsage:
      // OpenSSL's list (X509Certificate.keyUsage): pkijs throws on an empty one. OpenSSL ignores
      // bytes after the value, so asn1js checks there are none.
      fromBerExactly(value, `extension ${id}`);
      if (x509.keyUsage == null) reject('openssl-extension', 'extKeyUsage does not decode in OpenSSL');
      view.ocspSigning = x509.keyUsage.includes(OID.kpOcspSigning);
      break;
    case OID.tlsFeature: {
      // RFC 7633: Features ::= SEQUENCE OF INTEGER. Neither OpenSSL nor pkijs decodes it: asn1js does.
      const features = attempt((schema) => {
        if (!(schema instanceof asn1js.Sequence)) throw new Error('not a SEQUENCE');
        return schema.valueBlock.value.map((feature) => {
          if (!(feature instanceof asn1js.Integer) || feature.valueBlock.valueHexView.length === 0) throw new Error('not an INTEGER');
          return signedValue(feature.valueBlock.valueHexView);
        });
      });
      view.mustStaple = features.includes(5n);
      break;
    }
  }
}

/** Two's complement content octets to a BigInt. */
export function signedValue(octets: Uint8Array): bigint {
  let value = 0n;
  for (const octet of octets) value = value * 256n + BigInt(octet);
  return octets.length > 0 && octets[0]! & 0x80 ? value - (1n << BigInt(8 * octets.length)) : value;
}

// ---------------------------------------------------------------------------------------------
// OCSP responses

const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', undefined, 'sigRequired', 'unauthorized'];
const REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

/** What asn1js/pkijs read from an OCSPResponse, with the RFC's enumerations applied. */
export function responseOracle(der: Buffer): Verdict<ResponseView> {
  return verdict(() => readResponse(der), 'pkijs');
}

function readResponse(der: Buffer): ResponseView {
  const root = fromBerExactly(der, 'OCSPResponse');
  const response = new pkijs.OCSPResponse({ schema: root });
  maxItems(root, 2, 'OCSPResponse');
  const statusBlock = response.responseStatus;
  if (statusBlock.valueBlock.valueHexView.length === 0) reject('asn1js', 'empty responseStatus');
  const code = Number(signedValue(statusBlock.valueBlock.valueHexView));
  const responseStatus = RESPONSE_STATUS[code];
  if (responseStatus === undefined) reject('rfc-enumeration', `responseStatus ${code}`);
  if (responseStatus !== 'successful') return { responseStatus };
  if (!response.responseBytes) reject('pkijs', 'successful without responseBytes');
  maxItems(items(root, 'OCSPResponse')[1], 1, 'responseBytes [0]');
  maxItems(items(items(root, 'OCSPResponse')[1], 'responseBytes [0]')[0], 2, 'ResponseBytes');
  if (response.responseBytes.responseType !== OID.pkixOcspBasic)
    reject('rfc-enumeration', `responseType ${response.responseBytes.responseType}`);
  const octets = response.responseBytes.response;
  if (octets.idBlock.isConstructed) reject('asn1js', 'constructed response OCTET STRING');
  const basicRoot = fromBerExactly(octets.valueBlock.valueHexView, 'BasicOCSPResponse');
  if (!(basicRoot instanceof asn1js.Sequence)) reject('pkijs', 'BasicOCSPResponse is not a SEQUENCE');
  maxItems(basicRoot, 4, 'BasicOCSPResponse');
  // pkijs reads the response without `certs`; each certificate is judged by certificateOracle (OpenSSL
  // and pkijs) instead, so a response's certificates get the same oracle as a certificate file.
  const [tbsBlock, algorithmBlock, signatureBlock, certsBlock] = items(basicRoot, 'BasicOCSPResponse');
  const withoutCerts = new asn1js.Sequence({ value: [tbsBlock, algorithmBlock, signatureBlock].filter((b) => b !== undefined) });
  const basic = new pkijs.BasicOCSPResponse({ schema: withoutCerts });
  const tbsItems = items(tbsBlock, 'ResponseData');
  maxItems(tbsBlock, tbsItems[0]?.idBlock.tagClass === 3 && tbsItems[0].idBlock.tagNumber === 0 ? 5 : 4, 'ResponseData');
  const tbs = basic.tbsResponseData;
  checkResponseShapes(tbsItems, items(basicRoot, 'BasicOCSPResponse')[1]!);
  const responderId =
    tbs.responderID instanceof pkijs.RelativeDistinguishedNames
      ? { byName: hex(tbs.responderID.valueBeforeDecode) }
      : { byKey: hex((tbs.responderID as asn1js.OctetString).valueBlock.valueHexView) };
  const responsesBlock = tbsItems.find((item) => item.idBlock.tagClass === 1 && item.idBlock.tagNumber === 16);
  const certs = certsBlock ? readCerts(certsBlock) : [];
  return {
    responseStatus,
    basic: {
      tbsResponseData: encodingOf(tbsBlock!),
      responderId,
      producedAt: time(
        generalizedTime(tbsItems[tbsItems[0]?.idBlock.tagClass === 3 && tbsItems[0].idBlock.tagNumber === 0 ? 2 : 1], 'producedAt'),
      ),
      responses: tbs.responses.map((single, i) => readSingle(single, items(responsesBlock, 'responses')[i]!)),
      signatureAlgorithm: normalizeOid(basic.signatureAlgorithm.algorithmId),
      signature: hex(basic.signature.valueBlock.valueHexView),
      certs,
    },
  };
}

/**
 * The element counts RFC 6960's syntax fixes and pkijs does not check: EXPLICIT wrappers hold one
 * element, an AlgorithmIdentifier two at most (NULL parameters empty), an AttributeTypeAndValue
 * two, an Extension three at most.
 */
function checkResponseShapes(tbsItems: asn1js.AsnType[], signatureAlgorithm: asn1js.AsnType): void {
  const explicit = (block: asn1js.AsnType | undefined, what: string): asn1js.AsnType | undefined => {
    if (block?.idBlock.tagClass !== 3) return undefined;
    maxItems(block, 1, what);
    return items(block, what)[0];
  };
  const algorithm = (block: asn1js.AsnType | undefined, what: string): void => {
    maxItems(block, 2, what);
    const params = items(block, what)[1];
    if (params instanceof asn1js.Null && params.valueBeforeDecodeView.length !== 2)
      reject('pkijs-extra-element', `${what}: NULL with content`);
  };
  const extensions = (block: asn1js.AsnType | undefined, what: string): void => {
    for (const extension of items(explicit(block, what), what)) maxItems(extension, 3, `${what} Extension`);
  };
  algorithm(signatureAlgorithm, 'signatureAlgorithm');
  let at = 0;
  if (tbsItems[0]?.idBlock.tagClass === 3 && tbsItems[0].idBlock.tagNumber === 0) explicit(tbsItems[at++], 'version');
  const responderId = explicit(tbsItems[at++], 'responderID');
  if (responderId instanceof asn1js.Sequence) {
    for (const rdn of items(responderId, 'Name')) {
      for (const atv of items(rdn, 'RDN')) {
        maxItems(atv, 2, 'AttributeTypeAndValue');
        // OpenSSL's ASN1_PRINTABLE types only, as X509Certificate enforces for certificates.
        const id = items(atv, 'AttributeTypeAndValue')[1]?.idBlock;
        if (id?.tagClass !== 1 || !OPENSSL_NAME_VALUE_TYPES.has(id.tagNumber))
          reject('pkijs-name-value', 'attribute value of a type OpenSSL refuses');
      }
    }
  }
  const responses = items(tbsItems[at + 1], 'responses');
  if (tbsItems[at + 2]) extensions(tbsItems[at + 2], 'responseExtensions');
  for (const single of responses) {
    const [certId, , , ...optional] = items(single, 'SingleResponse');
    algorithm(items(certId, 'CertID')[0], 'CertID.hashAlgorithm');
    for (const field of optional) {
      if (field.idBlock.tagNumber === 0) explicit(field, 'nextUpdate');
      else extensions(field, 'singleExtensions');
    }
  }
}

/** Universal tag numbers X509Certificate accepts as a Name attribute value (measured over tags 1-30). */
const OPENSSL_NAME_VALUE_TYPES = new Set([3, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 28, 29, 30]);

function readCerts(block: asn1js.AsnType): string[] {
  const { tagClass, tagNumber, isConstructed } = block.idBlock;
  if (tagClass !== 3 || tagNumber !== 0 || !isConstructed) reject('pkijs', 'certs is not [0] EXPLICIT');
  maxItems(block, 1, 'certs [0]');
  const list = items(block, 'certs [0]')[0];
  if (!(list instanceof asn1js.Sequence)) reject('pkijs', 'certs is not a SEQUENCE OF');
  return items(list, 'certs').map((cert) => {
    const der = Buffer.from(cert.valueBeforeDecodeView);
    const verdict = certificateOracle(der);
    if (!verdict.ok) reject(verdict.by, `a certificate in certs: ${verdict.why}`);
    return der.toString('hex');
  });
}

function readSingle(single: pkijs.SingleResponse, block: asn1js.AsnType): SingleView {
  maxItems(block, 5, 'SingleResponse');
  maxItems(items(block, 'SingleResponse')[0], 4, 'CertID');
  const fieldsOf = items(block, 'SingleResponse');
  const status = single.certStatus as asn1js.AsnType;
  const tag = status.idBlock.tagNumber;
  const view: SingleView = {
    certId: {
      hashAlgorithmOid: normalizeOid(single.certID.hashAlgorithm.algorithmId),
      issuerNameHash: hex(single.certID.issuerNameHash.valueBlock.valueHexView),
      issuerKeyHash: hex(single.certID.issuerKeyHash.valueBlock.valueHexView),
      serialNumber: hex(single.certID.serialNumber.valueBlock.valueHexView),
    },
    status: tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown',
    thisUpdate: time(generalizedTime(fieldsOf[2], 'thisUpdate')),
  };
  const next = fieldsOf.slice(3).find((field) => field.idBlock.tagClass === 3 && field.idBlock.tagNumber === 0);
  if (next) view.nextUpdate = time(generalizedTime(items(next, 'nextUpdate')[0], 'nextUpdate'));
  if (tag === 1) {
    const [revocationTime, reason] = items(status, 'RevokedInfo');
    maxItems(status, 2, 'RevokedInfo');
    view.revocationTime = time(generalizedTime(revocationTime, 'revocationTime'));
    if (reason) {
      const enumerated = items(reason, 'revocationReason [0]')[0];
      maxItems(reason, 1, 'revocationReason [0]');
      if (!(enumerated instanceof asn1js.Enumerated) || enumerated.valueBlock.valueHexView.length === 0) reject('pkijs', 'CRLReason');
      const name = REASONS[Number(signedValue(enumerated.valueBlock.valueHexView))];
      if (name === undefined) reject('rfc-enumeration', 'CRLReason');
      view.revocationReason = name;
    }
  } else if ((status as asn1js.Primitive).valueBlock.valueHexView?.length !== 0 || status.idBlock.isConstructed) {
    reject('rfc-enumeration', 'good/unknown CertStatus ([0]/[2] IMPLICIT NULL) with content');
  }
  return view;
}

/**
 * A GeneralizedTime from asn1js' fields, not its Date: asn1js builds the Date with Date.UTC, which
 * reads the years 0000-0099 as 1900-1999.
 */
function time(block: asn1js.GeneralizedTime | Date): number {
  if (block instanceof Date) return checkedTime(block);
  const date = new Date(0);
  date.setUTCFullYear(block.year, block.month - 1, block.day);
  date.setUTCHours(block.hour, block.minute, block.second, block.millisecond);
  return checkedTime(date);
}

function checkedTime(date: Date): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) reject('asn1js', 'invalid time');
  return ms;
}

/** The element at `index` of a constructed block, which must be a GeneralizedTime. */
function generalizedTime(block: asn1js.AsnType | undefined, what: string): asn1js.GeneralizedTime {
  if (!(block instanceof asn1js.GeneralizedTime)) reject('pkijs', `${what} is not a GeneralizedTime`);
  return block;
}

function maxItems(block: asn1js.AsnType | undefined, max: number, what: string): void {
  const count = items(block, what).length;
  if (count > max) reject('pkijs-extra-element', `${what} has ${count} elements, at most ${max} expected`);
}
