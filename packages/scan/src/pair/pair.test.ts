import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ocsp from '@staplewarm/ocsp';
import { certIdFor, parseCertificates, type ParsedCertificate } from '@staplewarm/ocsp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeOpensslPki, type OpensslPki } from '@staplewarm/testing';
import { MAX_ISSUER_CANDIDATES } from './issuers.js';
import { PENDING_WINDOW, Pairer, pairLeaves, type FoundCertificate } from './pair.js';

// A pass-through spy on the signature check, to count what pairing costs.
vi.mock('@staplewarm/ocsp', async (importOriginal) => {
  const actual = await importOriginal<typeof ocsp>();
  return { ...actual, isIssuedBy: vi.fn(actual.isIssuedBy) };
});
const signatureChecks = vi.mocked(ocsp.isIssuedBy);

/**
 * `count` distinct certificates made from one: the last two bytes of its DER changed. Those are
 * the end of an RSA signature, which stays a well-formed certificate (and no longer verifies):
 * many certificates for a test without an openssl call each. Never the original's two bytes: that
 * "variant" would be the original itself (a CI failure, 1 run in ~77: the leaf's key is random).
 */
function variants(der: Buffer, count: number): ParsedCertificate[] {
  const original = der.readUInt16BE(der.length - 2);
  return Array.from({ length: count }, (_, i) => {
    const copy = Buffer.from(der);
    copy.writeUInt16BE(i < original ? i : i + 1, copy.length - 2);
    return parseCertificates(copy)[0] as ParsedCertificate;
  });
}

