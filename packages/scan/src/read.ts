import { readFile as readFileCallback } from 'node:fs';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { OcspError, isPrivateKeyPem, parseCertificates, type ParsedCertificate } from '@staplewarm/ocsp';
import type { ScanProblem } from './problems.js';

/** One certificate as found on disk: where, and at which position of its bundle. */
export interface FoundCertificate {
  cert: ParsedCertificate;
  path: string;
  /** Position in the file's bundle (0 = first). Issuers are looked for after the leaf first. */
  index: number;
}

// The callback readFile, promisified: fs/promises' readFile reads in several round trips through the
// thread pool and measured 3-4x slower on 4,000 small PEM files (124 ms vs 38 ms).
const readFile = promisify(readFileCallback);

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Parses certificates, memoised by their encoded text: a certbot tree repeats the issuer in every
 * chain.pem and the leaf in cert.pem and fullchain.pem, so 50K sites need ~50K parses, not 200K.
 */
export class CertificateReader {
  private readonly parsed = new Map<string, ParsedCertificate>();

  async readFile(path: string): Promise<{ found: FoundCertificate[]; problem?: ScanProblem }> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { found: [], problem: { path, code: 'unreadable', detail: message } };
    }
    const text = bytes.toString('latin1');
    if (isPrivateKeyPem(text)) {
      // Say what it is, never what it holds.
      return { found: [], problem: { path, code: 'private-key', detail: 'holds a private key; skipped' } };
    }
    const blocks = text.includes('-----BEGIN') ? (text.match(PEM_CERT) ?? []) : [bytes.toString('base64')];
    const found: FoundCertificate[] = [];
    let firstError: string | undefined;
    for (const block of blocks) {
      try {
        found.push({ cert: this.parse(block, path), path, index: found.length });
      } catch (err) {
        if (!(err instanceof OcspError)) throw err;
        firstError ??= err.message;
      }
    }
    if (found.length === 0) {
      const detail = firstError ?? (blocks.length === 0 ? 'no PEM CERTIFICATE block' : 'no certificate');
      return { found, problem: { path, code: 'not-a-certificate', detail } };
    }
    return { found };
  }

  private parse(block: string, path: string): ParsedCertificate {
    // Keyed by a digest, not the text: the blocks are slices that would keep whole files alive.
    const key = createHash('sha256').update(block).digest('base64');
    const cached = this.parsed.get(key);
    if (cached) return cached;
    const input = block.startsWith('-----') ? block : Buffer.from(block, 'base64');
    const [cert] = parseCertificates(input, path);
    if (!cert) throw new OcspError('malformed-certificate', `${path}: no certificate`);
    this.parsed.set(key, cert);
    return cert;
  }
}
