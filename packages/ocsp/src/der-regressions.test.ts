/**
 * Regression tests for the bugs the differential fuzz test (der-fuzz.test.ts) found in the DER
 * reader, one per bug, each on a fixture changed in the one place that matters.
 */
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { certIdFor } from './cert-id.js';
import { readExtensionFields } from './certificate-extensions.js';
import { parseCertificateDer, parseCertificates } from './certificate.js';
import { DerError, TAG, readOid, readRoot } from './der.js';
import { OcspError } from './errors.js';
import { readOcspResponse } from './response.js';
import { type DerNode, der, encodeDerTree, parseDerTree } from './testing/der-tree.js';
import { type FuzzFixtures, createFuzzFixtures } from './testing/fuzz-fixtures.js';
import { readX509 } from './x509.js';

const NOW = Date.UTC(2026, 0, 15, 12);
let fixtures: FuzzFixtures;
beforeAll(() => {
  fixtures = createFuzzFixtures(NOW);
});

/** A fixture's tree with `edit` applied, encoded again (every enclosing length fixed up). */
function edited(bytes: Buffer, edit: (root: DerNode) => void): Buffer {
  const root = parseDerTree(bytes);
  edit(root);
  return encodeDerTree(root);
}

const tbsOf = (root: DerNode): DerNode[] => root.children![0]!.children!;
/** The leaf certificate's TBSCertificate fields: 0 version, 1 serial, 2 signature, 3 issuer, 4 validity, 5 subject, 6 SPKI, 7 extensions. */
const leaf = (edit: (tbs: DerNode[], root: DerNode) => void): Buffer =>
  edited(fixtures.certificates.leaf!, (root) => edit(tbsOf(root), root));

function extensions(tbs: DerNode[]): DerNode[] {
  return tbs[7]!.children![0]!.children!;
}

/** The value (inside extnValue) of the leaf's extension with OID `oidHex`. */
function extensionValue(tbs: DerNode[], oidHex: string): DerNode {
  const ext = extensions(tbs).find((e) => e.children![0]!.content!.toString('hex') === oidHex)!;
  return ext.children![ext.children!.length - 1]!.children![0]!;
}

function addExtension(tbs: DerNode[], oidHex: string, value: DerNode): void {
  extensions(tbs).push(
    der.constructed(TAG.SEQUENCE, der.primitive(TAG.OID, Buffer.from(oidHex, 'hex')), der.constructed(TAG.OCTET_STRING, value)),
  );
}

/** The DerError code parseCertificateDer throws, or 'accepted'. */
function certificateCode(bytes: Buffer): string {
  try {
    parseCertificateDer(bytes);
    return 'accepted';
  } catch (err) {
    return err instanceof DerError ? err.code : `thrown:${String(err)}`;
  }
}

/** The DerError code under readOcspResponse's OcspError('malformed'), or 'accepted'. */
function responseCode(bytes: Buffer): string {
  try {
    readOcspResponse(bytes);
    return 'accepted';
  } catch (err) {
    const cause = err instanceof OcspError ? err.cause : err;
    return cause instanceof DerError ? cause.code : `thrown:${String(err)}`;
  }
}

const BASIC_CONSTRAINTS = '551d13';
const SUBJECT_ALT_NAME = '551d11';
const AUTHORITY_INFO_ACCESS = '2b06010505070101';
const TLS_FEATURE = '2b06010505070118';

/**
 * What OpenSSL (node:crypto) reads of an extension, null when it reads nothing: Node 20 returns
 * undefined or null for an extension it cannot decode, Node 24 (OpenSSL 3.5) undefined, or throws
 * ("Failed to format subject alternative name").
 */
function opensslInfoAccess(bytes: Buffer): string | null {
  return new X509Certificate(bytes).infoAccess ?? null;
}
function opensslSubjectAltName(bytes: Buffer): string | null {
  try {
    return new X509Certificate(bytes).subjectAltName ?? null;
  } catch {
    return null;
  }
}

