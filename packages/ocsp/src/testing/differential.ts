/**
 * The reader under test reduced to the oracles' views, and the comparison of the two, with the
 * documented exceptions: the places where the reader is stricter than an oracle by design.
 */
import { isDeepStrictEqual } from 'node:util';
import { readExtensionFields } from '../certificate-extensions.js';
import { parseCertificateDer } from '../certificate.js';
import { DerError } from '../der.js';
import { OcspError } from '../errors.js';
import { type ResponderId, readOcspResponse } from '../response.js';
import { readX509 } from '../x509.js';
import { type DerViolation, derViolations } from './ber-scan.js';
import { type CertificateView, type ResponseView, type Verdict, certificateOracle, responseOracle } from './oracles.js';

/** Our verdict: the view, or the DerError code that rejected the input (`thrown:<name>` for anything else). */
export type Ours<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/**
 * Where the reader refuses what an oracle accepts, by design. Each names the reader's DerError
 * codes it covers and the DER/profile violation the independent scanner (ber-scan.ts) must find
 * in the input for the exception to apply: a refusal the scanner cannot explain is a mismatch.
 */
export const EXCEPTIONS: Readonly<Record<string, { codes: readonly string[]; evidence: readonly DerViolation[]; why: string }>> = {
  'ber-length': {
    codes: ['non-minimal-length', 'indefinite-length'],
    evidence: ['non-minimal-length', 'indefinite-length'],
    why: 'X.690 10.1: DER lengths are definite and minimal; OpenSSL and asn1js also take the BER forms',
  },
  'ber-tag': {
    codes: ['high-tag-number'],
    evidence: ['high-tag-form'],
    why: 'the reader takes one identifier octet (tags 0-30, all X.509 and OCSP use); BER may write those in the high-tag-number form',
  },
  'ber-constructed-string': {
    codes: ['unexpected-tag'],
    evidence: ['constructed-string'],
    why: 'X.690 10.2: DER writes strings (and every universal type but SEQUENCE, SET and the like) in the primitive form; OpenSSL and asn1js take constructed ones',
  },
  'primitive-sequence': {
    codes: ['unexpected-tag'],
    evidence: ['primitive-sequence'],
    why: 'X.690 8.9.1: a SEQUENCE (or SET) is constructed; asn1js takes one whose identifier says primitive',
  },
  'stray-end-of-contents': {
    codes: ['unexpected-tag'],
    evidence: ['end-of-contents'],
    why: 'X.690 8.1.5 and X.680 8.6: universal tag 0 is end-of-contents, which closes an indefinite length only; asn1js skips 00 00 inside a definite-length SEQUENCE and both oracles take [UNIVERSAL 0] in an ANY',
  },
  'der-boolean': {
    codes: ['bad-boolean'],
    evidence: ['boolean-not-der'],
    why: 'X.690 11.1: DER writes TRUE as 0xFF; OpenSSL and asn1js take any non-zero octet',
  },
  'der-integer': {
    codes: ['bad-integer'],
    evidence: ['integer-not-minimal'],
    why: 'X.690 8.3.2: INTEGER in the fewest octets; asn1js takes padded ones (OpenSSL refuses them too)',
  },
  'time-profile': {
    codes: ['bad-time'],
    evidence: ['time-profile'],
    why: 'RFC 5280 4.1.2.5 / RFC 6960: Zulu times with seconds on a real calendar date; OpenSSL takes offsets and missing seconds, asn1js rolls month 13 into next year',
  },
  'nested-length-lie': {
    codes: [
      'truncated',
      'trailing-data',
      'length-too-large',
      'non-minimal-length',
      'indefinite-length',
      'high-tag-number',
      'unexpected-tag',
      'missing',
    ],
    evidence: ['inner-overrun'],
    why: 'X.690 8.1.1.3: an element ends where its length says; asn1js reads a child on past a parent that declares too little, and from there on reads other framing than the reader',
  },
  'string-encoding': {
    codes: ['bad-string'],
    evidence: ['string-not-valid'],
    why: 'a UTF8String must be UTF-8, a BMPString whole UTF-16 units (OpenSSL refuses such names too); asn1js decodes them with replacement characters',
  },
  'der-oid': {
    codes: ['bad-oid'],
    evidence: ['oid-not-minimal'],
    why: 'X.690 8.19.2: no arc starts with 0x80 and the last octet ends an arc (OpenSSL refuses such OIDs too); asn1js takes them',
  },
  'unused-bits': {
    codes: ['bad-bit-string'],
    evidence: ['bit-string-unused-bits'],
    why: 'signatures and public keys are whole octets (RFC 6960 KeyHash hashes the key octets); the oracles take any unused-bit count',
  },
};

/**
 * asn1js 4 refuses inputs nested more than 100 deep (or with more than 10,000 elements): a limit
 * of the oracle, not a rule of DER. The reader walks any depth with an explicit stack, in linear
 * time; such an input is counted as the `asn1js-limits` exception when the scanner confirms the depth.
 */
const ASN1JS_LIMITS = /Maximum ASN\.1 (nesting depth|node count) exceeded/;

/** The comparison of one input. `mismatch` fails the property. */
export type Outcome =
  | { agreement: 'both-accept' | 'both-reject'; oracleBy?: string }
  | { agreement: 'exception'; rule: string }
  | { agreement: 'mismatch'; detail: string };

// ---------------------------------------------------------------------------------------------

