import type { Redis } from 'ioredis';
import { StoreError } from './errors.js';
import { DEFAULT_PREFIX, normalizeFingerprint, stapleKeys, type StapleKeys } from './keys.js';
import { decodeMeta, isoTime, META_GRACE_MS, normalizeNames, parseStatus, parseTime } from './meta.js';
import { defineScripts, type StoreScripts } from './scripts.js';
import type { FailureContext, StapleFailure, StapleMeta, StapleRecord, StapleState, WriteOutcome } from './types.js';

export interface StapleStoreOptions {
  /**
   * Prefix of every key.
   * @defaultValue 'ocsp:'
   */
  prefix?: string;
}

/** Fingerprints per states script call: each call blocks Redis for about a millisecond, no longer. */
const STATES_CHUNK = 1000;

/**
 * Reads and writes Redis contract v1 (CONTRACT.md). Writes go through Lua scripts, so every rule
 * (last-known-good, host ownership, TTLs) holds however many workers write at once.
 * Redis being unreachable surfaces as ioredis's own errors.
 */
export class StapleStore {
  readonly keys: StapleKeys;
  private readonly prefix: string;
  private readonly scripts: StoreScripts;

  /** Registers the contract's scripts on `redis` (ioredis `defineCommand`). */
  constructor(
    private readonly redis: Redis,
    opts: StapleStoreOptions = {},
  ) {
    if (redis.options.keyPrefix) {
      throw new StoreError('key-prefix-unsupported', 'the ioredis keyPrefix option is not supported; pass { prefix } to StapleStore');
    }
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.keys = stapleKeys(this.prefix);
    this.scripts = defineScripts(redis);
  }

  /**
   * Stores a verified staple atomically, by the last-known-good rules: a stored revoked staple is never
   * replaced by a good one, a revoked one always replaces a good one, otherwise an older thisUpdate is
   * refused. Names, mustStaple, certNotAfter and host aliases are refreshed whatever the outcome
   * (except `expired`, where nothing is written).
   *
   * There is no `now` parameter on purpose: whether the staple has expired is decided inside the
   * script by Redis' clock (`TIME`), so a caller whose clock is off can neither store a staple Redis
   * considers expired (which would delete the live one it replaces) nor have a good one refused.
   */
  async write(rec: StapleRecord): Promise<WriteOutcome> {
    const { staple } = rec;
    if (staple.status !== 'good' && staple.status !== 'revoked') {
      throw new StoreError('not-stapleable', `refusing to store a staple with status ${staple.status} for ${rec.fingerprint}`);
    }
    const names = normalizeNames(rec.names);
    const keys = [this.keys.staple(rec.fingerprint), this.keys.meta(rec.fingerprint), ...names.map(this.keys.host)];
    const revoked = staple.status === 'revoked';
    const reply = await this.scripts.writeStaple(keys, [
      staple.der,
      staple.expiresAt.getTime(),
      rec.certNotAfter + META_GRACE_MS,
      this.prefix,
      normalizeFingerprint(rec.fingerprint),
      isoTime(rec.certNotAfter),
      names.join(','),
      rec.mustStaple ? '1' : '0',
      staple.status,
      isoTime(staple.thisUpdate),
      isoTime(staple.nextUpdate),
      isoTime(staple.producedAt),
      isoTime(rec.fetchedAt),
      isoTime(staple.expiresAt),
      staple.certId.serialNumber.toLowerCase(),
      rec.responder,
      revoked && staple.revocationTime ? isoTime(staple.revocationTime) : '',
      revoked && staple.revocationReason ? staple.revocationReason : '',
    ]);
    switch (reply) {
      case 'written':
        return { written: true };
      case 'older':
      case 'revoked-kept':
      case 'expired':
        return { written: false, reason: reply };
      default:
        throw new StoreError('unexpected-reply', `write script answered ${String(reply)}`);
    }
  }

  /**
   * Records a failed attempt in meta (`lastError`, `lastErrorCode`, `lastErrorAt`) and refreshes the
   * certificate facts. The staple key is never touched: the last good staple stays. Host aliases are
   * not touched either: only a verified staple moves a name (see CONTRACT.md).
   */
  async recordFailure(fp: string, failure: StapleFailure, context: FailureContext): Promise<void> {
    await this.scripts.recordFailure(this.keys.meta(fp), [
      context.certNotAfter + META_GRACE_MS,
      isoTime(context.certNotAfter),
      normalizeNames(context.names).join(','),
      context.mustStaple ? '1' : '0',
      failure.message,
      failure.code,
      isoTime(failure.at),
      context.responder ?? '',
    ]);
  }

