import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateBlocks, decodePemBody, isPrivateKeyPem, looksLikePem, pemBlocks, pemLabels } from './pem.js';
import { type TestPki, createTestPki, privateKeyPem } from './testing/index.js';

// The regexes the splitter replaced, kept here as the reference for normal input.
const OLD_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const OLD_BODY = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const OLD_ANY_BEGIN = /-----BEGIN [A-Z0-9 ]+-----/;
const OLD_PRIVATE_KEY_BEGIN = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
function oldCertificateBlocks(text: string): Buffer[] {
  return [...text.matchAll(OLD_BODY)].map((match) => {
    const body = (match[1] ?? '').replace(/\s+/g, '');
    return /^[A-Za-z0-9+/=]*$/.test(body) ? Buffer.from(body, 'base64') : Buffer.alloc(0);
  });
}

function expectSameAsRegex(text: string): void {
  expect(pemBlocks(text).map((block) => block.text)).toEqual(text.match(OLD_BLOCK) ?? []);
  expect(pemBlocks(text).map((block) => block.body)).toEqual([...text.matchAll(OLD_BODY)].map((match) => match[1]));
  expect(certificateBlocks(text)).toEqual(oldCertificateBlocks(text));
  expect(looksLikePem(text)).toBe(OLD_ANY_BEGIN.test(text));
  expect(isPrivateKeyPem(text)).toBe(OLD_PRIVATE_KEY_BEGIN.test(text));
}

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
let pki: TestPki;
beforeAll(() => {
  pki = createTestPki({ now: NOW });
});

