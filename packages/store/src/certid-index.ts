/**
 * The CertID index (CONTRACT.md, "CertID index"): which certificate an OCSP request names. Written
 * by the scanners (warm, serve) from the targets they enqueue; read by the relay, which gets a CertID
 * from a client and must find the staple stored under the certificate's fingerprint.
 *
 * Two levels, so both CertID hashes cost one key per certificate:
 * - `<p>issuer:<hash>:<nameHash>:<keyHash>` (hash; one per issuer and CertID hash, SHA-1 and
 *   SHA-256): the issuer id, its public key and the OCSP URLs its certificates name;
 * - `<p>certid:<issuerId>:<serial>` (string): the certificate's fingerprint.
 */
import { createHash } from 'node:crypto';
import { issuerHashes, type CertIdHash, type IssuerHashes, type StapleTarget } from '@staplewarm/ocsp';
import type { Redis } from 'ioredis';
import { StoreError } from './errors.js';
import { DEFAULT_PREFIX, normalizeFingerprint, stapleKeys, type StapleKeys } from './keys.js';
import { META_GRACE_MS } from './meta.js';

/** OCSP URLs kept per issuer (they are the fallback of a relay-requested fetch; a CA names one or two). */
export const ISSUER_URLS_KEPT = 4;
/** Longer URLs are not kept: no responder needs one, and the issuer record stays small. */
const MAX_URL_LENGTH = 512;
const HTTP_URL = /^https?:\/\/\S+$/i;

/** An issuer as the index stores it. */
export interface IndexedIssuer {
  /** `<issuerId>` of the certid keys: see `issuerIdOf`. */
  id: string;
  /** The issuer's SubjectPublicKeyInfo DER, base64 (what a job needs to verify a response). */
  spki: string;
  /** OCSP URLs named by its certificates, first seen first. */
  ocspUrls: string[];
}

/** What the index and the store know about one certificate, read in one round trip. */
export interface IndexedCertificate {
  fingerprint: string;
  /** `<p>staple:<fp>`: the DER to serve, or null when there is none. */
  staple: Buffer | null;
  /** Milliseconds until Redis expires the staple (its `expiresAt`), by Redis's clock; null without a staple. */
  stapleExpiresInMs: number | null;
  /** From `<p>meta:<fp>` (null when there is no meta: never attempted, or expired). */
  meta: {
    names: string[];
    mustStaple: boolean;
    /** epoch ms */
    certNotAfter: number | undefined;
    responder: string | undefined;
  } | null;
}

export interface CertIdIndexOptions {
  /** @defaultValue 'ocsp:' */
  prefix?: string;
}

/**
 * `<issuerId>`: the first 16 bytes of SHA-256( SHA-256 issuerNameHash || SHA-256 issuerKeyHash ), in
 * lowercase hex. Computable from a SHA-256 CertID alone; the same for both CertID hashes.
 */
export function issuerIdOf(sha256: IssuerHashes): string {
  return createHash('sha256')
    .update(Buffer.from(sha256.issuerNameHash, 'hex'))
    .update(Buffer.from(sha256.issuerKeyHash, 'hex'))
    .digest('hex')
    .slice(0, 32);
}

/**
 * ARGV: issuerId, spki, expireAtMs, url...   KEYS: the issuer keys (sha1, sha256).
 * Sets id and spki, merges the URLs (first seen first, at most ISSUER_URLS_KEPT), and moves the
 * expiry later, never earlier: an issuer lives as long as the last certificate indexed under it.
 */
