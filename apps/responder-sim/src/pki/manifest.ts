/** `manifest.json`: what `generatePki` made, for tests, the demo, benchmarks and the responder. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyType } from './keys.js';
import { SimError } from '../errors.js';

export const MANIFEST_FILE = 'manifest.json';

/** A CA-side certificate of the PKI. Paths are relative to the PKI directory. */
export interface CaCertificateEntry {
  subject: string;
  /** Lowercase hex of the serial's INTEGER content octets. */
  serial: string;
  /** Lowercase hex SHA-256 of the DER. */
  fingerprint: string;
  certPath: string;
  keyPath: string;
}

export interface LeafEntry {
  /** 1-based, as in the name. */
  index: number;
  /** DNS name and certbot lineage name, e.g. `site00001.example.test`; SAN adds `www.` + name. */
  name: string;
  /** Directory holding cert.pem, chain.pem, fullchain.pem, privkey.pem, relative to the PKI directory. */
  dir: string;
  serial: string;
  fingerprint: string;
  notAfter: string;
  /** AIA lists the OCSP URL(s). */
  ocsp: boolean;
  mustStaple: boolean;
  /** ISO 8601 revocation time, when revoked (reason keyCompromise). */
  revokedAt?: string;
}

export interface PkiManifest {
  version: 1;
  createdAt: string;
  count: number;
  keyType: KeyType;
  ocspUrls: string[];
  caIssuersUrl: string | null;
  root: CaCertificateEntry;
  issuer: CaCertificateEntry;
  /** The delegated OCSP responder certificate, when generated. */
  signer: CaCertificateEntry | null;
  /** Serials of the revoked leaves. */
  revoked: string[];
  leaves: LeafEntry[];
}

export async function readManifest(pkiDir: string): Promise<PkiManifest> {
  const path = join(pkiDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SimError('pki-missing', `no ${path}: generate the PKI first (responder-sim generate)`, { cause });
  }
  try {
    const manifest = JSON.parse(text) as PkiManifest;
    if (manifest.version !== 1 || !Array.isArray(manifest.leaves)) throw new Error('unexpected manifest shape');
    return manifest;
  } catch (cause) {
    throw new SimError('pki-invalid', `${path} does not parse as a version 1 manifest`, { cause });
  }
}
