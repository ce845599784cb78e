/**
 * Differential fuzz test of the DER reader (der.ts, x509.ts, certificate-extensions.ts, response.ts)
 * against OpenSSL (node:crypto X509Certificate) and asn1js/pkijs. See README.md "Fuzz test" for how
 * to run it longer (STAPLEWARM_FUZZ_RUNS) or replay a failure (STAPLEWARM_FUZZ_SEED, _PATH).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExtensionFields } from './certificate-extensions.js';
import { parseCertificates } from './certificate.js';
import { DerError, TAG } from './der.js';
import { OcspError, type OcspErrorCode } from './errors.js';
import { readOcspResponse } from './response.js';
import { parseOcspResponse } from './summary.js';
import { type DerViolation, derViolations } from './testing/ber-scan.js';
import { applyMutation, mutationArb, randomTreeArb } from './testing/der-mutations.js';
import { encodeDerTree } from './testing/der-tree.js';
import { type Outcome, compare, compareCertificate, compareResponse, ourCertificate, ourResponse } from './testing/differential.js';
import { certificateOracle, responseOracle } from './testing/oracles.js';
import { type FuzzFixtures, createFuzzFixtures } from './testing/fuzz-fixtures.js';
import { OcspVerifier } from './verify.js';
import { readX509 } from './x509.js';

const NOW = Date.UTC(2026, 0, 15, 12);
/** Runs per property; each property has its own default (a few seconds in all on 2 cores). */
const RUNS = Number(process.env.STAPLEWARM_FUZZ_RUNS) || undefined;
const SEED = Number(process.env.STAPLEWARM_FUZZ_SEED ?? 20260115);
/** fast-check's replay path of a failure (printed with the seed): replays that one input. */
const PATH = process.env.STAPLEWARM_FUZZ_PATH;
/** No input may take longer to parse than this: a hang, not a slow machine. */
const HANG_MS = 250;

function params(runs: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: RUNS ?? runs, ...(PATH && { path: PATH }) };
}

/** Test timeout that grows with STAPLEWARM_FUZZ_RUNS (about 25 ms an input on a loaded 2-core machine). */
function timeout(runs: number): number {
  return 60_000 + (RUNS ?? runs) * 25;
}

const VERIFY_CODES: ReadonlySet<OcspErrorCode> = new Set<OcspErrorCode>([
  'malformed',
  'malformed-certificate',
  'unsuccessful:malformedRequest',
  'unsuccessful:internalError',
  'unsuccessful:tryLater',
  'unsuccessful:sigRequired',
  'unsuccessful:unauthorized',
  'certid-mismatch',
  'bad-signature',
  'unauthorized-signer',
  'unsupported-algorithm',
  'not-yet-valid',
  'expired',
  'no-next-update',
]);

let fixtures: FuzzFixtures;
/** Outcome counts per differential, printed after the run: how often each exception applied. */
const tallies = new Map<string, Map<string, number>>();
let slowest = 0;

beforeAll(() => {
  fixtures = createFuzzFixtures(NOW);
});