function rejection(err: unknown): { ok: false; code: string; message: string } {
  const cause = err instanceof OcspError && err.cause !== undefined ? err.cause : err;
  if (cause instanceof DerError) return { ok: false, code: (cause as { code?: string }).code ?? 'uncoded', message: cause.message };
  const name = cause instanceof Error ? cause.constructor.name : typeof cause;
  return { ok: false, code: `thrown:${name}`, message: cause instanceof Error ? cause.message : String(cause) };
}

/** parseCertificateDer (and the SAN list it folds into dnsNames) as a CertificateView. */
export function ourCertificate(der: Buffer): Ours<CertificateView> {
  try {
    const cert = parseCertificateDer(der);
    const { sanDnsNames } = readExtensionFields(readX509(der).extensions);
    return {
      ok: true,
      value: {
        serial: cert.serialNumber,
        issuerNameDer: cert.issuerNameDer.toString('hex'),
        subjectNameDer: cert.subjectNameDer.toString('hex'),
        spkiDer: cert.spkiDer.toString('hex'),
        notBefore: cert.notBefore.getTime(),
        notAfter: cert.notAfter.getTime(),
        isCA: cert.isCA,
        ...(cert.subjectKeyId !== undefined && { subjectKeyId: cert.subjectKeyId }),
        ...(cert.authorityKeyId !== undefined && { authorityKeyId: cert.authorityKeyId }),
        sanDnsNames,
        ocspUrls: cert.ocspUrls,
        mustStaple: cert.mustStaple,
        ocspSigning: cert.ocspSigning,
      },
    };
  } catch (err) {
    return rejection(err);
  }
}

/** readOcspResponse as a ResponseView. Anything but OcspError('malformed') is reported as thrown. */
export function ourResponse(der: Buffer): Ours<ResponseView> {
  try {
    const fields = readOcspResponse(der);
    if (!fields.basic) return { ok: true, value: { responseStatus: fields.responseStatus } };
    const { basic } = fields;
    return {
      ok: true,
      value: {
        responseStatus: fields.responseStatus,
        basic: {
          tbsResponseData: basic.tbsResponseData.toString('hex'),
          responderId: responderIdView(basic.responderId),
          producedAt: basic.producedAt.getTime(),
          responses: basic.responses.map((single) => ({
            certId: { ...single.certId },
            status: single.status,
            ...(single.revocationTime && { revocationTime: single.revocationTime.getTime() }),
            ...(single.revocationReason && { revocationReason: single.revocationReason }),
            thisUpdate: single.thisUpdate.getTime(),
            ...(single.nextUpdate && { nextUpdate: single.nextUpdate.getTime() }),
          })),
          signatureAlgorithm: basic.signatureAlgorithm.oid,
          signature: basic.signature.toString('hex'),
          certs: basic.certs.map((cert) => cert.toString('hex')),
        },
      },
    };
  } catch (err) {
    if (err instanceof OcspError && err.code !== 'malformed')
      return { ok: false, code: `thrown:OcspError(${err.code})`, message: err.message };
    if (!(err instanceof OcspError))
      return { ok: false, code: `thrown:${err instanceof Error ? err.constructor.name : typeof err}`, message: String(err) };
    return rejection(err);
  }
}

function responderIdView(id: ResponderId): { byName: string } | { byKey: string } {
  return 'byName' in id ? { byName: id.byName.toString('hex') } : { byKey: id.byKey.toString('hex') };
}

// ---------------------------------------------------------------------------------------------

export function compareCertificate(der: Buffer): Outcome {
  return compare(der, ourCertificate(der), certificateOracle(der));
}

export function compareResponse(der: Buffer): Outcome {
  return compare(der, ourResponse(der), responseOracle(der));
}

/** Both accept with equal views, both reject, or the reader's refusal is a documented exception. */
export function compare<T>(der: Buffer, ours: Ours<T>, oracle: Verdict<T>): Outcome {
  if (!ours.ok && ours.code.startsWith('thrown:'))
    return { agreement: 'mismatch', detail: `the reader threw ${ours.code}: ${ours.message}` };
  if (!oracle.ok && oracle.by === 'oracle-crash') return { agreement: 'exception', rule: 'oracle-crash' };
  if (ours.ok && oracle.ok) {
    if (isDeepStrictEqual(ours.value, oracle.value)) return { agreement: 'both-accept' };
    return {
      agreement: 'mismatch',
      detail: `fields differ:\n  ours:   ${JSON.stringify(ours.value)}\n  oracle: ${JSON.stringify(oracle.value)}`,
    };
  }
  if (!ours.ok && !oracle.ok) return { agreement: 'both-reject', oracleBy: oracle.by };
  if (ours.ok && !oracle.ok) {
    // The one place an oracle refuses what the reader takes by design: asn1js 4's resource limits.
    if (oracle.by === 'asn1js' && ASN1JS_LIMITS.test(oracle.why) && derViolations(der).has('deep-nesting')) {
      return { agreement: 'exception', rule: 'asn1js-limits' };
    }
    return { agreement: 'mismatch', detail: `the reader accepts; the oracle (${oracle.by}) rejects: ${oracle.why}` };
  }
  if (ours.ok) throw new Error('unreachable');
  const found = derViolations(der);
  for (const [rule, exception] of Object.entries(EXCEPTIONS)) {
    if (exception.codes.includes(ours.code) && exception.evidence.some((kind) => found.has(kind))) return { agreement: 'exception', rule };
  }
  const kinds = [...found].join(', ') || 'none';
  return {
    agreement: 'mismatch',
    detail: `the reader rejects (${ours.code}: ${ours.message}); the oracle accepts; DER violations found: ${kinds}`,
  };
}
