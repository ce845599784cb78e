// Fills Redis for the OpenResty tests the way an operator would: by running `staplewarm warm`
// (the built CLI) against the test PKI, whose leaves name the fixtures' `openssl ocsp` responder
// in their AIA. What the tests need is then read back from Redis through contract v1 only, as
// the Lua module reads it: nothing here knows how staplewarm writes.
import { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';

/**
 * Runs the built staplewarm CLI with `args` to completion: runCli from test/helpers/services.ts in
 * the tests. Passed in, so the benchmark (compiled to dist/, outside test/helpers/) brings its own.
 */
/**
 * The environment `staplewarm warm` needs here: the tests' responders listen on loopback, which the
 * worker's responder address policy refuses unless allowed (as resty.staple's responder_allow does).
 */
export const LOCAL_RESPONDER_ENV: Record<string, string> = { STAPLEWARM_RESPONDER_ALLOW: '127.0.0.0/8' };

export type CliRunner = (args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>;

export interface FilledStaple {
  fingerprint: string;
  names: string[];
  status: 'good' | 'revoked';
  /** Exactly the bytes stored in <prefix>staple:<fp>. */
  der: Buffer;
  nextUpdate: Date;
}

export interface FillOptions {
  /** A certbot-style `live/` folder: one `<name>/` per site with cert.pem, chain.pem, fullchain.pem. */
  certsDir: string;
  redisUrl: string;
  prefix: string;
  /** Runs the CLI (runCli in the tests). */
  cli: CliRunner;
}

/** The fields of `staplewarm warm --json` this fixture checks (the full shape is WarmSummary). */
interface WarmJson {
  certificates: number;
  targets: number;
  stored: { good: number; revoked: number };
  complete: boolean;
}

/** The leaf fingerprint (contract <fp>) of every `<certsDir>/<site>/cert.pem`. */
async function leafFingerprints(certsDir: string): Promise<string[]> {
  const sites = (await readdir(certsDir, { withFileTypes: true })).filter((d) => d.isDirectory());
  return Promise.all(
    sites.map(async (site) => {
      const pem = await readFile(path.join(certsDir, site.name, 'cert.pem'));
      return new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
    }),
  );
}

/** Runs `staplewarm warm` and throws, with its output, unless it stored a staple for each of `leaves` leaves. */
async function warm({ certsDir, redisUrl, prefix, cli }: FillOptions, leaves: number): Promise<void> {
  const args = ['warm', '--certs', certsDir, '--redis', redisUrl, '--prefix', prefix, '--json'];
  const run = await cli(args);
  const output = `staplewarm ${args.join(' ')} exited ${String(run.code)}\n${run.stdout}\n${run.stderr}`;
  let summary: WarmJson;
  try {
    summary = JSON.parse(run.stdout) as WarmJson;
  } catch {
    throw new Error(`no JSON summary (is the CLI built? npx turbo run build) from ${output}`);
  }
  const stored = summary.stored.good + summary.stored.revoked;
  // Every leaf scanned (the issuer in chain.pem is not one), every leaf fetched and stored.
  if (run.code !== 0 || !summary.complete || summary.certificates !== leaves || summary.targets !== leaves || stored !== leaves) {
    throw new Error(`expected ${leaves} certificates warmed completely; ${output}`);
  }
}

/** Reads one certificate's staple and meta (contract v1) back; throws when either is missing. */
async function readStaple(redis: Redis, prefix: string, fingerprint: string): Promise<FilledStaple> {
  const [der, meta] = await Promise.all([redis.getBuffer(`${prefix}staple:${fingerprint}`), redis.hgetall(`${prefix}meta:${fingerprint}`)]);
  const { status, nextUpdate, names } = meta;
  if (der === null || (status !== 'good' && status !== 'revoked') || nextUpdate === undefined) {
    throw new Error(`after warm, ${prefix}staple:${fingerprint} or its meta is missing (meta: ${JSON.stringify(meta)})`);
  }
  return { fingerprint, names: names ? names.split(',') : [], status, der, nextUpdate: new Date(nextUpdate) };
}

/**
 * Runs `staplewarm warm` over `certsDir` into `redisUrl` under `prefix`, checks that every leaf got
 * a staple, and returns the staples as stored (one per leaf, in no particular order).
 */
export async function fillRedis(options: FillOptions): Promise<FilledStaple[]> {
  const fingerprints = await leafFingerprints(options.certsDir);
  await warm(options, fingerprints.length);
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await Promise.all(fingerprints.map((fp) => readStaple(redis, options.prefix, fp)));
  } finally {
    redis.disconnect();
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