afterAll(() => {
  const lines = [...tallies].map(([name, counts]) => {
    const entries = [...counts].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${key} ${n}`);
    return `  ${name}: ${entries.join(', ')}`;
  });
  console.log(`DER fuzz (seed ${SEED}); slowest parse ${slowest.toFixed(1)} ms\n${lines.join('\n')}`);
});

function tally(name: string, outcome: Outcome): void {
  const key = outcome.agreement === 'exception' ? `exception:${outcome.rule}` : outcome.agreement;
  const counts = tallies.get(name) ?? new Map<string, number>();
  counts.set(key, (counts.get(key) ?? 0) + 1);
  tallies.set(name, counts);
}

/** Runs `parse` on `der`, fails on a hang, and returns its outcome. */
function timed<T>(parse: () => T): T {
  const start = performance.now();
  const result = parse();
  const elapsed = performance.now() - start;
  slowest = Math.max(slowest, elapsed);
  expect(elapsed, 'one input took too long to parse').toBeLessThan(HANG_MS);
  return result;
}

function certificateBytes(name: string): Buffer {
  return fixtures.certificates[name]!;
}

function responseBytes(name: string): Buffer {
  return fixtures.responses[name]!.der;
}

/** Throws unless `err` is what a reader may throw: an OcspError with `code` whose cause (if any) is a DerError. */
function expectTypedRejection(err: unknown, code: OcspErrorCode): void {
  expect(err).toBeInstanceOf(OcspError);
  expect((err as OcspError).code).toBe(code);
  const cause = (err as OcspError).cause;
  if (cause !== undefined) expect(cause).toBeInstanceOf(DerError);
}

describe('DER reader: differential fuzz against OpenSSL and asn1js/pkijs', () => {
  it('agrees with the oracles on the unmutated fixtures', () => {
    for (const der of Object.values(fixtures.certificates)) expect(compareCertificate(der)).toEqual({ agreement: 'both-accept' });
    for (const { der } of Object.values(fixtures.responses)) expect(compareResponse(der)).toEqual({ agreement: 'both-accept' });
  });

  it(
    'certificates: accepts what the oracles accept with the same fields, rejects what they reject',
    () => {
      fc.assert(
        fc.property(mutationArb(Object.keys(fixtures.certificates)), (mutation) => {
          const der = applyMutation(certificateBytes(mutation.fixture), mutation);
          const outcome = compare(
            der,
            timed(() => ourCertificate(der)),
            certificateOracle(der),
          );
          tally('certificates', outcome);
          if (outcome.agreement === 'mismatch') throw new Error(outcome.detail);
        }),
        params(200),
      );
      expectSomeAgreement('certificates');
    },
    timeout(200),
  );

  it(
    'OCSP responses: accepts what the oracles accept with the same fields, rejects what they reject',
    () => {
      fc.assert(
        fc.property(mutationArb(Object.keys(fixtures.responses)), (mutation) => {
          const der = applyMutation(responseBytes(mutation.fixture), mutation);
          const outcome = compare(
            der,
            timed(() => ourResponse(der)),
            responseOracle(der),
          );
          tally('responses', outcome);
          if (outcome.agreement === 'mismatch') throw new Error(outcome.detail);
        }),
        params(200),
      );
      expectSomeAgreement('responses');
    },
    timeout(200),
  );
});

/** A differential where nothing is accepted (or nothing rejected) tests nothing: both must occur. */
function expectSomeAgreement(name: string): void {
  if (PATH) return; // a replay runs one input
  const counts = tallies.get(name)!;
  expect(counts.get('both-accept') ?? 0, `${name}: inputs both accepted`).toBeGreaterThan(0);
  expect(counts.get('both-reject') ?? 0, `${name}: inputs both rejected`).toBeGreaterThan(0);
}

describe('DER reader: totality', () => {
  /** Random bytes, random ASN.1-shaped trees, and mutated fixtures (built when a test runs, after beforeAll). */
  const inputs = (fixtureNames: string[], bytesOf: (name: string) => Buffer): fc.Arbitrary<Buffer> =>
    fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
      randomTreeArb,
      mutationArb(fixtureNames).map((mutation) => applyMutation(bytesOf(mutation.fixture), mutation)),
    );

  it(
    'parseCertificates and parseOcspResponse return or throw their typed OcspError, never anything else',
    () => {
      fc.assert(
        fc.property(
          inputs(Object.keys(fixtures.certificates), certificateBytes),
          inputs(Object.keys(fixtures.responses), responseBytes),
          (certificate, response) => {
            timed(() => {
              try {
                parseCertificates(certificate, 'fuzz.der');
              } catch (err) {
                expectTypedRejection(err, 'malformed-certificate');
              }
            });
            timed(() => {
              try {
                parseOcspResponse(response);
              } catch (err) {
                expectTypedRejection(err, 'malformed');
              }
            });
          },
        ),
        params(400),
      );
    },
    timeout(400),
  );

  it(
    'OcspVerifier.verify throws only OcspError with a documented code, and `malformed` exactly when the response does not parse',
    () => {
      const verifier = new OcspVerifier();
      fc.assert(
        fc.property(mutationArb(Object.keys(fixtures.responses)), (mutation) => {
          const { der: original, expect: expectation } = fixtures.responses[mutation.fixture]!;
          const der = applyMutation(original, mutation);
          let parses = true;
          try {
            readOcspResponse(der);
          } catch {
            parses = false;
          }
          timed(() => {
            try {
              verifier.verify(der, expectation, NOW);
            } catch (err) {
              expect(err).toBeInstanceOf(OcspError);
              const code = (err as OcspError).code;
              expect(VERIFY_CODES.has(code), code).toBe(true);
              expect(code === 'malformed', `${code}, though the response ${parses ? 'parses' : 'does not parse'}`).toBe(!parses);
            }
          });
        }),
        params(200),
      );
    },
    timeout(200),
  );

  it(
    'never reads outside its input: framed by random bytes in a larger buffer, an input reads as a copy of it does, and every slice lies inside it',
    () => {
      const framedArb = fc.record({
        mutation: mutationArb([...Object.keys(fixtures.certificates), ...Object.keys(fixtures.responses)]),
        before: fc.uint8Array({ minLength: 1, maxLength: 32 }),
        after: fc.uint8Array({ minLength: 1, maxLength: 32 }),
      });
      fc.assert(
        fc.property(framedArb, ({ mutation, before, after }) => {
          const isCertificate = mutation.fixture in fixtures.certificates;
          const der = applyMutation(isCertificate ? certificateBytes(mutation.fixture) : responseBytes(mutation.fixture), mutation);
          const framed = Buffer.concat([before, der, after]);
          const view = framed.subarray(before.length, before.length + der.length);
          const read = isCertificate ? readCertificateLayer : readResponseLayer;
          const inView = read(view);
          expect(inView).toEqual(read(Buffer.from(der)));
          for (const slice of buffersIn(inView)) {
            expect(slice.buffer).toBe(framed.buffer);
            expect(slice.byteOffset).toBeGreaterThanOrEqual(view.byteOffset);
            expect(slice.byteOffset + slice.length).toBeLessThanOrEqual(view.byteOffset + view.length);
          }
        }),
        params(200),
      );
    },
    timeout(200),
  );
});

/** The zero-copy layer of certificate reading (no copy, unlike parseCertificateDer), or its error code. */
function readCertificateLayer(der: Buffer): unknown {
  try {
    const x509 = readX509(der);
    return { x509, extensions: readExtensionFields(x509.extensions) };
  } catch (err) {
    return { error: err instanceof DerError ? err.code : String(err) };
  }
}

function readResponseLayer(der: Buffer): unknown {
  try {
    return readOcspResponse(der);
  } catch (err) {
    return { error: err instanceof OcspError ? err.message : String(err) };
  }
}

function buffersIn(value: unknown, out: Buffer[] = []): Buffer[] {
  if (Buffer.isBuffer(value)) out.push(value);
  else if (value instanceof Map) for (const item of value.values()) buffersIn(item, out);
  else if (Array.isArray(value)) for (const item of value) buffersIn(item, out);
  else if (value && typeof value === 'object' && !(value instanceof Date)) for (const item of Object.values(value)) buffersIn(item, out);
  return out;
}

describe('DER reader: the scanner that backs the exceptions', () => {
  it('finds each DER violation the exceptions name, and none in DER', () => {
    for (const der of [...Object.values(fixtures.certificates), ...Object.values(fixtures.responses).map((r) => r.der)]) {
      expect([...derViolations(der)]).toEqual([]);
    }
    const cases: [string, DerViolation][] = [
      ['30810302010a', 'non-minimal-length'],
      ['30800201050000', 'indefinite-length'],
      ['1f020105', 'high-tag-form'],
      ['2403040141', 'constructed-string'],
      ['3003010101', 'boolean-not-der'],
      ['300402020005', 'integer-not-minimal'],
      ['300f170d3236313331353132303030305a', 'time-profile'],
      ['3003030101', 'bit-string-unused-bits'],
      ['300406022a80', 'oid-not-minimal'],
      ['30083003020205000500', 'inner-overrun'],
      ['30040c02c328', 'string-not-valid'],
      ['1003020105', 'primitive-sequence'],
      ['300406000000', 'end-of-contents'],
      [encodeDerTree({ tag: TAG.NULL, content: Buffer.alloc(0), nest: 120 }).toString('hex'), 'deep-nesting'],
    ];
    for (const [hex, kind] of cases) expect([...derViolations(Buffer.from(hex, 'hex'))], hex).toContain(kind);
  });
});
