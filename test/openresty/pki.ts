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
}

export interface TestSite {
  names: string[];
  revoked: boolean;
  /** live/<name>/ with cert.pem, chain.pem, fullchain.pem, privkey.pem. */
  dir: string;
  /** Lowercase hex SHA-256 of the leaf's DER: the contract's <fp>. */
  fingerprint: string;
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
      `authorityInfoAccess=OCSP;URI:${responderUrl}`,
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
  const site: TestSite = { names: spec.names, revoked: spec.revoked ?? false, dir, fingerprint: fingerprintOf(certPem) };
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
