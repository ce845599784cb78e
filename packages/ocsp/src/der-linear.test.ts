/**
 * The DER reader takes time linear in its input on adversarial shapes (DESIGN.md "Trust boundaries":
 * hostile certificates, linear-time parsing): deep nesting, long lists, long strings. Each family is
 * read at size n and 16n; a linear reader takes about 16 times longer, a quadratic one 256 times.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readExtensionFields } from './certificate-extensions.js';
import { parseCertificateDer } from './certificate.js';
import { TAG } from './der.js';
import { readOcspResponse } from './response.js';
import { type DerNode, der, encodeDerTree, parseDerTree } from './testing/der-tree.js';
import { type FuzzFixtures, createFuzzFixtures } from './testing/fuzz-fixtures.js';
import { readX509 } from './x509.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const SCALE = 16;
/**
 * t(16n) / t(n) must stay under this: 16 for linear work, 256 for quadratic (a quadratic list
 * reader measured over 1,000 here). The room above 16 is for garbage collection (the large input's
 * objects outlive the young generation) and for other processes on a shared 2-core machine, where
 * linear families have measured up to 93 under a load average of 15.
 */
const MAX_RATIO = 128;
/** Small inputs parse in well under a millisecond, where timer and scheduler jitter dominate. */
const FLOOR_MS = 2;

let fixtures: FuzzFixtures;
beforeAll(() => {
  fixtures = createFuzzFixtures(NOW);
});

/** The leaf certificate's tree with `edit` applied to its TBSCertificate's fields. */
function leafWith(edit: (tbs: DerNode[]) => void): Buffer {
  const root = parseDerTree(fixtures.certificates.leaf!);
  edit(root.children![0]!.children!);
  return encodeDerTree(root);
}

/** The extension value (the DerNode inside extnValue) with OID `oidHex` in a TBSCertificate. */
function extensionValue(tbs: DerNode[], oidHex: string): DerNode {
  const list = tbs[tbs.length - 1]!.children![0]!.children!;
  const ext = list.find((e) => e.children![0]!.content!.toString('hex') === oidHex)!;
  return ext.children![ext.children!.length - 1]!.children![0]!;
}

const ia5 = (tag: number, text: string): DerNode => der.primitive(tag, text);

/** Each family builds an input of `n` units and checks the reader did the work (so it is timed). */
const FAMILIES: { name: string; n: number; build: (n: number) => Buffer; read: (input: Buffer, n: number) => void }[] = [
  {
    name: 'a Name attribute value nested n SEQUENCEs deep',
    n: 5_000,
    build: (n) =>
      leafWith((tbs) => {
        const atv = tbs[5]!.children![0]!.children![0]!;
        atv.children![1] = { ...ia5(0x0c, 'deep'), nest: n };
      }),
    read: (input) => {
      expect(parseCertificateDer(input).subject).toMatch(/^CN=#30/);
    },
  },
  {
    name: 'a subjectAltName of n dNSNames',
    n: 1_000,
    build: (n) =>
      leafWith((tbs) => {
        extensionValue(tbs, '551d11').children = Array.from({ length: n }, (_, i) => ia5(0x82, `host-${i}.example.test`));
      }),
    read: (input, n) => {
      expect(readExtensionFields(readX509(input).extensions).sanDnsNames).toHaveLength(n);
    },
  },
  {
    name: 'n extensions',
    n: 800,
    build: (n) =>
      leafWith((tbs) => {
        const list = tbs[tbs.length - 1]!.children![0]!;
        for (let i = 0; i < n; i++) {
          const arc = i + 0x4000; // three base-128 octets, the first non-zero
          const oid = Buffer.from([0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x80 | (arc >> 14), 0x80 | ((arc >> 7) & 0x7f), arc & 0x7f]);
          list.children!.push(der.constructed(TAG.SEQUENCE, der.primitive(TAG.OID, oid), der.primitive(TAG.OCTET_STRING, [0x05, 0x00])));
        }
      }),
    read: (input, n) => {
      expect(readX509(input).extensions.size).toBeGreaterThanOrEqual(n);
    },
  },
  {
    name: 'an issuer Name of n RDNs',
    n: 800,
    build: (n) =>
      leafWith((tbs) => {
        const rdn = tbs[3]!.children![0]!;
        tbs[3]!.children = Array.from({ length: n }, () => rdn);
      }),
    read: (input) => {
      expect(parseCertificateDer(input).issuerNameDer.length).toBeGreaterThan(0);
    },
  },
  {
    name: 'a UniversalString of n code points',
    n: 10_000,
    build: (n) =>
      leafWith((tbs) => {
        const value = Buffer.alloc(4 * n);
        for (let i = 0; i < n; i++) value.writeUInt32BE(0x1f600 + (i % 64), 4 * i);
        tbs[5]!.children![0]!.children![0]!.children![1] = der.primitive(0x1c, value);
      }),
    read: (input, n) => {
      expect(parseCertificateDer(input).subject.length).toBeGreaterThanOrEqual(2 * n);
    },
  },
  {
    name: 'an OCSP response with n SingleResponses',
    n: 500,
    build: (n) => {
      const root = parseDerTree(fixtures.responses['issuer-good']!.der);
      const basic = root.children![1]!.children![0]!.children![1]!.children![0]!;
      const responses = basic.children![0]!.children![2]!;
      responses.children = Array.from({ length: n }, () => responses.children![0]!);
      return encodeDerTree(root);
    },
    read: (input, n) => {
      expect(readOcspResponse(input).basic?.responses).toHaveLength(n);
    },
  },
  {
    name: 'an OCSP response carrying n certificates',
    n: 60,
    build: (n) => {
      const root = parseDerTree(fixtures.responses['delegated-revoked']!.der);
      const certs = root.children![1]!.children![0]!.children![1]!.children![0]!.children![3]!.children![0]!;
      certs.children = Array.from({ length: n }, () => certs.children![0]!);
      return encodeDerTree(root);
    },
    read: (input, n) => {
      expect(readOcspResponse(input).basic?.certs).toHaveLength(n);
    },
  },
];

/**
 * The fastest of `runs` reads, after one warm-up read: the minimum is what the work costs, the
 * rest is other processes on a shared 2-core machine.
 */
function fastestMs(read: () => void, runs = 5): number {
  read();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    read();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

describe('DER reader: linear time on adversarial inputs', () => {
  it.each(FAMILIES)('$name: 16n costs about 16 times n', ({ n, build, read }) => {
    const small = build(n);
    const large = build(SCALE * n);
    expect(large.length).toBeGreaterThan((SCALE - 1) * small.length);
    const tSmall = fastestMs(() => read(small, n));
    const tLarge = fastestMs(() => read(large, SCALE * n));
    expect(
      tLarge / Math.max(tSmall, FLOOR_MS),
      `${tSmall.toFixed(2)} ms for ${small.length} B, ${tLarge.toFixed(2)} ms for ${large.length} B`,
    ).toBeLessThan(MAX_RATIO);
  });

  it('nests 200,000 levels deep (nearly 1 MB) without a stack overflow', () => {
    const input = leafWith((tbs) => {
      tbs[5]!.children![0]!.children![0]!.children![1] = { ...ia5(0x0c, 'deep'), nest: 200_000 };
    });
    expect(input.length).toBeGreaterThan(900_000);
    expect(parseCertificateDer(input).subject).toMatch(/^CN=#30/);
  });
});
