/**
 * A test PKI made with the openssl CLI only (no project code), so the openssl responder and verifier
 * are independent peers of staplewarm. RSA keys, `openssl ca` keeps index.txt as it would in production.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OpensslLeafSpec {
  name: string;
  /** OCSP URLs for the AIA extension; [] for none. */
  ocspUrls: string[];
  /** Issue it already expired (validity in 2020). */
  expired?: boolean;
  revoked?: boolean;
  mustStaple?: boolean;
}

export interface OpensslPki {
  dir: string;
  rootPem: string;
  issuerPem: string;
  issuerKey: string;
  signerPem: string;
  signerKey: string;
  indexTxt: string;
  /** name -> leaf certificate path (PEM, leaf only) */
  leaves: Map<string, string>;
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const CA_CONF = `
[ ca ]
default_ca = issuing
[ issuing ]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
certificate = issuer.pem
private_key = issuer.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_signer ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
`;

export function makeOpensslPki(dir: string, leaves: OpensslLeafSpec[]): OpensslPki {
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  mkdirSync(join(dir, 'leaves'), { recursive: true });
  writeFileSync(join(dir, 'ca.cnf'), CA_CONF);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  const key = (name: string) => openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', name], dir);
  key('root.key');
  key('issuer.key');
  key('signer.key');
  key('leaf.key');
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'root.key',
      '-subj',
      '/CN=staplewarm test root',
      '-days',
      '3650',
      '-out',
      'root.pem',
      '-addext',
      'basicConstraints=critical,CA:true',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  openssl(['req', '-new', '-key', 'issuer.key', '-subj', '/CN=staplewarm test issuer', '-out', 'issuer.csr'], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'issuer.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-CAcreateserial',
      '-days',
      '3650',
      '-extfile',
      'ca.cnf',
      '-extensions',
      'v3_ca',
      '-out',
      'issuer.pem',
    ],
    dir,
  );
  openssl(['req', '-new', '-key', 'signer.key', '-subj', '/CN=staplewarm test OCSP signer', '-out', 'signer.csr'], dir);
  openssl(
    ['ca', '-config', 'ca.cnf', '-batch', '-notext', '-days', '365', '-extensions', 'v3_signer', '-in', 'signer.csr', '-out', 'signer.pem'],
    dir,
  );

  const result: OpensslPki = {
    dir,
    rootPem: join(dir, 'root.pem'),
    issuerPem: join(dir, 'issuer.pem'),
    issuerKey: join(dir, 'issuer.key'),
    signerPem: join(dir, 'signer.pem'),
    signerKey: join(dir, 'signer.key'),
    indexTxt: join(dir, 'index.txt'),
    leaves: new Map(),
  };
  for (const leaf of leaves) {
    const section = `leaf_${leaf.name.replace(/[^a-z0-9]/gi, '_')}`;
    const ext = [
      `[ ${section} ]`,
      'basicConstraints = CA:false',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = DNS:${leaf.name}`,
      'authorityKeyIdentifier = keyid',
      ...(leaf.ocspUrls.length ? [`authorityInfoAccess = ${leaf.ocspUrls.map((u) => `OCSP;URI:${u}`).join(', ')}`] : []),
      ...(leaf.mustStaple ? ['1.3.6.1.5.5.7.1.24 = DER:30:03:02:01:05'] : []),
    ].join('\n');
    writeFileSync(join(dir, `${section}.cnf`), ext);
    openssl(['req', '-new', '-key', 'leaf.key', '-subj', `/CN=${leaf.name}`, '-out', `${section}.csr`], dir);
    const out = join(dir, 'leaves', `${leaf.name}.pem`);
    const validity = leaf.expired ? ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z'] : ['-days', '90'];
    openssl(
      [
        'ca',
        '-config',
        'ca.cnf',
        '-batch',
        '-notext',
        ...validity,
        '-extfile',
        `${section}.cnf`,
        '-extensions',
        section,
        '-in',
        `${section}.csr`,
        '-out',
        out,
      ],
      dir,
    );
    if (leaf.revoked) openssl(['ca', '-config', 'ca.cnf', '-batch', '-revoke', out, '-crl_reason', 'keyCompromise'], dir);
    result.leaves.set(leaf.name, out);
  }
  return result;
}