// Issuers that share a subject name but not a key: a re-keyed intermediate, or an impostor.
describe('pairLeaves with two CAs of the same name', () => {
  let dir: string;
  const now = Date.now();
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const parse = (file: string): ParsedCertificate => parseCertificates(readFileSync(join(dir, file)), file)[0] as ParsedCertificate;
  const found = (cert: ParsedCertificate, path: string): FoundCertificate => ({ cert, path, index: 0 });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-pair-'));
    // Without key identifiers (`none`), only the signature can tell the two CAs apart.
    const noIds = ['-addext', 'subjectKeyIdentifier=none', '-addext', 'authorityKeyIdentifier=none'];
    for (const ca of ['first', 'second']) {
      openssl([
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${ca}.key`,
        '-out',
        `${ca}.pem`,
        '-subj',
        '/CN=Same Name CA',
        '-days',
        '30',
        '-addext',
        'basicConstraints=critical,CA:true',
        ...noIds,
      ]);
    }
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'leaf.key',
      '-out',
      'leaf.csr',
      '-subj',
      '/CN=leaf.test',
    ]);
    writeFileSync(
      join(dir, 'leaf.ext'),
      'subjectKeyIdentifier=none\nauthorityKeyIdentifier=none\nauthorityInfoAccess=OCSP;URI:http://ocsp.test/\n',
    );
    openssl([
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'second.pem',
      '-CAkey',
      'second.key',
      '-out',
      'leaf.pem',
      '-days',
      '10',
      '-extfile',
      'leaf.ext',
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets the signature decide when there are no key identifiers', () => {
    const leaf = parse('leaf.pem');
    expect(leaf.authorityKeyId).toBeUndefined();
    const [first, second] = [parse('first.pem'), parse('second.pem')];
    const result = pairLeaves([found(first, 'first.pem'), found(leaf, 'leaf.pem'), found(second, 'second.pem')], now);
    expect(result.problems).toEqual([]);
    expect(result.targets.map((t) => t.certId)).toEqual([certIdFor(leaf, second)]);

    const impostorOnly = pairLeaves([found(first, 'first.pem'), found(leaf, 'leaf.pem')], now);
    expect(impostorOnly.targets).toEqual([]);
    expect(impostorOnly.problems.map((p) => [p.path, p.code])).toEqual([['leaf.pem', 'no-issuer']]);
  });

  it('follows the key identifiers when both CAs have them', () => {
    // Two openssl CAs named alike ("staplewarm test issuer"), each with its own key and SKI.
    const one = makeOpensslPki(join(dir, 'one'), [{ name: 'one.test', ocspUrls: ['http://ocsp.test/'] }]);
    const two = makeOpensslPki(join(dir, 'two'), [{ name: 'two.test', ocspUrls: ['http://ocsp.test/'] }]);
    const read = (path: string) => found(parseCertificates(readFileSync(path), path)[0] as ParsedCertificate, path);
    const [issuerOne, issuerTwo] = [read(one.issuerPem), read(two.issuerPem)];
    expect(issuerOne.cert.subjectNameDer).toEqual(issuerTwo.cert.subjectNameDer);
    const [leafOne, leafTwo] = [read(one.leaves.get('one.test') as string), read(two.leaves.get('two.test') as string)];

    const result = pairLeaves([issuerTwo, leafOne, leafTwo, issuerOne], now);
    const byName = Object.fromEntries(result.targets.map((t) => [t.names[0], t.certId]));
    expect(byName).toEqual({ 'one.test': certIdFor(leafOne.cert, issuerOne.cert), 'two.test': certIdFor(leafTwo.cert, issuerTwo.cert) });
  });
});

describe('pairing cost and memory', () => {
  let dir: string;
  let pki: OpensslPki;
  const now = Date.now();
  const read = (path: string): ParsedCertificate => parseCertificates(readFileSync(path), path)[0] as ParsedCertificate;
  const inFile = (path: string, certs: ParsedCertificate[]): FoundCertificate[] => certs.map((cert, index) => ({ cert, path, index }));
  let leaf: ParsedCertificate;
  let issuer: ParsedCertificate;
  /** RSA CA certificates named like the test issuer, without key identifiers: only a signature tells them apart. */
  let lookAlikes: ParsedCertificate[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-pair-cost-'));
    pki = makeOpensslPki(join(dir, 'pki'), [{ name: 'leaf.test', ocspUrls: ['http://ocsp.test/'] }]);
    leaf = read(pki.leaves.get('leaf.test') as string);
    issuer = read(pki.issuerPem);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'fake.key',
        '-out',
        'fake.pem',
        '-subj',
        '/CN=staplewarm test issuer',
        '-days',
        '30',
        '-addext',
        'basicConstraints=critical,CA:true',
        '-addext',
        'subjectKeyIdentifier=none',
        '-addext',
        'authorityKeyIdentifier=none',
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    lookAlikes = variants(read(join(dir, 'fake.pem')).der, 850);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('checks at most MAX_ISSUER_CANDIDATES signatures per leaf in a bundle of 850 leaves and 850 look-alike CAs, and reports the leaves', () => {
    const leaves = variants(leaf.der, 850);
    expect(lookAlikes[0]?.subjectNameDer).toEqual(leaf.issuerNameDer);
    // The real issuer comes last: beyond the candidates checked, as an attacker would place it.
    const hostile = inFile('hostile.pem', [...leaves, ...lookAlikes, issuer]);
    const good = inFile('good.pem', [leaf, issuer]);
    signatureChecks.mockClear();
    const started = performance.now();
    const result = pairLeaves([...good, ...hostile], now);
    const elapsed = performance.now() - started;
    // Each hostile leaf: the first MAX_ISSUER_CANDIDATES look-alikes, then reported. Before the
    // bound, each leaf checked every CA after it: 850 x 851 = 723,350 checks, tens of seconds.
    expect(signatureChecks).toHaveBeenCalledTimes(850 * MAX_ISSUER_CANDIDATES);
    expect(elapsed).toBeLessThan(5_000);
    expect(result.targets.map((t) => t.fingerprint)).toEqual([leaf.fingerprint]);
    expect(result.problems).toHaveLength(850);
    expect(result.problems[0]).toMatchObject({ path: 'hostile.pem', code: 'too-many-issuers', fingerprint: leaves[0]?.fingerprint });
    expect(result.problems[0]?.detail).toBe(
      `more than ${MAX_ISSUER_CANDIDATES} certificates are named as the issuer of CN=leaf.test; ` +
        `the first ${MAX_ISSUER_CANDIDATES} were checked and none signed it, the others were not`,
    );
  });

  it("looks first at the CAs whose key identifier matches a leaf's: look-alikes elsewhere in the scan cost one check", () => {
    signatureChecks.mockClear();
    // The look-alikes' file comes first; the real issuer's last.
    const result = pairLeaves(
      [...inFile('a-fakes.pem', lookAlikes), ...inFile('b-leaf.pem', [leaf]), ...inFile('c-ca.pem', [issuer])],
      now,
    );
    expect(result.targets.map((t) => t.certId)).toEqual([certIdFor(leaf, issuer)]);
    expect(signatureChecks).toHaveBeenCalledTimes(1);
    // The look-alikes carry no key identifier, so by names and key identifiers they may have issued the leaf: not reported.
    expect(result.problems).toEqual([]);
  });

  it('keeps no certificate of a leaf it is done with: a copy found later adds a path, not a second target', () => {
    const pairer = new Pairer(now);
    expect(pairer.addFile('a/cert.pem', [leaf])).toEqual([]);
    expect(pairer.known(leaf.fingerprint)).toBe(leaf); // waiting for its issuer
    const [target] = pairer.addFile('a/fullchain.pem', [leaf, issuer]);
    expect(target?.paths).toEqual(['a/cert.pem', 'a/fullchain.pem']);
    expect(pairer.known(leaf.fingerprint)).toEqual({ fingerprint: leaf.fingerprint, released: true });
    expect(pairer.known(issuer.fingerprint)).toBe(issuer); // CA certificates are kept to the end
    expect(pairer.addFile('b/copy.pem', [{ fingerprint: leaf.fingerprint, released: true }])).toEqual([]);
    const end = pairer.finish();
    expect(end.targets).toEqual([]);
    expect(end.leaves).toBe(1);
    expect([...end.morePaths]).toEqual([[leaf.fingerprint, ['b/copy.pem']]]);
  });

  it(`pairs waiting leaves with the CAs read so far once more than PENDING_WINDOW (${PENDING_WINDOW}) wait, and loses none`, () => {
    const leaves = variants(leaf.der, PENDING_WINDOW + 50);
    const early = new Pairer(now);
    early.addFile('ca/issuer.pem', [issuer]);
    const handedOut = leaves.flatMap((cert, i) => early.addFile(`leaves/${i}.pem`, [cert]));
    // The 50 oldest went out while reading, and their certificates with them.
    expect(handedOut.map((t) => t.fingerprint)).toEqual(leaves.slice(0, 50).map((c) => c.fingerprint));
    expect(early.known(leaves[0]?.fingerprint as string)).toEqual({ fingerprint: leaves[0]?.fingerprint, released: true });
    expect(early.known(leaves[50]?.fingerprint as string)).toBe(leaves[50]);
    const rest = early.finish();
    expect([...handedOut, ...rest.targets].map((t) => t.fingerprint).sort()).toEqual(leaves.map((c) => c.fingerprint).sort());

    // The CA read last: the oldest are tried while reading, wait, and are paired at the end.
    const late = new Pairer(now);
    expect(leaves.flatMap((cert, i) => late.addFile(`leaves/${i}.pem`, [cert]))).toEqual([]);
    late.addFile('z/issuer.pem', [issuer]);
    const end = late.finish();
    expect(end.targets).toHaveLength(leaves.length);
    expect(end.problems).toEqual([]);
  });
});
