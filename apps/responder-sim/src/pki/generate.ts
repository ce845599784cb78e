/** generatePki: a test PKI on disk (CA, delegated OCSP signer, N leaves in a certbot layout). */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { join } from 'node:path';
import { createAuthority, randomSerial, type Credential } from './authority.js';
import { indexLine, INDEX_ATTR } from './index-txt.js';
import { exportKeyPem, generateSigningKey, type KeyType } from './keys.js';
import { clearLayout, PkiPaths, writeKeyFile, writeLineageSync } from './layout.js';
import { leafIssuer, type LeafPlan } from './leaves.js';
import { MANIFEST_FILE, type CaCertificateEntry, type LeafEntry, type PkiManifest } from './manifest.js';
import { toPem } from './pem.js';
import { SimError } from '../errors.js';

/** Port of the default OCSP URL, and the CLI `serve` default, so `generate` then `serve` just work. */
export const DEFAULT_PORT = 8888;
const DAY_MS = 86_400_000;
/** Leaves issued and written between two yields to the event loop (generatePki may run in-process). */
const BATCH = 256;

export interface GeneratePkiOptions {
  dir: string;
  count: number;
  /** OCSP URLs put in every leaf's AIA, in order. @defaultValue [`http://127.0.0.1:8888/`] */
  ocspUrls?: string[];
  /** AIA caIssuers URL; false for none. @defaultValue `/_sim/issuer.der` on the first OCSP URL's origin */
  caIssuersUrl?: string | false;
  /** Revoked leaves: 1-based leaf numbers, or a predicate on the number. */
  revoked?: readonly number[] | ((index: number) => boolean);
  /** @defaultValue 'ec' (P-256) */
  keyType?: KeyType;
  /** Leaf validity. @defaultValue 90 */
  validityDays?: number;
  /** Issue a delegated OCSP responder certificate. @defaultValue true */
  delegatedSigner?: boolean;
  /** Every Nth leaf has no OCSP URL in its AIA (like short-lived or post-2025 Let's Encrypt certs). */
  noOcspEvery?: number;
  /** Every Nth leaf carries the TLS feature (must-staple) extension. */
  mustStapleEvery?: number;
  /** @defaultValue 'example.test' */
  domain?: string;
  /** Clock. @defaultValue new Date() */
  now?: Date;
}

const hex = (bytes: Buffer): string => bytes.toString('hex');
const sha256 = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

function positive(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new SimError('bad-option', `${name} must be a positive integer, got ${value}`);
  }
}

function revocationTest(revoked: GeneratePkiOptions['revoked']): (index: number) => boolean {
  if (typeof revoked === 'function') return revoked;
  const numbers = new Set(revoked ?? []);
  return (index) => numbers.has(index);
}

function caEntry(credential: Credential, certPath: string, keyPath: string): CaCertificateEntry {
  return { subject: credential.subject, serial: hex(credential.serial), fingerprint: sha256(credential.der), certPath, keyPath };
}

