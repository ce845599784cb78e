// A small test PKI made with the openssl CLI: root -> issuer -> leaves (ECDSA P-256, fast to make),
// each leaf in a certbot-style `live/<name>/` folder, plus the `index.txt` an `openssl ocsp`
// responder answers from (one leaf can be revoked). Stands in for apps/responder-sim's PKI.
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runOk } from './processes.js';

export interface SiteSpec {
  /** DNS names (subjectAltName); the first names the folder under live/ (without "*."). */
  names: string[];
  revoked?: boolean;
  /**
   * This leaf's OCSP URL (AIA) instead of the PKI's; written as is, so a test can make the hostile
   * ones a customer could (CR/LF are escaped for openssl's config syntax, which turns them back).
   */
  responderUrl?: string;
}

export interface TestSite {
  names: string[];
  revoked: boolean;
  /** live/<name>/ with cert.pem, chain.pem, fullchain.pem, privkey.pem. */
  dir: string;
  /** Lowercase hex SHA-256 of the leaf's DER: the contract's <fp>. */
  fingerprint: string;
  /** The leaf's serial number, upper-case hex (as index.txt has it). */
  serial: string;
}

export interface TestPki {
  /** The folder staplewarm would scan (certbot `live/` layout). */
  certsDir: string;
  rootCert: string;
  ca: { index: string; issuerCert: string; issuerKey: string };
  sites: TestSite[];
}

export type KeyType = 'ec' | 'rsa';
const NEW_KEY: Record<KeyType, string[]> = {
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
  rsa: ['-newkey', 'rsa:2048', '-nodes'],
};

/** openssl's index.txt time format: YYMMDDHHMMSSZ. */
function indexTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

/** A positive serial with an even number of hex digits, as `openssl ocsp -index` expects. */
function newSerial(): string {
  const bytes = randomBytes(8);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return bytes.toString('hex').toUpperCase();
}

export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
}