  /** The staple's DER and its meta, read in one MULTI so they agree. */
  async get(fp: string): Promise<{ der: Buffer | null; meta: StapleMeta | null }> {
    const replies = await this.redis.multi().getBuffer(this.keys.staple(fp)).hgetall(this.keys.meta(fp)).exec();
    const [derReply, metaReply] = replies ?? [];
    if (derReply?.[0]) throw derReply[0];
    if (metaReply?.[0]) throw metaReply[0];
    const der = (derReply?.[1] as Buffer | null | undefined) ?? null;
    const hash = (metaReply?.[1] as Record<string, string> | undefined) ?? {};
    return { der, meta: decodeMeta(normalizeFingerprint(fp), hash) };
  }

  /**
   * The fingerprint of the certificate serving a name (an SNI: case and a trailing dot are ignored):
   * the exact name's alias, else the wildcard one label up (`a.example.com` -> `*.example.com`;
   * RFC 6125 section 6.4.3: a wildcard covers one label only). The lookup the OpenResty module does.
   */
  async fingerprintForHost(sni: string): Promise<string | null> {
    const name = sni.toLowerCase().replace(/\.$/, '');
    const wildcard = wildcardFor(name);
    if (wildcard === undefined) return this.redis.get(this.keys.host(name));
    const [exact, covering] = await this.redis.mget(this.keys.host(name), this.keys.host(wildcard));
    return exact ?? covering ?? null;
  }

  /**
   * Freshness facts for many certificates: one read-only script call per chunk of fingerprints, the
   * calls pipelined. Every requested fingerprint is in the map; unknown ones have `hasStaple: false`
   * and nothing else.
   */
  async states(fps: string[]): Promise<Map<string, StapleState>> {
    const chunks: string[][] = [];
    for (let start = 0; start < fps.length; start += STATES_CHUNK) chunks.push(fps.slice(start, start + STATES_CHUNK));
    const replies = await Promise.all(chunks.map((chunk) => this.scripts.readStates(this.prefix, chunk.map(normalizeFingerprint))));
    const states = new Map<string, StapleState>();
    chunks.forEach((chunk, c) => {
      const lines = replies[c];
      if (!Array.isArray(lines) || lines.length !== chunk.length) {
        throw new StoreError('unexpected-reply', 'states script answered a list of the wrong shape');
      }
      chunk.forEach((fp, i) => states.set(fp, parseState(String(lines[i]))));
    });
    return states;
  }

  /**
   * Every meta hash under the prefix (SCAN, so Redis is never blocked), each fingerprint once even
   * when SCAN returns a key twice. Keys that expire mid-scan are skipped.
   */
  async *scanMeta(opts: { count?: number } = {}): AsyncIterable<StapleMeta> {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.keys.metaPattern(), 'COUNT', opts.count ?? 1000);
      cursor = next;
      const fresh = keys.filter((key) => !seen.has(key));
      if (fresh.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const key of fresh) {
        seen.add(key);
        pipeline.hgetall(key);
      }
      const replies = (await pipeline.exec()) ?? [];
      for (const [i, key] of fresh.entries()) {
        const [err, hash] = replies[i] ?? [];
        if (err) throw err;
        const meta = decodeMeta(this.keys.fingerprintOfMeta(key), (hash as Record<string, string> | undefined) ?? {});
        if (meta) yield meta;
      }
    } while (cursor !== '0');
  }
}

/** `a.example.com` -> `*.example.com`; undefined for a wildcard itself or a single-label name. */
function wildcardFor(name: string): string | undefined {
  const dot = name.indexOf('.');
  if (name.startsWith('*.') || dot <= 0 || dot === name.length - 1) return undefined;
  return `*${name.slice(dot)}`;
}

/** Decodes one line of the states script: `<0|1>|status|thisUpdate|nextUpdate|certNotAfter`. */
function parseState(line: string): StapleState {
  const [exists, status, thisUpdate, nextUpdate, certNotAfter] = line.split('|');
  const state: StapleState = { hasStaple: exists === '1' };
  // Plain assignments: this runs 50,000 times in a row during a warm start.
  const parsedStatus = parseStatus(status);
  if (parsedStatus !== undefined) state.status = parsedStatus;
  const thisUpdateTime = parseTime(thisUpdate);
  if (thisUpdateTime !== undefined) state.thisUpdate = thisUpdateTime;
  const nextUpdateTime = parseTime(nextUpdate);
  if (nextUpdateTime !== undefined) state.nextUpdate = nextUpdateTime;
  const certNotAfterTime = parseTime(certNotAfter);
  if (certNotAfterTime !== undefined) state.certNotAfter = certNotAfterTime;
  return state;
}