describe('pemBlocks, certificateBlocks, looksLikePem, isPrivateKeyPem: the same answers as the regexes on normal input', () => {
  const cases: [string, () => string][] = [
    ['one certificate', () => pki.leaf().pem],
    ['a fullchain bundle', () => `${pki.leaf().pem}${pki.issuer.pem}${pki.root.pem}`],
    ['CRLF line endings', () => `${pki.issuer.pem}${pki.root.pem}`.replace(/\n/g, '\r\n')],
    [
      'a key first, comments and blank lines between blocks',
      () => `${privateKeyPem(pki.issuer.key)}# note\n\n${pki.leaf().pem}\n  \n${pki.root.pem}`,
    ],
    ['indented lines and trailing spaces', () => pki.issuer.pem.replace(/\n(?!-----END)/g, '\n   ').replace(/\n/g, ' \t\n')],
    [
      'other blocks around the certificate',
      () =>
        `-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\n${pki.root.pem}`,
    ],
    ['a body that is not base64', () => `-----BEGIN CERTIFICATE-----\nMIIB!!notbase64\n-----END CERTIFICATE-----\n${pki.root.pem}`],
    ['a BEGIN without an END at the end', () => `${pki.root.pem}-----BEGIN CERTIFICATE-----\nMIIB\n`],
    ['two BEGINs before one END', () => `-----BEGIN CERTIFICATE-----\nAAAA\n${pki.root.pem}`],
    ['an END without a BEGIN', () => `-----END CERTIFICATE-----\n${pki.root.pem}-----END CERTIFICATE-----\n`],
    [
      'encrypted and EC private keys',
      () => '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n-----BEGIN EC PRIVATE KEY-----\n',
    ],
    ['a label with a lowercase letter (not PEM)', () => '-----BEGIN private KEY-----\nAAAA\n-----END private KEY-----\n'],
    ['no PEM at all', () => 'hello\nworld\n'],
    ['empty text', () => ''],
  ];

  it.each(cases)('%s', (_what, text) => expectSameAsRegex(text()));

  it('on any mix of markers, base64 lines and whitespace (property)', () => {
    const fragment = fc.constantFrom(
      '-----BEGIN CERTIFICATE-----',
      '-----END CERTIFICATE-----',
      '-----BEGIN RSA PRIVATE KEY-----',
      '-----BEGIN PRIVATE KEY-----',
      '-----BEGIN ',
      '-----END ',
      'BEGIN ',
      'RSA ',
      'X509 ',
      'ENCRYPTED ',
      'CERTIFICATE',
      'PRIVATE KEY',
      '-----',
      '-',
      'MIIBAAEC',
      'QUJD',
      '==',
      '!',
      ' ',
      '\n',
      '\r\n',
      '\t',
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 40 }), (parts) => {
        expectSameAsRegex(parts.join(''));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('decodePemBody and pemLabels', () => {
  it('decodes a body with any whitespace, and gives an empty Buffer for one that is not base64', () => {
    expect(decodePemBody(' QUJD\r\n REVG\n')).toEqual(Buffer.from('ABCDEF'));
    expect(decodePemBody('QUJD\n!!\n')).toEqual(Buffer.alloc(0));
  });

  it('lists the distinct labels of BEGIN lines in order', () => {
    const text = `-----BEGIN PUBLIC KEY-----\nAA\n-----END PUBLIC KEY-----\n${pki.root.pem}${pki.issuer.pem}-----BEGIN X509 CRL-----\n`;
    expect(pemLabels(text)).toEqual(['PUBLIC KEY', 'CERTIFICATE', 'X509 CRL']);
    expect(pemLabels('-----BEGIN lower-----\n-----BEGIN -----\n')).toEqual([]);
    expect(pemLabels(text, 2)).toEqual(['PUBLIC KEY', 'CERTIFICATE']);
    expect(pemLabels(text, 3)).toEqual(['PUBLIC KEY', 'CERTIFICATE']); // the root and the issuer: two CERTIFICATE lines
  });
});

describe('hostile input: linear time', () => {
  // Built through a Buffer, as the scanner gets its text: a flat string, not `repeat`'s rope.
  const flat = (text: string) => Buffer.from(text, 'latin1').toString('latin1');
  // 75,000 BEGIN lines and no END: 2 MB. The former regex took minutes on it (10,000 lines: 4.5 s).
  const beginOnly = flat('-----BEGIN CERTIFICATE-----\n'.repeat(75_000));

  it('splits the 2 MB BEGIN-only input in well under 100 ms, finding nothing', () => {
    expect(beginOnly.length).toBe(2_100_000);
    const started = performance.now();
    const blocks = pemBlocks(beginOnly);
    expect(performance.now() - started).toBeLessThan(100);
    expect(blocks).toEqual([]);
    expect(certificateBlocks(beginOnly)).toEqual([]);
    expect(pemLabels(beginOnly)).toEqual(['CERTIFICATE']);
    expect(isPrivateKeyPem(beginOnly)).toBe(false);
    expect(looksLikePem(beginOnly)).toBe(true);
  });

  const hostile: [string, string][] = [
    ['75,000 BEGIN CERTIFICATE lines without an END', beginOnly],
    ['75,000 END lines', '-----END CERTIFICATE-----\n'.repeat(75_000)],
    ['one BEGIN followed by 2 MB of label characters', `-----BEGIN ${'A'.repeat(2_000_000)}`],
    ['2 MB of label characters, then PRIVATE KEY-----', `${'A '.repeat(1_000_000)}PRIVATE KEY-----`],
    [
      'BEGIN lines of growing labels without closing dashes',
      Array.from({ length: 2_000 }, (_, i) => `-----BEGIN ${'K'.repeat(i)}`).join('\n'),
    ],
    ['"-----BEGIN " repeated', '-----BEGIN '.repeat(190_000)],
    ['"PRIVATE KEY-----" repeated', 'PRIVATE KEY-----'.repeat(130_000)],
    ['BEGIN lines whose labels are all but a PRIVATE KEY', '-----BEGIN RSA PRIVATE KEYS-----\n'.repeat(63_000)],
  ];

  // Best of three runs: a loaded machine can stall one run, but a quadratic pass fails all three.
  it.each(hostile)('%s (2 MB): every function in well under 100 ms', (_what, text) => {
    const input = flat(text);
    expect(input.length).toBeGreaterThan(1_900_000);
    for (const run of [pemBlocks, certificateBlocks, looksLikePem, isPrivateKeyPem, pemLabels] as ((text: string) => unknown)[]) {
      const times = [0, 1, 2].map(() => {
        const started = performance.now();
        run(input);
        return performance.now() - started;
      });
      expect(Math.min(...times), run.name).toBeLessThan(100);
    }
  });
});
