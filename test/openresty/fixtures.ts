// Fills Redis per the contract v1 the way `staplewarm warm` does, for the OpenResty tests.
//
// fillRedis() is the one seam to swap: today it asks each certificate's OCSP responder (its AIA
// URL) with the `openssl ocsp` client and writes the keys with ioredis; once `staplewarm warm` can
// run here, replace its body with that command (same inputs: a certificate folder, a Redis URL,
// a key prefix) and keep the return value (read back from Redis).
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { runOk } from './processes.js';

export interface FilledStaple {
  fingerprint: string;
  names: string[];
  status: 'good' | 'revoked';
  /** Exactly the bytes stored in <prefix>staple:<fp>. */
  der: Buffer;
  nextUpdate: Date;
}

export interface FillOptions {
  certsDir: string;
  redisUrl: string;
  prefix: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** openssl's "Nov 23 10:30:54 2026 GMT" (the form `openssl ocsp` prints) as a Date. */
function parseOpensslTime(text: string): Date {
  const m = /^(\w{3})\s+(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4}) GMT$/.exec(text.trim());
  const month = m ? MONTHS.indexOf(m[1] ?? '') : -1;
  if (!m || month < 0) throw new Error(`unexpected openssl time: ${text}`);
  return new Date(Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])));
}

function field(output: string, label: string): string {
  const m = new RegExp(`${label}: (.+)`).exec(output);
  if (!m?.[1]) throw new Error(`no "${label}" in openssl ocsp output:\n${output}`);
  return m[1];
}

function dnsNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4).toLowerCase());
}

/** Asks the responder of `<dir>/cert.pem` (issuer in chain.pem) and returns the response. */
async function fetchStaple(dir: string, workDir: string): Promise<Omit<FilledStaple, 'names' | 'fingerprint'> & { responder: string; thisUpdate: Date; producedAt: Date }> {
  const cert = new X509Certificate(await readFile(path.join(dir, 'cert.pem')));
  const responder = /OCSP - URI:(\S+)/.exec(cert.infoAccess ?? '')?.[1];
  if (!responder) throw new Error(`${dir}/cert.pem has no OCSP URL`);
  const out = path.join(workDir, `${path.basename(dir)}.der`);
  // The stand-in does not verify the signature (staplewarm does); the e2e test checks the staple
  // with a verifying TLS client instead.
  const text = await runOk('openssl', ['ocsp', '-issuer', path.join(dir, 'chain.pem'), '-cert', path.join(dir, 'cert.pem'),
    '-url', responder, '-no_nonce', '-noverify', '-resp_text', '-respout', out]);
  const status = field(text, 'Cert Status');
  if (status !== 'good' && status !== 'revoked') throw new Error(`${dir}: status ${status}`);
  return {
    status,
    der: await readFile(out),
    responder,
    thisUpdate: parseOpensslTime(field(text, 'This Update')),
    nextUpdate: parseOpensslTime(field(text, 'Next Update')),
    producedAt: parseOpensslTime(field(text, 'Produced At')),
  };
}

/** Fetches a staple for every certificate under `certsDir` (live/<name>/) and writes contract v1 keys. */
export async function fillRedis({ certsDir, redisUrl, prefix }: FillOptions): Promise<FilledStaple[]> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'staple-fill-'));
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const dirs = (await readdir(certsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => path.join(certsDir, d.name));
    return await Promise.all(dirs.map(async (dir) => {
      const certPem = await readFile(path.join(dir, 'cert.pem'), 'utf8');
      const cert = new X509Certificate(certPem);
      const fingerprint = cert.fingerprint256.replaceAll(':', '').toLowerCase();
      const names = dnsNames(cert);
      const staple = await fetchStaple(dir, workDir);
      const expiresAt = new Date(Math.min(staple.nextUpdate.getTime(), new Date(cert.validTo).getTime()));
      const tx = redis.multi()
        .set(`${prefix}staple:${fingerprint}`, staple.der)
        .pexpireat(`${prefix}staple:${fingerprint}`, expiresAt.getTime())
        .hset(`${prefix}meta:${fingerprint}`, {
          status: staple.status,
          thisUpdate: staple.thisUpdate.toISOString(),
          nextUpdate: staple.nextUpdate.toISOString(),
          producedAt: staple.producedAt.toISOString(),
          fetchedAt: new Date().toISOString(),
          expiresAt: expiresAt.toISOString(),
          serial: cert.serialNumber.toLowerCase(),
          responder: staple.responder,
          names: names.join(','),
          mustStaple: '0',
          certNotAfter: new Date(cert.validTo).toISOString(),
        });
      for (const name of names) tx.set(`${prefix}host:${name}`, fingerprint);
      await tx.exec();
      return { fingerprint, names, status: staple.status, der: staple.der, nextUpdate: staple.nextUpdate };
    }));
  } finally {
    redis.disconnect();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Deletes every key under `prefix` (tests own their random prefix). */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
