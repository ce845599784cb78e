import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certIdFor, parseCertificates, type ParsedCertificate } from '@staplewarm/ocsp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOpensslPki } from '../../../test/helpers/openssl-pki.js';
import { pairLeaves } from './pair.js';
import type { FoundCertificate } from './read.js';

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
