import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { decodePemBody, isPrivateKeyPem, parseCertificates, pemBlocks, pemLabels, type ParsedCertificate } from '@staplewarm/ocsp';
import type { FileCertificate } from '../pair/pair.js';
import { fileKind, fsProblem, type ScanProblem } from '../problems.js';

/**
 * Default of `ScanOptions.maxFileBytes`: 1 MiB. A certbot fullchain.pem is 3-6 KB; even a bundle of
 * 100 RSA-4096 certificates stays under 250 KB.
 */
export const DEFAULT_MAX_FILE_BYTES = 1_048_576;

/** Where the limit is set, for the `too-large` detail (staplewarm's only caller is its CLI). */
const LIMIT_SETTING = '--max-cert-file-bytes / STAPLEWARM_MAX_CERT_FILE_BYTES';

// O_NONBLOCK: opening a FIFO with no writer would otherwise block the scan's thread for good; on a
// regular file it changes nothing. O_NOCTTY: a terminal device swapped in must not become ours.
// (libuv adds O_CLOEXEC.) The `?? 0` keeps the module loadable where a flag does not exist.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

export type ReadOutcome = { bytes: Buffer } | { problem: ScanProblem } | { skipped: true };

/**
 * One buffer for every file a scan reads, one file at a time: it grows to the largest file read
 * (at most `maxFileBytes + 1`), and no file costs an allocation.
 */
export class ReadBuffer {
  private bytes = Buffer.alloc(0);

  /** A view of `length` bytes; the first `keep` bytes of the previous view are kept. */
  take(length: number, keep = 0): Buffer {
    if (this.bytes.length < length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(length, 2 * this.bytes.length, 65_536));
      this.bytes.copy(bigger, 0, 0, keep);
      this.bytes = bigger;
    }
    return this.bytes.subarray(0, length);
  }
}

export interface ReadOptions {
  /**
   * Called with the open file's `fstat` before a byte is read: false skips it (`{ skipped: true }`),
   * as the scan does for a file it already read under another path. `exact` is the same `fstat`
   * with bigint fields (for inode numbers past 2^53).
   */
  accept?: (info: Stats, exact: () => BigIntStats) => boolean;
  /** Reused from file to file: the bytes returned are then valid until the next read with it. */
  buffer?: ReadBuffer;
}

/**
 * Reads a regular file of at most `maxBytes` through one descriptor, with synchronous calls (the
 * scan runs in a thread of its own), so what is checked is what is read: a path swapped after the
 * walk for a FIFO, a device (a link to /dev/zero) or a bigger file is reported from `fstat`, never
 * read. At most `maxBytes + 1` bytes are read even when the file grows after `fstat`.
 * @throws the filesystem's errors (ENOENT, EACCES...), which the caller turns into problems.
 */
export function readRegularFile(path: string, maxBytes: number, options: ReadOptions = {}): ReadOutcome {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { problem: { path, code: 'not-a-regular-file', detail: `${fileKind(info)}; not read` } };
    if (info.size > maxBytes) return { problem: tooLarge(path, `${info.size} bytes`, maxBytes) };
    if (options.accept && !options.accept(info, () => fstatSync(fd, { bigint: true }))) return { skipped: true };
    // One byte more than fstat promised: a short read then ends the file in one call, and a full
    // one means it grew, so reading goes on (to maxBytes + 1 at most, to tell "too large").
    const into = options.buffer ?? new ReadBuffer();
    let buffer = into.take(info.size + 1);
    let length = 0;
    for (;;) {
      const wanted = buffer.length - length;
      const got = readSync(fd, buffer, length, wanted, length);
      length += got;
      if (length > maxBytes) return { problem: tooLarge(path, 'grew while read', maxBytes) };
      if (got === 0 || (got < wanted && length >= info.size)) break;
      if (length === buffer.length) buffer = into.take(Math.min(maxBytes + 1, Math.max(2 * buffer.length, 16_384)), length);
    }
    return { bytes: buffer.subarray(0, length) };
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Linux frees the descriptor even when close reports an error, and the bytes are already read.
    }
  }
}

function tooLarge(path: string, size: string, maxBytes: number): ScanProblem {
  return { path, code: 'too-large', detail: `${size}, over the limit of ${maxBytes} bytes (${LIMIT_SETTING}); not read` };
}