export async function generatePki(opts: GeneratePkiOptions): Promise<PkiManifest> {
  positive('count', opts.count);
  positive('validityDays', opts.validityDays);
  positive('noOcspEvery', opts.noOcspEvery);
  positive('mustStapleEvery', opts.mustStapleEvery);
  const { dir, count } = opts;
  const now = new Date(Math.floor((opts.now ?? new Date()).getTime() / 1000) * 1000);
  const keyType = opts.keyType ?? 'ec';
  const ocspUrls = opts.ocspUrls ?? [`http://127.0.0.1:${DEFAULT_PORT}/`];
  const caIssuersUrl =
    opts.caIssuersUrl === false || ocspUrls[0] === undefined
      ? undefined
      : (opts.caIssuersUrl ?? new URL('/_sim/issuer.der', ocspUrls[0]).href);
  const isRevoked = revocationTest(opts.revoked);
  const revokedAt = new Date(now.getTime() - DAY_MS);
  const notAfter = new Date(now.getTime() + (opts.validityDays ?? 90) * DAY_MS);
  const domain = opts.domain ?? 'example.test';
  const width = Math.max(5, String(count).length);

  const label = randomBytes(3).toString('hex');
  const authority = createAuthority({ keyType, delegatedSigner: opts.delegatedSigner ?? true, now, label });
  const leafKey = generateSigningKey(keyType);
  await clearLayout(dir);
  const issuerPem = toPem('CERTIFICATE', authority.issuer.der);
  await Promise.all([
    writeFile(join(dir, PkiPaths.rootCert), toPem('CERTIFICATE', authority.root.der)),
    writeKeyFile(join(dir, PkiPaths.rootKey), exportKeyPem(authority.root.key)),
    writeFile(join(dir, PkiPaths.issuerCert), issuerPem),
    writeKeyFile(join(dir, PkiPaths.issuerKey), exportKeyPem(authority.issuer.key)),
    writeKeyFile(join(dir, PkiPaths.leafKey), exportKeyPem(leafKey)),
    ...(authority.signer
      ? [
          writeFile(join(dir, PkiPaths.signerCert), toPem('CERTIFICATE', authority.signer.der)),
          writeKeyFile(join(dir, PkiPaths.signerKey), exportKeyPem(authority.signer.key)),
        ]
      : []),
  ]);

  const issue = leafIssuer({
    issuer: authority.issuer,
    leafKey,
    ocspUrls,
    caIssuersUrl,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter,
  });
  // Leaf serials: a random 8-byte prefix per PKI + the leaf number, unique and cheap.
  const serialPrefix = randomSerial(8);
  const leaves: LeafEntry[] = [];
  const indexLines: string[] = [];

  for (let first = 1; first <= count; first += BATCH) {
    await yieldToEventLoop();
    for (let index = first; index < first + BATCH && index <= count; index++) {
      const serial = Buffer.concat([serialPrefix, Buffer.alloc(4)]);
      serial.writeUInt32BE(index, 8);
      const plan: LeafPlan = {
        index,
        name: `site${String(index).padStart(width, '0')}.${domain}`,
        serial,
        ocsp: ocspUrls.length > 0 && !(opts.noOcspEvery && index % opts.noOcspEvery === 0),
        mustStaple: Boolean(opts.mustStapleEvery && index % opts.mustStapleEvery === 0),
      };
      const der = issue(plan);
      const revoked = isRevoked(index);
      const entry: LeafEntry = {
        index,
        name: plan.name,
        dir: `${PkiPaths.live}/${plan.name}`,
        serial: hex(serial),
        fingerprint: sha256(der),
        notAfter: notAfter.toISOString(),
        ocsp: plan.ocsp,
        mustStaple: plan.mustStaple,
        ...(revoked ? { revokedAt: revokedAt.toISOString() } : {}),
      };
      leaves.push(entry);
      indexLines.push(
        indexLine({
          serialHex: entry.serial,
          notAfter,
          subject: `/CN=${plan.name}`,
          ...(revoked ? { revokedAt } : {}),
        }),
      );
      writeLineageSync(dir, plan.name, toPem('CERTIFICATE', der), issuerPem);
    }
  }

  const manifest: PkiManifest = {
    version: 1,
    createdAt: now.toISOString(),
    count,
    keyType,
    ocspUrls,
    caIssuersUrl: caIssuersUrl ?? null,
    root: caEntry(authority.root, PkiPaths.rootCert, PkiPaths.rootKey),
    issuer: caEntry(authority.issuer, PkiPaths.issuerCert, PkiPaths.issuerKey),
    signer: authority.signer ? caEntry(authority.signer, PkiPaths.signerCert, PkiPaths.signerKey) : null,
    revoked: leaves.filter((leaf) => leaf.revokedAt !== undefined).map((leaf) => leaf.serial),
    leaves,
  };
  await Promise.all([
    writeFile(join(dir, PkiPaths.index), indexLines.join('')),
    writeFile(join(dir, PkiPaths.indexAttr), INDEX_ATTR),
    writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 1) + '\n'),
  ]);
  return manifest;
}