describe('DER reader regressions (found by der-fuzz.test.ts)', () => {
  it('basicConstraints: an empty cA BOOLEAN is refused, not read from the next element (it made a leaf a CA)', () => {
    const bytes = leaf((tbs) =>
      addExtension(tbs, BASIC_CONSTRAINTS, der.constructed(TAG.SEQUENCE, der.primitive(TAG.BOOLEAN, []), der.primitive(TAG.INTEGER, [0]))),
    );
    expect(certificateCode(bytes)).toBe('bad-boolean');
    const twoOctets = leaf((tbs) =>
      addExtension(tbs, BASIC_CONSTRAINTS, der.constructed(TAG.SEQUENCE, der.primitive(TAG.BOOLEAN, [0xff, 0xff]))),
    );
    expect(new X509Certificate(twoOctets).ca).toBe(false); // OpenSSL does not take it as a CA either
    expect(certificateCode(twoOctets)).toBe('bad-boolean');
  });

  it.each(['261315120000Z', '260230120000Z', '270229120000Z', '260115240000Z', '260115126000Z', '260115120060Z', '260100120000Z'])(
    'times: %s is refused, not rolled over into another date',
    (time) => {
      const bytes = leaf((tbs) => {
        tbs[4]!.children![0]!.content = Buffer.from(time);
      });
      expect(new X509Certificate(bytes).validFrom).toBe('Bad time value');
      expect(certificateCode(bytes)).toBe('bad-time');
    },
  );

  it('times: GeneralizedTime years 0000-0099 are those years (Date.UTC made 0050 into 1950)', () => {
    const bytes = leaf((tbs) => {
      tbs[4]!.children![0] = der.primitive(TAG.GENERALIZED_TIME, '00500101000000Z');
    });
    expect(parseCertificateDer(bytes).notBefore.getUTCFullYear()).toBe(50);
    expect(parseCertificateDer(leaf(() => undefined)).notBefore.toISOString()).toBe('2026-01-14T12:00:00.000Z');
  });

  it.each([
    ['empty', ''],
    ['padded', '0010'],
  ])('serialNumber: an %s INTEGER is refused (it reached encodeOcspRequest, which threw a TypeError)', (_what, hex) => {
    const bytes = leaf((tbs) => {
      tbs[1]!.content = Buffer.from(hex, 'hex');
    });
    expect(() => new X509Certificate(bytes)).toThrow();
    expect(certificateCode(bytes)).toBe('bad-integer');
  });

  it('SubjectPublicKeyInfo is checked when parsed, so certIdFor cannot throw a DerError later', () => {
    const bytes = edited(fixtures.certificates.issuer!, (root) => {
      tbsOf(root)[6]!.children = [der.primitive(TAG.NULL, [])];
    });
    expect(() => new X509Certificate(bytes)).toThrow();
    expect(() => parseCertificates(bytes, 'issuer.der')).toThrow(OcspError);
    const leafCert = parseCertificateDer(fixtures.certificates.leaf!);
    expect(() => certIdFor(leafCert, parseCertificateDer(fixtures.certificates.issuer!))).not.toThrow();
  });

  it.each<[string, (tbs: DerNode[], root: DerNode) => void]>([
    ['Certificate', (_tbs, root) => root.children!.push(der.primitive(TAG.NULL, []))],
    ['TBSCertificate', (tbs) => tbs.push(der.primitive(TAG.NULL, []))],
    ['validity', (tbs) => tbs[4]!.children!.push(tbs[4]!.children![0]!)],
    ['Extension', (tbs) => extensions(tbs)[0]!.children!.push(der.primitive(TAG.NULL, []))],
    ['AccessDescription', (tbs) => extensionValue(tbs, AUTHORITY_INFO_ACCESS).children![0]!.children!.push(der.primitive(TAG.NULL, []))],
  ])('%s: an element after the last field is refused (OpenSSL refuses it; the reader ignored it)', (_what, edit) => {
    const bytes = leaf(edit);
    expect(certificateCode(bytes)).toBe('trailing-data');
  });

  it('OIDs: an arc with a leading 0x80 octet is refused, not read as the canonical OID (it yielded an OCSP URL OpenSSL does not see)', () => {
    const bytes = leaf((tbs) => {
      extensionValue(tbs, AUTHORITY_INFO_ACCESS).children![0]!.children![0]!.content = Buffer.from('2b0601050507803001', 'hex');
    });
    expect(opensslInfoAccess(bytes)).toBeNull();
    expect(certificateCode(bytes)).toBe('bad-oid');
  });

  it('OIDs: a large arc is read exactly (it was summed in floating point)', () => {
    const oid = Buffer.concat([Buffer.from([0x06, 0x16, 0x2a]), Buffer.alloc(20, 0xff), Buffer.from([0x7f])]);
    expect(readOid(oid, readRoot(oid))).toBe(`1.2.${(2n ** 147n - 1n).toString()}`);
  });

  it('names: a UniversalString code point above U+10FFFF is a DerError, not a RangeError', () => {
    const bytes = leaf((tbs) => {
      tbs[5]!.children![0]!.children![0]!.children![1] = der.primitive(0x1c, [0x7f, 0, 0, 0x41]);
    });
    expect(certificateCode(bytes)).toBe('bad-string');
  });

  it('names: an attribute value of a type OpenSSL refuses (OCTET STRING) is refused', () => {
    const bytes = leaf((tbs) => {
      tbs[5]!.children![0]!.children![0]!.children![1]!.tag = TAG.OCTET_STRING;
    });
    expect(() => new X509Certificate(bytes)).toThrow();
    expect(certificateCode(bytes)).toBe('unexpected-tag');
  });

  it.each([
    ['dNSName', SUBJECT_ALT_NAME, 0xa2],
    ['OCSP URI', AUTHORITY_INFO_ACCESS, 0xa6],
  ])('GeneralName: a constructed %s is refused, not skipped (the name or URL was lost)', (_what, oid, tag) => {
    const bytes = leaf((tbs) => {
      const value = extensionValue(tbs, oid);
      const name = oid === SUBJECT_ALT_NAME ? value.children![0]! : value.children![0]!.children![1]!;
      name.children = [der.primitive(0x16, name.content!)];
      delete name.content;
      name.tag = tag;
    });
    expect(certificateCode(bytes)).toBe('unexpected-tag');
  });

  it('GeneralName: an otherName without its type-id and value is refused (OpenSSL cannot decode such a SAN)', () => {
    const withOtherName = (otherName: DerNode): Buffer => leaf((tbs) => extensionValue(tbs, SUBJECT_ALT_NAME).children!.push(otherName));
    const empty = withOtherName(der.constructed(0xa0));
    expect(opensslSubjectAltName(empty)).toBeNull();
    expect(certificateCode(empty)).toBe('missing');
    // A user principal name (1.3.6.1.4.1.311.20.2.3) is well-formed: both read it.
    const upn = withOtherName(
      der.constructed(
        0xa0,
        der.primitive(TAG.OID, Buffer.from('2b060104018237140203', 'hex')),
        der.constructed(0xa0, der.primitive(0x0c, 'a@b')),
      ),
    );
    expect(opensslSubjectAltName(upn)?.toLowerCase()).toContain('othername');
    expect(certificateCode(upn)).toBe('accepted');
  });

  it('TLS feature: every feature is read whatever its place (a malformed one after status_request passed)', () => {
    const features = (...items: DerNode[]): Buffer => leaf((tbs) => (extensionValue(tbs, TLS_FEATURE).children = items));
    const five = der.primitive(TAG.INTEGER, [5]);
    const empty = der.primitive(TAG.INTEGER, []);
    expect(certificateCode(features(five, empty))).toBe('bad-integer');
    expect(certificateCode(features(empty, five))).toBe('bad-integer');
    const large = der.primitive(TAG.INTEGER, [1, 2, 3, 4, 5]); // legal, just not one we know
    expect(readExtensionFields(readX509(features(large, five)).extensions).mustStaple).toBe(true);
  });

  it('lengths: the long form for a length below 128, or with a leading zero octet, is refused (DER)', () => {
    const long = leaf((tbs) => {
      tbs[1]!.header = { lengthForm: 1 };
    });
    expect(new X509Certificate(long).serialNumber).toBeTruthy(); // OpenSSL takes BER here
    expect(certificateCode(long)).toBe('non-minimal-length');
    const padded = leaf((tbs) => {
      tbs[6]!.header = { lengthForm: 3 };
    });
    expect(certificateCode(padded)).toBe('non-minimal-length');
  });

  it('algorithm parameters: a malformed time inside is refused (only framing was checked there; found with seed 424242)', () => {
    const bytes = edited(fixtures.certificates['plain-leaf']!, (root) => {
      root.children![1]!.children![1] = der.primitive(TAG.GENERALIZED_TIME, '2026011512000 Z'); // in place of NULL
    });
    expect(certificateCode(bytes)).toBe('bad-time');
  });

  it('an empty input is a DerError like any other malformed certificate', () => {
    expect(certificateCode(Buffer.alloc(0))).toBe('truncated');
  });
});

