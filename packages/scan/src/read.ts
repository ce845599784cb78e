import { close as closeFd, constants, fstat as fstatFd, open as openFile, read as readFd, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { isPrivateKeyPem, parseCertificates, pemBlocks, pemLabels, type ParsedCertificate } from '@staplewarm/ocsp';
import { fileKind, fsProblem, type ScanProblem } from './problems.js';

/** One certificate as found on disk: where, and at which position of its bundle. */
export interface FoundCertificate {
  cert: ParsedCertificate;
  path: string;
  /** Position in the file's bundle (0 = first). Issuers are looked for after the leaf first. */
  index: number;
}

/**
 * Default of `ScanOptions.maxFileBytes`: 1 MiB. A certbot fullchain.pem is 3-6 KB; even a bundle of
 * 100 RSA-4096 certificates stays under 250 KB.
 */
export const DEFAULT_MAX_FILE_BYTES = 1_048_576;

/** Where the limit is set, for the `too-large` detail (staplewarm's only caller is its CLI). */
const LIMIT_SETTING = '--max-cert-file-bytes / STAPLEWARM_MAX_CERT_FILE_BYTES';

// O_NONBLOCK: opening a FIFO with no writer would otherwise block a libuv thread for good; on a
// regular file it changes nothing. O_NOCTTY: a terminal device swapped in must not become ours.
// (libuv adds O_CLOEXEC.) The `?? 0` keeps the module loadable where a flag does not exist.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

// The callback API, wrapped by hand: fs/promises goes through FileHandle objects and measured 3-4x
// slower than the callback readFile on 4,000 small PEM files (124 ms vs 38 ms).
const open = (path: string) =>
  new Promise<number>((resolve, reject) => openFile(path, OPEN_FLAGS, (e, fd) => (e ? reject(e) : resolve(fd))));
const fstat = (fd: number) => new Promise<Stats>((resolve, reject) => fstatFd(fd, (e, info) => (e ? reject(e) : resolve(info))));
const read = (fd: number, into: Buffer, offset: number) =>
  new Promise<number>((resolve, reject) => readFd(fd, into, offset, into.length - offset, offset, (e, n) => (e ? reject(e) : resolve(n))));
const close = (fd: number) => new Promise<void>((resolve, reject) => closeFd(fd, (e) => (e ? reject(e) : resolve())));

type ReadOutcome = { bytes: Buffer } | { problem: ScanProblem };

/**
 * Reads a regular file of at most `maxBytes` through one descriptor, so what is checked is what is
 * read: a path swapped after the walk for a FIFO, a device (a link to /dev/zero) or a bigger file
 * is reported from `fstat`, never read. At most `maxBytes + 1` bytes are read even when the file
 * grows after `fstat`.
 * @throws the filesystem's errors (ENOENT, EACCES...), which the caller turns into problems.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<ReadOutcome> {
  const fd = await open(path);
  try {
    const info = await fstat(fd);
    if (!info.isFile()) return { problem: { path, code: 'not-a-regular-file', detail: `${fileKind(info)}; not read` } };
    if (info.size > maxBytes) return { problem: tooLarge(path, `${info.size} bytes`, maxBytes) };
    // One byte more than fstat promised: a short read then ends the file in one round trip, and a
    // full one means it grew, so reading goes on (to maxBytes + 1 at most, to tell "too large").
    let buffer = Buffer.allocUnsafe(info.size + 1);
    let length = 0;
    for (;;) {
      const wanted = buffer.length - length;
      const got = await read(fd, buffer, length);
      length += got;
      if (length > maxBytes) return { problem: tooLarge(path, 'grew while read', maxBytes) };
      if (got === 0 || (got < wanted && length >= info.size)) break;
      if (length === buffer.length) {
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(2 * buffer.length, 16_384)));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
    }
    return { bytes: buffer.subarray(0, length) };
  } finally {
    // Linux frees the descriptor even when close reports an error, and the bytes are already read.
    await close(fd).catch(() => undefined);
  }
}

function tooLarge(path: string, size: string, maxBytes: number): ScanProblem {
  return { path, code: 'too-large', detail: `${size}, over the limit of ${maxBytes} bytes (${LIMIT_SETTING}); not read` };
}

/**
 * Reads certificate files and parses certificates, memoised by their encoded text: a certbot tree
 * repeats the issuer in every chain.pem and the leaf in cert.pem and fullchain.pem, so 50K sites
 * need ~50K parses, not 200K.
 */
export class CertificateReader {
  private readonly parsed = new Map<string, ParsedCertificate>();

  constructor(private readonly maxFileBytes = DEFAULT_MAX_FILE_BYTES) {}

  /** Never throws: whatever goes wrong with this file is its problem, and the scan goes on. */
  async readFile(path: string): Promise<{ found: FoundCertificate[]; problem?: ScanProblem }> {
    let outcome: ReadOutcome;
    try {
      outcome = await readRegularFile(path, this.maxFileBytes);
    } catch (err) {
      return { found: [], problem: fsProblem(path, err) };
    }
    if ('problem' in outcome) return { found: [], problem: outcome.problem };
    try {
      return this.parseFile(path, outcome.bytes);
    } catch (err) {
      return { found: [], problem: { path, code: 'not-a-certificate', detail: `could not be parsed: ${messageOf(err)}` } };
    }
  }

  private parseFile(path: string, bytes: Buffer): { found: FoundCertificate[]; problem?: ScanProblem } {
    const text = bytes.toString('latin1');
    if (isPrivateKeyPem(text)) {
      // Say what it is, never what it holds.
      return { found: [], problem: { path, code: 'private-key', detail: 'holds a private key; skipped' } };
    }
    const isPem = text.includes('-----BEGIN');
    const inputs = isPem ? pemBlocks(text).map((block) => block.text) : [bytes];
    const found: FoundCertificate[] = [];
    let firstError: string | undefined;
    for (const input of inputs) {
      try {
        found.push({ cert: this.parse(input, path), path, index: found.length });
      } catch (err) {
        // Any error, not only OcspError: one block that breaks the parser is this file's problem.
        firstError ??= messageOf(err);
      }
    }
    if (found.length === 0) {
      const detail = firstError ?? noBlockDetail(text);
      return { found, problem: { path, code: 'not-a-certificate', detail } };
    }
    return { found };
  }

  private parse(input: string | Buffer, path: string): ParsedCertificate {
    // Keyed by a digest, not the text: the blocks are slices that would keep whole files alive.
    const key = `${typeof input === 'string' ? 'pem' : 'der'}:${createHash('sha256').update(input).digest('base64')}`;
    const cached = this.parsed.get(key);
    if (cached) return cached;
    const [cert] = parseCertificates(input, path);
    if (!cert) throw new Error(`${path}: no certificate`);
    this.parsed.set(key, cert);
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
