/**
 * The certificate files HAProxy loads, and the leaf of each. HAProxy's `crt <dir>` loads every file of
 * the directory (not its subdirectories) except its own extra files; each file is a PEM bundle whose
 * first certificate is the leaf, usually with the private key in it. Only the first CERTIFICATE
 * block is decoded: the key blocks are never parsed, copied or kept.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePemBody, pemBlocks } from '@staplewarm/ocsp';
import type { ExportProblem } from '../errors.js';

/** Files HAProxy reads beside a certificate, never as one (2.6: ssl_sock.c). */
const EXTRA_FILE = /\.(ocsp|issuer|sctl|key)$/;

export interface CrtFile {
  /** The file HAProxy loads; its staple goes to `<path>.ocsp`. */
  path: string;
  /** SHA-256 of the leaf's DER (the Redis contract's `<fp>`). */
  fingerprint: string;
}

/** Certificate files of `paths` (directories, not recursive, like HAProxy; or files), in name order. */
export async function listCrtFiles(paths: readonly string[]): Promise<{ files: string[]; problems: ExportProblem[] }> {
  const files: string[] = [];
  const problems: ExportProblem[] = [];
  for (const path of paths) {
    try {
      if (!(await stat(path)).isDirectory()) {
        files.push(path);
        continue;
      }
      const entries = await readdir(path, { withFileTypes: true });
      for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (entry.name.startsWith('.') || EXTRA_FILE.test(entry.name) || entry.isDirectory()) continue;
        files.push(join(path, entry.name));
      }
    } catch (err) {
      problems.push({
        code: 'unreadable-certificate',
        path,
        detail: `cannot be listed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      });
    }
  }
  return { files, problems };
}

/**
 * The leaf fingerprint of one HAProxy certificate file. Opened non-blocking (a FIFO never hangs
 * the exporter), regular files only, at most `maxBytes` read.
 */
export async function readCrtFile(path: string, maxBytes: number): Promise<CrtFile | ExportProblem> {
  const problem = (detail: string): ExportProblem => ({ code: 'unreadable-certificate', path, detail });
  let bytes: Buffer;
  try {
    const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = await file.stat();
      if (!info.isFile()) return problem('not a regular file');
      if (info.size > maxBytes) return problem(`${info.size} bytes, more than the ${maxBytes} read`);
      bytes = Buffer.alloc(info.size);
      const { bytesRead } = await file.read(bytes, 0, info.size, 0);
      bytes = bytes.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (err) {
    return problem(`cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const text = bytes.toString('latin1');
  const [leaf] = pemBlocks(text);
  const der = leaf ? decodePemBody(leaf.body) : undefined;
  if (!der || der.length === 0) return problem('holds no PEM CERTIFICATE block');
  bytes.fill(0); // the key blocks beside it are not kept in memory longer than the read
  return { path, fingerprint: createHash('sha256').update(der).digest('hex') };
}