describe('OCSP response regressions (found by der-fuzz.test.ts)', () => {
  /** The BasicOCSPResponse of a response fixture: 0 tbsResponseData, 1 algorithm, 2 signature, 3 certs. */
  const response = (name: string, edit: (basic: DerNode[]) => void): Buffer =>
    edited(fixtures.responses[name]!.der, (root) => edit(root.children![1]!.children![0]!.children![1]!.children![0]!.children!));
  const firstSingle = (basic: DerNode[]): DerNode[] => basic[0]!.children![2]!.children![0]!.children!;

  it('algorithm parameters: end-of-contents octets in place of NULL are refused (asn1js skips them; found with seed 424242)', () => {
    const bytes = response('delegated-revoked', (basic) => {
      firstSingle(basic)[0]!.children![0]!.children![1] = der.primitive(0x00, []);
    });
    expect(responseCode(bytes)).toBe('unexpected-tag');
  });

  it('certStatus good ([0] IMPLICIT NULL) with content is refused', () => {
    expect(responseCode(response('issuer-good', (basic) => (firstSingle(basic)[1]!.content = Buffer.from([0]))))).toBe('bad-null');
  });

  it.each<[string, (basic: DerNode[]) => void]>([
    ['SingleResponse', (basic) => firstSingle(basic).push(der.primitive(TAG.NULL, []))],
    ['CertID', (basic) => firstSingle(basic)[0]!.children!.push(der.primitive(TAG.NULL, []))],
    ['responderID', (basic) => basic[0]!.children![0]!.children!.push(basic[0]!.children![0]!.children![0]!)],
    ['nextUpdate', (basic) => firstSingle(basic)[3]!.children!.push(firstSingle(basic)[2]!)],
    ['BasicOCSPResponse', (basic) => basic.push(der.primitive(TAG.NULL, []))],
  ])('%s: an element after the last field is refused', (_what, edit) => {
    expect(responseCode(response('delegated-revoked', edit))).toBe('trailing-data');
  });

  it('a certificate in certs that does not parse is refused: the response would be stapled as it is', () => {
    const bytes = response('delegated-revoked', (basic) => {
      const cert = basic[3]!.children![0]!.children![0]!;
      cert.children!.push(der.primitive(TAG.NULL, []));
    });
    expect(responseCode(bytes)).toBe('trailing-data');
    expect(responseCode(fixtures.responses['delegated-revoked']!.der)).toBe('accepted');
  });
});
