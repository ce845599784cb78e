/**
 * Test helpers: openssl is the independent party. It builds the OCSP requests (so our decoder is
 * tested against someone else's encoder) and verifies our certificates and responses.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PkiManifest } from '../pki/manifest.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together (openssl splits its verdicts between them). */
  all: string;
}

export function openssl(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('openssl', [...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
}

export async function withTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'responder-sim-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const leafCert = (pkiDir: string, manifest: PkiManifest, index: number): string =>
  join(pkiDir, manifest.leaves[index - 1]?.dir ?? 'missing', 'cert.pem');

/**
 * A DER OCSPRequest made by `openssl ocsp -reqout` for leaves (1-based) or raw serials, without a
 * nonce unless asked. `hash` picks the CertID digest (openssl wants it before -cert/-serial).
 */
export async function opensslRequest(
  pkiDir: string,
  manifest: PkiManifest,
  what: { leaves?: number[]; serials?: string[]; hash?: 'sha1' | 'sha256'; nonce?: boolean; issuerPem?: string },
): Promise<Buffer> {
  const out = join(pkiDir, `req-${Math.random().toString(16).slice(2)}.der`);
  const args = ['ocsp', '-issuer', what.issuerPem ?? join(pkiDir, 'ca/issuer.pem'), `-${what.hash ?? 'sha1'}`];
  for (const index of what.leaves ?? []) args.push('-cert', leafCert(pkiDir, manifest, index));
  for (const serial of what.serials ?? []) args.push('-serial', `0x${serial}`);
  args.push(what.nonce ? '-nonce' : '-no_nonce', '-reqout', out);
  const run = await openssl(args);
  if (run.code !== 0) throw new Error(`openssl could not build the request: ${run.all}`);
  const der = await readFile(out);
  await rm(out);
  return der;
}

/**
 * `openssl ocsp -respin` on a response, checking leaf `index`: prints `<cert>: good|revoked`, the
 * signature verdict ("Response verify OK"), and with `text` the whole response. `hash` is the
 * CertID digest openssl looks the certificate up with.
 */
export async function opensslCheck(
  pkiDir: string,
  manifest: PkiManifest,
  response: Buffer,
  index: number,
  opts: { text?: boolean; hash?: 'sha1' | 'sha256' } = {},
): Promise<Run> {
  const file = join(pkiDir, `resp-${Math.random().toString(16).slice(2)}.der`);
  await writeFile(file, response);
  const run = await openssl([
    'ocsp',
    '-respin',
    file,
    '-CAfile',
    join(pkiDir, 'ca/root.pem'),
    '-issuer',
    join(pkiDir, 'ca/issuer.pem'),
    `-${opts.hash ?? 'sha1'}`,
    '-cert',
    leafCert(pkiDir, manifest, index),
    '-no_nonce',
    ...(opts.text ? ['-resp_text'] : []),
  ]);
  await rm(file);
  return run;
}

/** The verdict `openssl ocsp` printed for the certificate: good, revoked, unknown, or undefined. */
export function statusIn(run: Run): string | undefined {
  return /\.pem: (good|revoked|unknown)\s/.exec(run.stdout)?.[1];
}

/** `Response verify OK` printed, and nothing said the verification failed. */
export const signatureVerified = (run: Run): boolean => run.all.includes('Response verify OK');