/** What one file gave: its certificates in bundle order, or its problem, or nothing (skipped). */
export interface FileOutcome {
  found: FileCertificate[];
  problem?: ScanProblem;
  /** Not read: `accept` turned it down (a file already read under another path). */
  skipped?: boolean;
}

/**
 * Reads certificate files and parses certificates. A certificate is looked up by its fingerprint
 * before it is parsed (`known`: the scan's pairing, which holds the CA certificates and the leaves
 * still waiting, and remembers the released ones), so a certbot tree that repeats the issuer in
 * every fullchain.pem and the leaf in cert.pem and fullchain.pem costs one parse per certificate.
 * Without `known`, it remembers every certificate it parsed.
 */
export class CertificateReader {
  private readonly buffer = new ReadBuffer();
  private readonly known: (fingerprint: string) => FileCertificate | undefined;
  private readonly remember: (cert: ParsedCertificate) => void;

  constructor(
    private readonly maxFileBytes = DEFAULT_MAX_FILE_BYTES,
    known?: (fingerprint: string) => FileCertificate | undefined,
  ) {
    if (known) {
      this.known = known;
      this.remember = () => {};
    } else {
      const parsed = new Map<string, ParsedCertificate>();
      this.known = (fingerprint) => parsed.get(fingerprint);
      this.remember = (cert) => void parsed.set(cert.fingerprint, cert);
    }
  }

  /** Never throws: whatever goes wrong with this file is its problem, and the scan goes on. */
  readFile(path: string, accept?: ReadOptions['accept']): FileOutcome {
    let outcome: ReadOutcome;
    try {
      outcome = readRegularFile(path, this.maxFileBytes, { buffer: this.buffer, ...(accept && { accept }) });
    } catch (err) {
      return { found: [], problem: fsProblem(path, err) };
    }
    if ('skipped' in outcome) return { found: [], skipped: true };
    if ('problem' in outcome) return { found: [], problem: outcome.problem };
    try {
      return this.parseFile(path, outcome.bytes);
    } catch (err) {
      return { found: [], problem: { path, code: 'not-a-certificate', detail: `could not be parsed: ${messageOf(err)}` } };
    }
  }

  private parseFile(path: string, bytes: Buffer): FileOutcome {
    const text = bytes.toString('latin1');
    if (isPrivateKeyPem(text)) {
      // Say what it is, never what it holds.
      return { found: [], problem: { path, code: 'private-key', detail: 'holds a private key; skipped' } };
    }
    const isPem = text.includes('-----BEGIN');
    const found: FileCertificate[] = [];
    const inThisFile = new Map<string, ParsedCertificate>();
    let firstError: string | undefined;
    const add = (der: Buffer, input: string | Buffer): void => {
      // The fingerprint is the SHA-256 of the DER: known certificates are found without parsing.
      const fingerprint = createHash('sha256').update(der).digest('hex');
      const known = this.known(fingerprint) ?? inThisFile.get(fingerprint);
      if (known) {
        found.push(known);
        return;
      }
      try {
        const cert = this.parse(input, path);
        inThisFile.set(cert.fingerprint, cert);
        this.remember(cert);
        found.push(cert);
      } catch (err) {
        // Any error, not only OcspError: one block that breaks the parser is this file's problem.
        firstError ??= messageOf(err);
      }
    };
    if (isPem) {
      // The block's text is what is parsed (its messages name PEM), its decoded body what is looked up.
      for (const block of pemBlocks(text)) add(decodePemBody(block.body), block.text);
    } else {
      add(bytes, bytes); // parsing copies what it keeps: `bytes` is the reader's buffer, reused for the next file
    }
    if (found.length === 0) {
      const detail = firstError ?? noBlockDetail(text);
      return { found, problem: { path, code: 'not-a-certificate', detail } };
    }
    return { found };
  }

  private parse(input: string | Buffer, path: string): ParsedCertificate {
    const [cert] = parseCertificates(input, path);
    if (!cert) throw new Error(`${path}: no certificate`);
    return cert;
  }
}

/** What a PEM file without a complete CERTIFICATE block holds instead (its first 100 BEGIN lines say enough). */
function noBlockDetail(text: string): string {
  const labels = pemLabels(text, 100);
  if (labels.length === 0) return 'no PEM CERTIFICATE block';
  const shown = labels.slice(0, 5).join(', ') + (labels.length > 5 ? ', ...' : '');
  return `no complete PEM CERTIFICATE block (BEGIN lines for: ${shown})`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
