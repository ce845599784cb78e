// Certificate stores as a hosting platform has them: customers' files, some hostile or broken.
// Every bad file must become a problem for that file, promptly, and the good ones must still come out.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeOpensslPki, type OpensslPki } from '@staplewarm/testing';
import { parseCertificates, type ParsedCertificate } from '@staplewarm/ocsp';
import {
  DEFAULT_MAX_FILE_BYTES,
  ScanError,
  pairLeaves,
  pairWithinBundle,
  scanCertificateStores,
  type ScanReport,
  type ScannedTarget,
} from './index.js';
import { collectTargets, type Collected } from './collect/collect.js';
import { CertificateReader } from './collect/read.js';

const now = Date.now();
const url = 'http://ocsp.example.test/';

describe('scanCertificateStores over hostile and odd files', () => {
  let dir: string;
  let pki: OpensslPki;
  let other: OpensslPki;
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const leaf = (name: string) => pki.leaves.get(name) as string;
  const codes = (report: Pick<ScanReport, 'problems'>, root: string) =>
    Object.fromEntries(report.problems.map((p) => [p.path.slice(root.length + 1), p.code]));
  /** The scan's steps in this thread, as its own thread runs them. */
  const scanHere = (paths: string[]): Collected & { targets: ScannedTarget[] } => {
    const targets: ScannedTarget[] = [];
    const onChunk = (chunk: ScannedTarget[]): void => void targets.push(...chunk);
    return { ...collectTargets(paths, { now, hash: 'sha1', maxFileBytes: DEFAULT_MAX_FILE_BYTES, batchSize: 500, onChunk }), targets };
  };

  /** A certbot lineage: cert.pem, chain.pem (the issuer alone), fullchain.pem. */
  const lineage = (root: string, name: string): void => {
    const live = join(root, 'live', name);
    mkdirSync(live, { recursive: true });
    copyFileSync(leaf(name), join(live, 'cert.pem'));
    copyFileSync(pki.issuerPem, join(live, 'chain.pem'));
    writeFileSync(join(live, 'fullchain.pem'), readFileSync(leaf(name), 'utf8') + readFileSync(pki.issuerPem, 'utf8'));
  };

  /** `openssl req -x509`, as a customer makes a certificate: a self-signed CA by OpenSSL's defaults. */
  const selfSigned = (file: string, name: string, extra: string[] = []): void => {
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${file}.key`,
      '-out',
      file,
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
      '-days',
      '30',
      ...extra,
    ]);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-hostile-'));
    pki = makeOpensslPki(join(dir, 'pki'), [
      { name: 'good.test', ocspUrls: [url] },
      { name: 'also-good.test', ocspUrls: [url] },
      { name: 'no-ocsp.test', ocspUrls: [] },
    ]);
    other = makeOpensslPki(join(dir, 'other'), []);
  });
  afterAll(() => {
    try {
      closeSync(openSync(join(dir, 'special', 'pipe.pem'), constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no thread is blocked opening it, as it should be.
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a FIFO and a link to /dev/zero as not-a-regular-file, promptly, and reads the rest', async () => {
    const store = join(dir, 'special');
    lineage(store, 'good.test');
    execFileSync('mkfifo', [join(store, 'pipe.pem')]);
    symlinkSync('/dev/zero', join(store, 'zero.pem'));
    const started = performance.now();
    // A FIFO opened without O_NONBLOCK would block the scan's thread: it would then stall (rejected
    // after 3 s), and afterAll's writer frees the thread.
    const report = await scanCertificateStores([store, join(store, 'pipe.pem')], { now, stallTimeoutMs: 3_000 });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(report.problems.map((p) => [p.path.slice(store.length + 1), p.code, p.detail])).toEqual([
      ['pipe.pem', 'not-a-regular-file', 'a FIFO (named pipe); not read'],
      ['pipe.pem', 'not-a-regular-file', 'a FIFO (named pipe); not read'], // also named on the command line
      ['zero.pem', 'not-a-regular-file', 'a character device; not read'],
    ]);
    expect(report.targets.map((t) => t.names)).toEqual([['good.test']]);
  });

  it('reports a file over maxFileBytes as too-large without reading it: a 600 MB sparse file beside good certificates', async () => {
    const store = join(dir, 'big');
    lineage(store, 'good.test');
    writeFileSync(join(store, 'big.pem'), '');
    truncateSync(join(store, 'big.pem'), 600 * 1024 * 1024);
    const report = await scanCertificateStores([store], { now });
    expect(report.problems).toEqual([
      {
        path: join(store, 'big.pem'),
        code: 'too-large',
        detail: '629145600 bytes, over the limit of 1048576 bytes (--max-cert-file-bytes / STAPLEWARM_MAX_CERT_FILE_BYTES); not read',
      },
    ]);
    expect(report.targets).toHaveLength(1);
    // The limit is the caller's: a fullchain.pem of 2 KB or so is over 1,000 bytes.
    const small = await scanCertificateStores([join(store, 'live', 'good.test', 'fullchain.pem')], { now, maxFileBytes: 1_000 });
    expect(small.problems.map((p) => p.code)).toEqual(['too-large']);
  });

  it('reports the 2 MB BEGIN-only file as not-a-certificate in well under a second when it is read', async () => {
    const store = join(dir, 'begin-only');
    lineage(store, 'good.test');
    writeFileSync(join(store, 'begin.pem'), '-----BEGIN CERTIFICATE-----\n'.repeat(75_000));
    const started = performance.now();
    const report = await scanCertificateStores([store], { now, maxFileBytes: 4 * 1_048_576 });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(report.problems.map((p) => [p.path.slice(store.length + 1), p.code, p.detail])).toEqual([
      ['begin.pem', 'not-a-certificate', 'no complete PEM CERTIFICATE block (BEGIN lines for: CERTIFICATE)'],
    ]);
    expect(report.targets).toHaveLength(1);
  });

  it('reports self-signed certificates, CA or not, instead of warming them or counting them as "no OCSP URL"', async () => {
    const store = join(dir, 'self');
    lineage(store, 'good.test');
    selfSigned(join(store, 'customer.pem'), 'customer.test');
    // A self-signed leaf with an OCSP URL, twice in its bundle: its copy must not pass for its issuer.
    selfSigned(join(store, 'leaf.pem'), 'leaf.test', [
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      `authorityInfoAccess=OCSP;URI:${url}`,
    ]);
    writeFileSync(join(store, 'leaf-twice.pem'), readFileSync(join(store, 'leaf.pem'), 'utf8').repeat(2));
    selfSigned(join(store, 'plain.pem'), 'plain.test', ['-addext', 'basicConstraints=critical,CA:FALSE']);
    const streamed: string[] = [];
    const report = await scanCertificateStores([store], {
      now,
      onTargets: (targets) => void streamed.push(...targets.map((t) => t.names[0] ?? '')),
    });
    const problems = Object.fromEntries(report.problems.map((p) => [p.path.slice(store.length + 1), p]));
    // leaf.pem and leaf-twice.pem hold one certificate: reported once, at the first path.
    expect(Object.keys(problems).sort()).toEqual(['customer.pem', 'leaf-twice.pem', 'plain.pem']);
    expect(problems['customer.pem']).toMatchObject({ code: 'self-signed', names: ['customer.test'] });
    expect(problems['customer.pem']?.detail).toContain('CN=customer.test');
    expect(problems['leaf-twice.pem']).toMatchObject({ code: 'self-signed', names: ['leaf.test'] });
    expect(problems['plain.pem']).toMatchObject({ code: 'self-signed', names: ['plain.test'] });
    expect(report.targets.map((t) => t.names)).toEqual([['good.test']]);
    expect(streamed).toEqual(['good.test']);
    expect(report.noOcspUrl).toEqual([]);
  });

  it("reports a file of CA certificates that issued no leaf of the scan as no-leaf, but not certbot's chain.pem nor a chain's root", async () => {
    const store = join(dir, 'cas');
    lineage(store, 'good.test');
    lineage(store, 'no-ocsp.test'); // since 2025, leaves without an OCSP URL: their chain.pem is normal too
    mkdirSync(join(store, 'ca'));
    copyFileSync(pki.rootPem, join(store, 'ca', 'root.pem')); // self-signed, above the scan's leaves
    copyFileSync(pki.issuerPem, join(store, 'ca', 'issuer.pem'));
    copyFileSync(other.issuerPem, join(store, 'stray-intermediate.pem'));
    writeFileSync(join(store, 'stray-chain.pem'), readFileSync(other.issuerPem, 'utf8') + readFileSync(other.rootPem, 'utf8'));
    const report = await scanCertificateStores([store], { now });
    expect(report.problems.map((p) => [p.path.slice(store.length + 1), p.code, p.detail])).toEqual([
      [
        'stray-chain.pem',
        'no-leaf',
        'no leaf certificate: only 2 CA certificates (CN=staplewarm test issuer; CN=staplewarm test root) that issued no leaf of this scan',
      ],
      [
        'stray-intermediate.pem',
        'no-leaf',
        'no leaf certificate: only a CA certificate (CN=staplewarm test issuer) that issued no leaf of this scan',
      ],
    ]);
    expect(report.targets.map((t) => t.names)).toEqual([['good.test']]);
    expect(report.noOcspUrl.map((l) => l.names)).toEqual([['no-ocsp.test']]);
  });

  // The next two break the reader with spies, which reach it in this thread only: they run the
  // scan's own steps here (`collectTargets`, what the scan's thread runs).
  it('reports a file whose reading or parsing throws anything, and reads the others', () => {
    const store = join(dir, 'throws');
    lineage(store, 'good.test');
    lineage(store, 'also-good.test');
    const parse = Reflect.get(CertificateReader.prototype, 'parse') as (this: CertificateReader, input: unknown, path: string) => unknown;
    const spy = vi.spyOn(CertificateReader.prototype as unknown as { parse: typeof parse }, 'parse').mockImplementation(function (
      this: CertificateReader,
      input,
      path,
    ) {
      if (path.includes('also-good.test')) throw new TypeError('parser bug');
      return parse.call(this, input, path);
    });
    try {
      const report = scanHere([store]);
      // The two lineages are walked in turn: good.test/chain.pem makes the issuer known before
      // also-good.test/fullchain.pem, whose leaf already failed in cert.pem (reported once).
      expect(codes(report, store)).toEqual({
        'live/also-good.test/cert.pem': 'not-a-certificate',
        'live/also-good.test/chain.pem': 'not-a-certificate',
      });
      expect(report.problems.map((p) => p.detail)).toEqual(['parser bug', 'parser bug']);
      expect(report.targets.map((t) => t.names)).toEqual([['good.test']]);
    } finally {
      spy.mockRestore();
    }
  });

  it('reports a file whose whole parsing step throws, and reads the others', () => {
    const store = join(dir, 'throws-outside');
    lineage(store, 'good.test');
    lineage(store, 'also-good.test');
    const parseFile = Reflect.get(CertificateReader.prototype, 'parseFile') as (
      this: CertificateReader,
      path: string,
      bytes: Buffer,
    ) => unknown;
    const spy = vi
      .spyOn(CertificateReader.prototype as unknown as { parseFile: typeof parseFile }, 'parseFile')
      .mockImplementation(function (this: CertificateReader, path, bytes) {
        if (path.endsWith(join('also-good.test', 'fullchain.pem'))) throw new RangeError('out of memory, say');
        return parseFile.call(this, path, bytes);
      });
    try {
      const report = scanHere([store]);
      expect(report.problems.map((p) => [p.path.slice(store.length + 1), p.code, p.detail])).toEqual([
        ['live/also-good.test/fullchain.pem', 'not-a-certificate', 'could not be parsed: out of memory, say'],
      ]);
      expect(report.targets.map((t) => t.names[0]).sort()).toEqual(['also-good.test', 'good.test']);
    } finally {
      spy.mockRestore();
    }
  });

  it('reports a leaf whose target cannot be built as unusable, and pairs the others', () => {
    const parse = (file: string) => parseCertificates(readFileSync(file), file)[0] as ParsedCertificate;
    const issuer = parse(pki.issuerPem);
    // A parsed certificate that a later step rejects (here the OCSP request writer, which wants a hex serial).
    const broken = { ...parse(leaf('also-good.test')), serialNumber: 'not hex' };
    const badFile = [
      { cert: broken, path: 'bad.pem', index: 0 },
      { cert: issuer, path: 'bad.pem', index: 1 },
    ];
    expect(pairWithinBundle(badFile, now)).toEqual([]);
    const result = pairLeaves(
      [{ cert: parse(leaf('good.test')), path: 'good.pem', index: 0 }, { cert: issuer, path: 'good.pem', index: 1 }, ...badFile],
      now,
    );
    expect(result.targets.map((t) => t.names)).toEqual([['good.test']]);
    expect(result.problems).toEqual([
      expect.objectContaining({ path: 'bad.pem', code: 'unusable', fingerprint: broken.fingerprint, names: ['also-good.test'] }),
    ]);
    expect(result.problems[0]?.detail).toContain('not hex');
  });

  it('reports each leaf of a bundle of 850 leaves and 850 look-alike CAs as too-many-issuers, in linear time, and warms the others', async () => {
    const store = join(dir, 'look-alikes');
    lineage(store, 'good.test');
    // An RSA CA named like the test issuer, without key identifiers: only a signature tells it apart.
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'look-alike.key',
      '-out',
      'look-alike.pem',
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
    ]);
    // 850 distinct certificates of each: the end of the RSA signature changed (they stay well formed).
    const variants = (pemFile: string): string[] => {
      const der = Buffer.from(readFileSync(pemFile, 'latin1').replace(/-----[^-]+-----|\s/g, ''), 'base64');
      return Array.from({ length: 850 }, (_, i) => {
        der.writeUInt16BE(i, der.length - 2);
        return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
      });
    };
    const bundle = [...variants(leaf('also-good.test')), ...variants(join(dir, 'look-alike.pem'))].join('');
    writeFileSync(join(store, 'hostile.pem'), bundle);
    expect(bundle.length).toBeGreaterThan(1_048_576);
    const started = performance.now();
    const report = await scanCertificateStores([store], { now, maxFileBytes: 4 * 1_048_576 });
    // Checking every CA after each leaf took 723,350 signature checks (~30 s); now 4 per leaf.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(report.problems).toHaveLength(850);
    expect(report.problems.every((p) => p.path === join(store, 'hostile.pem') && p.code === 'too-many-issuers')).toBe(true);
    expect(report.targets.map((t) => t.names)).toEqual([['good.test']]);
  });

  it('refuses options that cannot work', async () => {
    for (const maxFileBytes of [0, -1, 1.5, Number.NaN]) {
      await expect(scanCertificateStores([dir], { now, maxFileBytes })).rejects.toThrow(
        expect.objectContaining({ code: 'invalid-option' }),
      );
    }
    await expect(scanCertificateStores([dir], { now, maxFileBytes: 0 })).rejects.toBeInstanceOf(ScanError);
    for (const [option, value] of [
      ['batchSize', 0],
      ['batchSize', 2.5],
      ['stallTimeoutMs', -1],
      ['stallTimeoutMs', Number.POSITIVE_INFINITY],
      ['now', Number.NaN],
      ['keepTargets', false], // without onTargets: the targets would go nowhere
    ] as const) {
      await expect(scanCertificateStores([dir], { now, [option]: value })).rejects.toThrow(
        expect.objectContaining({ code: 'invalid-option', message: expect.stringContaining(option) as unknown }),
      );
    }
  });
});