async function makeCa(caDir: string): Promise<{ rootCert: string; issuerCert: string; issuerKey: string }> {
  const rootKey = path.join(caDir, 'root.key');
  const rootCert = path.join(caDir, 'root.pem');
  await runOk('openssl', [
    'req',
    '-x509',
    '-new',
    ...NEW_KEY.ec,
    '-keyout',
    rootKey,
    '-out',
    rootCert,
    '-days',
    '30',
    '-subj',
    '/CN=staplewarm test root',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);

  const issuerKey = path.join(caDir, 'issuer.key');
  const issuerCsr = path.join(caDir, 'issuer.csr');
  const issuerCert = path.join(caDir, 'issuer.pem');
  const issuerExt = path.join(caDir, 'issuer.ext');
  await writeFile(
    issuerExt,
    [
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
    ].join('\n'),
  );
  await runOk('openssl', ['req', '-new', ...NEW_KEY.ec, '-keyout', issuerKey, '-out', issuerCsr, '-subj', '/CN=staplewarm test issuer']);
  await runOk('openssl', [
    'x509',
    '-req',
    '-in',
    issuerCsr,
    '-CA',
    rootCert,
    '-CAkey',
    rootKey,
    '-set_serial',
    `0x${newSerial()}`,
    '-days',
    '30',
    '-extfile',
    issuerExt,
    '-out',
    issuerCert,
  ]);
  return { rootCert, issuerCert, issuerKey };
}

async function makeLeaf(
  spec: SiteSpec,
  liveDir: string,
  caDir: string,
  issuer: { cert: string; key: string },
  responderUrl: string,
  keyType: KeyType,
) {
  const first = spec.names[0];
  if (first === undefined) throw new Error('a site needs at least one name');
  const dir = path.join(liveDir, first.replace(/^\*\./, ''));
  await mkdir(dir, { recursive: true });
  const serial = newSerial();
  const ext = path.join(caDir, `${serial}.ext`);
  const csr = path.join(caDir, `${serial}.csr`);
  await writeFile(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${spec.names.map((n) => `DNS:${n}`).join(',')}`,
      `authorityInfoAccess=OCSP;URI:${(spec.responderUrl ?? responderUrl).replaceAll('\\', '\\\\').replaceAll('\r', '\\r').replaceAll('\n', '\\n')}`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
    ].join('\n'),
  );
  await runOk('openssl', [
    'req',
    '-new',
    ...NEW_KEY[keyType],
    '-keyout',
    path.join(dir, 'privkey.pem'),
    '-out',
    csr,
    '-subj',
    `/CN=${first}`,
  ]);
  await runOk('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    issuer.cert,
    '-CAkey',
    issuer.key,
    '-set_serial',
    `0x${serial}`,
    '-days',
    '20',
    '-extfile',
    ext,
    '-out',
    path.join(dir, 'cert.pem'),
  ]);
  const certPem = await readFile(path.join(dir, 'cert.pem'), 'utf8');
  const issuerPem = await readFile(issuer.cert, 'utf8');
  await writeFile(path.join(dir, 'chain.pem'), issuerPem);
  await writeFile(path.join(dir, 'fullchain.pem'), certPem + issuerPem);

  const notAfter = new Date(new X509Certificate(certPem).validTo);
  const now = new Date();
  const indexLine = spec.revoked
    ? ['R', indexTime(notAfter), indexTime(now), serial, 'unknown', `/CN=${first}`]
    : ['V', indexTime(notAfter), '', serial, 'unknown', `/CN=${first}`];
  const site: TestSite = { names: spec.names, revoked: spec.revoked ?? false, dir, fingerprint: fingerprintOf(certPem), serial };
  return { site, indexLine: indexLine.join('\t') };
}

/**
 * Creates the PKI under `root`; every leaf names `responderUrl` as its OCSP responder (AIA).
 * Leaves use ECDSA P-256 keys unless `leafKey` is 'rsa' (RSA-2048, what most CAs still issue).
 */
export async function createTestPki(
  root: string,
  specs: readonly SiteSpec[],
  responderUrl: string,
  leafKey: KeyType = 'ec',
): Promise<TestPki> {
  const caDir = path.join(root, 'ca');
  const certsDir = path.join(root, 'live');
  await mkdir(caDir, { recursive: true });
  await mkdir(certsDir, { recursive: true });
  const { rootCert, issuerCert, issuerKey } = await makeCa(caDir);
  const leaves = await Promise.all(
    specs.map((spec) => makeLeaf(spec, certsDir, caDir, { cert: issuerCert, key: issuerKey }, responderUrl, leafKey)),
  );
  const index = path.join(caDir, 'index.txt');
  await writeFile(index, leaves.map((l) => l.indexLine).join('\n') + '\n');
  await writeFile(`${index}.attr`, 'unique_subject = no\n');
  return { certsDir, rootCert, ca: { index, issuerCert, issuerKey }, sites: leaves.map((l) => l.site) };
}

export interface SignerCert {
  cert: string;
  key: string;
}

/**
 * An OCSP response signer other than the issuer: `delegated` is issued by the issuer with EKU
 * OCSPSigning (RFC 6960 4.2.2.2, a responder the CA authorized); `rogue` is self-signed with the same
 * EKU: a response signed by it carries it in `certs`, and no verifier may accept it for this CA.
 */
export async function makeSigner(pki: TestPki, kind: 'delegated' | 'rogue'): Promise<SignerCert> {
  const caDir = path.dirname(pki.ca.index);
  const key = path.join(caDir, `${kind}-signer.key`);
  const cert = path.join(caDir, `${kind}-signer.pem`);
  const ext = path.join(caDir, `${kind}-signer.ext`);
  await writeFile(ext, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=OCSPSigning'].join('\n'));
  if (kind === 'rogue') {
    await runOk('openssl', [
      'req',
      '-x509',
      '-new',
      ...NEW_KEY.ec,
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '20',
      '-subj',
      '/CN=staplewarm rogue responder',
      '-extensions',
      'v3_rogue',
      '-config',
      await rogueConfig(caDir, ext),
    ]);
    return { cert, key };
  }
  const csr = path.join(caDir, `${kind}-signer.csr`);
  await runOk('openssl', ['req', '-new', ...NEW_KEY.ec, '-keyout', key, '-out', csr, '-subj', '/CN=staplewarm test OCSP signer']);
  await runOk('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    pki.ca.issuerCert,
    '-CAkey',
    pki.ca.issuerKey,
    '-set_serial',
    `0x${newSerial()}`,
    '-days',
    '20',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { cert, key };
}

/** An openssl req config whose v3_rogue section holds `ext`'s lines (req -x509 takes extensions from a section). */
async function rogueConfig(caDir: string, ext: string): Promise<string> {
  const config = path.join(caDir, 'rogue.cnf');
  const lines = (await readFile(ext, 'utf8')).split('\n');
  await writeFile(config, ['[req]', 'distinguished_name = dn', '[dn]', '[v3_rogue]', ...lines].join('\n') + '\n');
  return config;
}

/**
 * A DER OCSPResponse made offline by `openssl ocsp -index` (no server): one SingleResponse per serial,
 * in the order given, each answered from the PKI's index.txt (a serial not in it is "unknown"),
 * signed by `signer` (default: the issuer), nextUpdate `minutes` from now.
 */
export async function opensslResponse(
  pki: TestPki,
  serials: readonly string[],
  out: string,
  options: { signer?: SignerCert; minutes?: number } = {},
): Promise<Buffer> {
  const signer = options.signer ?? { cert: pki.ca.issuerCert, key: pki.ca.issuerKey };
  await runOk('openssl', [
    'ocsp',
    '-index',
    pki.ca.index,
    '-CA',
    pki.ca.issuerCert,
    '-rsigner',
    signer.cert,
    '-rkey',
    signer.key,
    '-rmd',
    'sha256',
    '-issuer',
    pki.ca.issuerCert,
    ...serials.flatMap((serial) => ['-serial', `0x${serial}`]),
    '-no_nonce',
    '-nmin',
    String(options.minutes ?? 7 * 24 * 60),
    '-respout',
    out,
  ]);
  return readFile(out);
}
