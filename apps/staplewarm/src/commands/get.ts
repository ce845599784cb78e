import { closeSync, constants, existsSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { parseCertificates } from '@staplewarm/ocsp';
import { StapleStore, type StapleMeta } from '@staplewarm/store';
import type { Command } from 'commander';
import { SETTINGS, loadConfig, settingOption, type ConfigFlags } from '../config.js';
import { jsonForTerminal, safeLine } from '../escape.js';
import { connectionOptions, connectRedis } from '../redis.js';
import { withCommonOptions } from './common.js';

interface GetFlags extends ConfigFlags {
  json?: boolean;
  out?: string;
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly code = 'not-found';
}

export function registerGet(program: Command): void {
  const command = withCommonOptions(
    program
      .command('get')
      .description('show the staple of one certificate: by SHA-256 fingerprint, host name, or certificate file')
      .argument('<fingerprint|hostname|cert.pem>')
      .option('--json', 'print as JSON')
      .option('--out <file>', 'write the stapled DER OCSP response to this file'),
  );
  settingOption(command, 'maxCertFileBytes');
  command.action(async (what: string, flags: GetFlags) => {
    const config = loadConfig(flags);
    const redis = await connectRedis(config.redisUrl, connectionOptions(config));
    try {
      const store = new StapleStore(redis, { prefix: config.prefix });
      const view = await lookupStaple(store, what, config.maxCertFileBytes);
      if (flags.out && view.der) writeFileSync(flags.out, view.der);
      const { der, ...json } = view;
      process.stdout.write(
        flags.json ? `${jsonForTerminal({ ...json, staple: der ? { bytes: der.length } : null })}\n` : `${formatStaple(view)}\n`,
      );
      process.exitCode = der ? 0 : 1;
    } finally {
      redis.disconnect();
    }
  });
}

/** One certificate's staple and record, found by fingerprint, host name or certificate file. */
export interface StapleView {
  fingerprint: string;
  der: Buffer | null;
  meta: StapleMeta | null;
}

export async function lookupStaple(
  store: StapleStore,
  what: string,
  maxFileBytes = SETTINGS.maxCertFileBytes.default,
): Promise<StapleView> {
  const fingerprint = await resolveFingerprint(store, what, maxFileBytes);
  const { der, meta } = await store.get(fingerprint);
  if (!der && !meta) throw new NotFoundError(`no staple and no record for ${what} (fingerprint ${fingerprint})`);
  return { fingerprint, der, meta };
}

/** The text `staplewarm get` prints (also used by the demo). */
export async function describeStaple(store: StapleStore, what: string): Promise<string> {
  return formatStaple(await lookupStaple(store, what));
}

async function resolveFingerprint(store: StapleStore, what: string, maxFileBytes: number): Promise<string> {
  if (/^[0-9a-f]{64}$/i.test(what.replace(/:/g, ''))) return what.replace(/:/g, '').toLowerCase();
  if (existsSync(what)) {
    const [leaf] = parseCertificates(readCertificateFile(what, maxFileBytes), what);
    if (!leaf) throw new NotFoundError(`${what}: no certificate`);
    return leaf.fingerprint;
  }
  const fp = await store.fingerprintForHost(what.toLowerCase());
  if (!fp) throw new NotFoundError(`no certificate known for host ${what}`);
  return fp;
}

/** `get`'s text. Names, responder and last error come from certificates and responders: each line is made safe. */
export function formatStaple({ fingerprint, der, meta }: StapleView): string {
  const iso = (d?: Date) => d?.toISOString() ?? '-';
  return [
    `fingerprint  ${fingerprint}`,
    `names        ${meta?.names.join(', ') || '-'}`,
    `staple       ${der ? `${der.length} bytes, served until ${iso(meta?.expiresAt)}` : 'NONE'}`,
    `status       ${meta?.status ?? '-'}${meta?.revocationTime ? ` (revoked ${iso(meta.revocationTime)}, ${meta.revocationReason ?? 'no reason'})` : ''}`,
    `thisUpdate   ${iso(meta?.thisUpdate)}`,
    `nextUpdate   ${iso(meta?.nextUpdate)}`,
    `producedAt   ${iso(meta?.producedAt)}`,
    `fetchedAt    ${iso(meta?.fetchedAt)}`,
    `responder    ${meta?.responder ?? '-'}`,
    `mustStaple   ${meta?.mustStaple ? 'yes' : 'no'}`,
    `lastError    ${meta?.lastError ? `${meta.lastError} at ${iso(meta.lastErrorAt)}` : '-'}`,
  ]
    .map(safeLine)
    .join('\n');
}

/**
 * A certificate file named on the command line, read as the scanner reads one: opened without
 * blocking (a FIFO), checked to be a regular file (not a device) and at most `maxBytes` long.
 */
function readCertificateFile(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new NotFoundError(`${path}: not a regular file`);
    if (info.size > maxBytes) throw new NotFoundError(`${path}: ${info.size} bytes, over --max-cert-file-bytes (${maxBytes})`);
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let length = 0;
    for (let got = -1; got !== 0 && length < buffer.length; length += got) got = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > maxBytes) throw new NotFoundError(`${path}: grew over --max-cert-file-bytes (${maxBytes}) while read`);
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
