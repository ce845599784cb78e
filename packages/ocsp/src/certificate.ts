/** X.509 certificates (RFC 5280) to ParsedCertificate: PEM bundles or a single DER certificate. */
import { createHash } from 'node:crypto';
import { readExtensionFields } from './certificate-extensions.js';
import { DerError } from './der.js';
import { OcspError } from './errors.js';
import { ATTRIBUTE_NAMES, OID } from './oids.js';
import { certificateBlocks, looksLikePem } from './pem.js';
import type { ParsedCertificate } from './types.js';
import { readX509 } from './x509.js';

/** A DNS-looking common name (optionally a wildcard): used only when there is no SAN. */
const HOSTNAME_LIKE = /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/;

/**
 * Every certificate in `input`: a PEM bundle (any number of CERTIFICATE blocks; keys and other
 * blocks are ignored; blocks that fail to parse are skipped) or one DER certificate.
 * @param source names the input in error messages (a file path, usually).
 * @throws OcspError `malformed-certificate` when no certificate parses.
 */
export function parseCertificates(input: Buffer | string, source = 'input'): ParsedCertificate[] {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  if (typeof input === 'string' || looksLikePem(text)) {
    const parsed: ParsedCertificate[] = [];
    const failures: string[] = [];
    for (const der of certificateBlocks(text)) {
      try {
        parsed.push(parseCertificateDer(der));
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (parsed.length === 0) {
      const why = failures.length > 0 ? failures.join('; ') : 'no CERTIFICATE block';
      throw new OcspError('malformed-certificate', `${source}: no parsable certificate (${why})`);
    }
    return parsed;
  }
  try {
    return [parseCertificateDer(input)];
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new OcspError('malformed-certificate', `${source}: not a PEM bundle nor a DER certificate (${why})`, { cause: err });
  }
}

/** One DER certificate (no trailing bytes). Throws DerError (and nothing else); callers wrap it. */
export function parseCertificateDer(input: Buffer): ParsedCertificate {
  if (input.length === 0) throw new DerError('truncated', 'empty certificate');
  // Own copy, outside Buffer's shared 8 KiB pool: the fields below are views into it, and a pooled
  // copy would keep alive whatever else shares its slab (50K certificates: ~40 MB more).
  const der = Buffer.allocUnsafeSlow(input.length);
  input.copy(der);
  const x509 = readX509(der);
  const ext = readExtensionFields(x509.extensions);
  const subject = x509.subjectAttributes;
  const commonName = subject.find((attribute) => attribute.type === OID.commonName)?.value.toLowerCase();
  const dnsNames = ext.sanDnsNames.length > 0 ? ext.sanDnsNames : commonName && HOSTNAME_LIKE.test(commonName) ? [commonName] : [];
  return {
    der,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    subject: describeName(subject),
    subjectNameDer: x509.subjectNameDer,
    issuerNameDer: x509.issuerNameDer,
    serialNumber: x509.serial.toString('hex'),
    notBefore: x509.notBefore,
    notAfter: x509.notAfter,
    isCA: ext.isCA,
    ...(ext.subjectKeyId !== undefined && { subjectKeyId: ext.subjectKeyId }),
    ...(ext.authorityKeyId !== undefined && { authorityKeyId: ext.authorityKeyId }),
    spkiDer: x509.spkiDer,
    ocspUrls: ext.ocspUrls,
    dnsNames,
    mustStaple: ext.mustStaple,
    ocspSigning: ext.ocspSigning,
    signed: x509.signed,
  };
}

/** `CN=example.com, O=Example`: most specific first, as RFC 4514 prints names. For messages only. */
function describeName(attributes: { type: string; value: string }[]): string {
  return attributes
    .map(({ type, value }) => `${ATTRIBUTE_NAMES[type] ?? type}=${value}`)
    .reverse()
    .join(', ');
}