const WRITE_ISSUER = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expireAt = tonumber(ARGV[3])
for i = 1, #KEYS do
  local key = KEYS[i]
  local urls, seen = {}, {}
  local stored = redis.call('HGET', key, 'urls')
  if stored then
    for url in string.gmatch(stored, '%S+') do
      if not seen[url] then urls[#urls + 1] = url; seen[url] = true end
    end
  end
  for j = 4, #ARGV do
    local url = ARGV[j]
    if not seen[url] and #urls < ${ISSUER_URLS_KEPT} then urls[#urls + 1] = url; seen[url] = true end
  end
  redis.call('HSET', key, 'id', ARGV[1], 'spki', ARGV[2], 'urls', table.concat(urls, ' '))
  local ttl = redis.call('PTTL', key)
  local current = 0
  if ttl >= 0 then current = now + ttl end
  if expireAt > current then redis.call('PEXPIREAT', key, expireAt) end
end
return 'ok'
`;

/**
 * KEYS: the certid key. ARGV: prefix.
 * Returns false, or { fp, staple DER or false, staple PTTL (ms, as text) or false, names, mustStaple,
 * certNotAfter, responder } (meta fields false when absent). Read-only; builds the staple and meta
 * keys itself (single Redis only).
 */
const READ_CERTIFICATE = `
local fp = redis.call('GET', KEYS[1])
if not fp then return false end
local stapleKey = ARGV[1] .. 'staple:' .. fp
local der = redis.call('GET', stapleKey)
local ttl = false
if der then ttl = tostring(redis.call('PTTL', stapleKey)) end
local m = redis.call('HMGET', ARGV[1] .. 'meta:' .. fp, 'names', 'mustStaple', 'certNotAfter', 'responder')
return { fp, der or false, ttl, m[1] or false, m[2] or false, m[3] or false, m[4] or false }
`;

const WRITE_ISSUER_COMMAND = 'staplewarmCertIdIssuerV1';
const READ_CERTIFICATE_COMMAND = 'staplewarmCertIdReadV2';

type ScriptArg = string | Buffer | number;
type ScriptCall = (numKeys: number, ...args: ScriptArg[]) => Promise<unknown>;

/**
 * Writes and reads the CertID index. Writes are idempotent (a rescan rewrites the same keys) and
 * need nothing but the targets a scan produced; reads are what the relay does per request it cannot
 * answer from memory.
 */
export class CertIdIndex {
  readonly keys: StapleKeys;
  private readonly prefix: string;
  private readonly redis: Redis;
  /** Issuer hashes per issuer (name + key), computed once per process: a scan repeats a few issuers 50,000 times. */
  private readonly hashesByIssuer = new Map<string, { id: string; hashes: Record<CertIdHash, IssuerHashes> }>();

  constructor(redis: Redis, opts: CertIdIndexOptions = {}) {
    if (redis.options.keyPrefix) {
      throw new StoreError('key-prefix-unsupported', 'the ioredis keyPrefix option is not supported; pass { prefix } to CertIdIndex');
    }
    this.redis = redis;
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.keys = stapleKeys(this.prefix);
    redis.defineCommand(WRITE_ISSUER_COMMAND, { lua: WRITE_ISSUER });
    redis.defineCommand(READ_CERTIFICATE_COMMAND, { lua: READ_CERTIFICATE });
  }

  /**
   * Indexes every target that carries its issuer's name (`StapleTarget.issuerName`, set by
   * buildTarget): one certid key per certificate, expiring with its meta (certNotAfter + 1 day), and
   * each issuer under its SHA-1 and SHA-256 CertID halves. One pipelined round trip per call.
   * @returns how many targets were indexed (those without `issuerName` are skipped).
   */
  async write(targets: readonly StapleTarget[]): Promise<number> {
    const pipeline = this.redis.pipeline();
    const issuers = new Map<string, { keys: string[]; spki: string; expireAt: number; urls: Set<string> }>();
    let indexed = 0;
    for (const target of targets) {
      if (target.issuerName === undefined) continue;
      const { id, hashes } = this.issuerOf(target.issuerName, target.issuerSpki);
      const expireAt = target.certNotAfter + META_GRACE_MS;
      pipeline.set(this.keys.certId(id, target.certId.serialNumber), normalizeFingerprint(target.fingerprint), 'PXAT', expireAt);
      indexed++;
      let issuer = issuers.get(id);
      if (!issuer) {
        const keys = (['sha1', 'sha256'] as const).map((hash) =>
          this.keys.issuer(hash, hashes[hash].issuerNameHash, hashes[hash].issuerKeyHash),
        );
        issuer = { keys, spki: target.issuerSpki, expireAt, urls: new Set() };
        issuers.set(id, issuer);
      }
      issuer.expireAt = Math.max(issuer.expireAt, expireAt);
      for (const url of target.ocspUrls) if (HTTP_URL.test(url) && url.length <= MAX_URL_LENGTH) issuer.urls.add(url);
    }
    const writeIssuer = commandOf(pipeline, WRITE_ISSUER_COMMAND);
    for (const [id, issuer] of issuers) {
      void writeIssuer(issuer.keys.length, ...issuer.keys, id, issuer.spki, issuer.expireAt, ...issuer.urls);
    }
    if (indexed === 0) return 0;
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
    return indexed;
  }

  /** The issuer named by a CertID's issuer half in `hash`, or null when the index does not know it. */
  async issuer(hash: CertIdHash, issuerNameHash: string, issuerKeyHash: string): Promise<IndexedIssuer | null> {
    const [id, spki, urls] = await this.redis.hmget(this.keys.issuer(hash, issuerNameHash, issuerKeyHash), 'id', 'spki', 'urls');
    if (!id || !spki) return null;
    return { id, spki, ocspUrls: urls ? urls.split(' ').filter(Boolean) : [] };
  }

  /**
   * The certificate `serialNumber` of issuer `issuerId`: its fingerprint, staple and the meta a fetch
   * needs, in one round trip (a read-only script). Null when the index does not know the serial.
   */
  async certificate(issuerId: string, serialNumber: string): Promise<IndexedCertificate | null> {
    const read = commandOf(this.redis, `${READ_CERTIFICATE_COMMAND}Buffer`);
    const reply = await read(1, this.keys.certId(issuerId, serialNumber), this.prefix);
    if (reply === null) return null;
    if (!Array.isArray(reply) || reply.length !== 7)
      throw new StoreError('unexpected-reply', 'certid read script answered a reply of the wrong shape');
    const [fp, der, ttl, names, mustStaple, certNotAfter, responder] = reply as (Buffer | null)[];
    if (!fp) throw new StoreError('unexpected-reply', 'certid read script answered no fingerprint');
    const text = (value: Buffer | null | undefined): string | undefined => (value ? value.toString('utf8') : undefined);
    const hasMeta = names !== null || mustStaple !== null || certNotAfter !== null || responder !== null;
    const notAfter = text(certNotAfter);
    return {
      fingerprint: fp.toString('utf8'),
      staple: der ?? null,
      // PTTL is -1 only for a key without expiry, which the contract never writes: count it as expiring now.
      stapleExpiresInMs: der && ttl ? Math.max(0, Number(ttl.toString('utf8'))) : null,
      meta: hasMeta
        ? {
            names: (text(names) ?? '').split(',').filter(Boolean),
            mustStaple: text(mustStaple) === '1',
            certNotAfter: notAfter ? Date.parse(notAfter) : undefined,
            responder: text(responder),
          }
        : null,
    };
  }

  private issuerOf(issuerName: string, issuerSpki: string): { id: string; hashes: Record<CertIdHash, IssuerHashes> } {
    const cacheKey = `${issuerName}|${issuerSpki}`;
    let known = this.hashesByIssuer.get(cacheKey);
    if (!known) {
      const hashes = issuerHashes(Buffer.from(issuerName, 'base64'), Buffer.from(issuerSpki, 'base64'));
      known = { id: issuerIdOf(hashes.sha256), hashes };
      // A scan sees a handful of issuers; a bound keeps a pathological store from growing this.
      if (this.hashesByIssuer.size >= 1_000) this.hashesByIssuer.clear();
      this.hashesByIssuer.set(cacheKey, known);
    }
    return known;
  }
}

/**
 * defineCommand adds methods ioredis's types cannot know about, on the client and on its pipelines
 * (with a `<name>Buffer` variant for binary replies); look one up, bound to its owner.
 */
function commandOf(owner: object, name: string): ScriptCall {
  const method = (owner as Record<string, ScriptCall | undefined>)[name];
  if (typeof method !== 'function') throw new TypeError(`ioredis did not define ${name}`);
  return method.bind(owner);
}
