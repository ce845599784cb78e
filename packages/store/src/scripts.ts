/**
 * The Lua scripts of contract v1 and their typed callers. Each runs atomically in Redis, so a reader
 * (OpenResty, `get`, another worker) never sees a staple without its meta or a half-applied rule.
 *
 * The write script reads `<prefix>staple:<other fp>` and `<prefix>meta:<other fp>` for host aliases,
 * and the states script builds its keys from ARGV: keys not passed in KEYS are fine for a single
 * Redis (and its replicas), not for Redis Cluster, which contract v1 does not support.
 */
import type { Redis } from 'ioredis';

/**
 * Claims `<prefix>host:<name>` (KEYS[first..]) for fp, which has a live staple (the write just stored
 * or kept it). A name moves from another holder only when that holder has no live staple (it cannot
 * serve one: never stapled, expired, or forgotten) or its certificate ends earlier; on equal
 * certNotAfter the holder keeps it, so two certificates never take a name back and forth. Only the
 * write script claims: a certificate that never got a verified staple (a failing one, or a hostile
 * one naming someone else's host) never moves a name. ISO 8601 times from toISOString() compare as
 * strings.
 */
const CLAIM_HOSTS = `
local function claimHosts(first, fp, certNotAfter, prefix, expireAt)
  for i = first, #KEYS do
    local holder = redis.call('GET', KEYS[i])
    local take = (not holder) or holder == fp
    if not take then
      if redis.call('EXISTS', prefix .. 'staple:' .. holder) == 0 then
        take = true
      else
        local theirs = redis.call('HGET', prefix .. 'meta:' .. holder, 'certNotAfter')
        take = (not theirs) or theirs < certNotAfter
      end
    end
    if take then
      redis.call('SET', KEYS[i], fp, 'PXAT', expireAt)
    end
  end
end
`;

/**
 * "Now" is Redis' own clock (TIME), never the writer's: a worker whose clock is behind would
 * otherwise store a staple Redis considers expired, and `SET ... PXAT <past>` deletes the key, so
 * the good staple before it would be gone. Scripts are replicated by their effects (the only mode
 * since Redis 7, the default since 5), so calling TIME before writing is allowed and replicas and the
 * AOF receive the resulting absolute expiries, not the script.
 */
const REDIS_NOW_MS = `
local function redisNowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * KEYS: staple, meta, host...
 * ARGV: der, stapleExpireAtMs, metaExpireAtMs, prefix, fp, certNotAfter, names, mustStaple,
 *       status, thisUpdate, nextUpdate, producedAt, fetchedAt, expiresAt, serial, responder,
 *       revocationTime, revocationReason ('' when good)
 * Returns: 'written' | 'older' | 'revoked-kept' | 'expired' ('expired': nothing was touched)
 * Publishes fp on `<prefix>changed` when 'written' (the staple's bytes were replaced).
 */
const WRITE_STAPLE = `${CLAIM_HOSTS}${REDIS_NOW_MS}
local stapleKey, metaKey = KEYS[1], KEYS[2]
if tonumber(ARGV[2]) <= redisNowMs() then return 'expired' end
local status, thisUpdate = ARGV[9], ARGV[10]
local outcome = 'written'
if redis.call('EXISTS', stapleKey) == 1 then
  local old = redis.call('HMGET', metaKey, 'status', 'thisUpdate')
  local oldStatus, oldThisUpdate = old[1], old[2]
  if oldStatus == 'revoked' and status ~= 'revoked' then
    outcome = 'revoked-kept'
  elseif not (oldStatus == 'good' and status == 'revoked') and oldThisUpdate and thisUpdate < oldThisUpdate then
    outcome = 'older'
  end
end
if outcome == 'written' then
  redis.call('SET', stapleKey, ARGV[1], 'PXAT', ARGV[2])
  redis.call('HDEL', metaKey, 'lastError', 'lastErrorCode', 'lastErrorAt', 'revocationTime', 'revocationReason')
  redis.call('HSET', metaKey, 'status', status, 'thisUpdate', thisUpdate, 'nextUpdate', ARGV[11],
    'producedAt', ARGV[12], 'fetchedAt', ARGV[13], 'expiresAt', ARGV[14], 'serial', ARGV[15], 'responder', ARGV[16])
  if ARGV[17] ~= '' then redis.call('HSET', metaKey, 'revocationTime', ARGV[17]) end
  if ARGV[18] ~= '' then redis.call('HSET', metaKey, 'revocationReason', ARGV[18]) end
  -- Exporters (nginx files, HAProxy's socket) follow this channel instead of scanning Redis.
  redis.call('PUBLISH', ARGV[4] .. 'changed', ARGV[5])
end
redis.call('HSET', metaKey, 'names', ARGV[7], 'mustStaple', ARGV[8], 'certNotAfter', ARGV[6])
redis.call('PEXPIREAT', metaKey, ARGV[3])
claimHosts(3, ARGV[5], ARGV[6], ARGV[4], ARGV[3])
return outcome
`;

/**
 * KEYS: meta
 * ARGV: metaExpireAtMs, certNotAfter, names, mustStaple, lastError, lastErrorCode, lastErrorAt,
 *       responder ('' when unknown)
 * Never touches the staple key, and claims no host name (a failure proves nothing about a name).
 */
const RECORD_FAILURE = `
local metaKey = KEYS[1]
redis.call('HSET', metaKey, 'names', ARGV[3], 'mustStaple', ARGV[4], 'certNotAfter', ARGV[2],
  'lastError', ARGV[5], 'lastErrorCode', ARGV[6], 'lastErrorAt', ARGV[7])
if ARGV[8] ~= '' then redis.call('HSETNX', metaKey, 'responder', ARGV[8]) end
redis.call('PEXPIREAT', metaKey, ARGV[1])
return 'ok'
`;

/**
 * ARGV: prefix, fp1, fp2, ...   (no KEYS: the keys are built here, which halves what the client
 * encodes and sends; like the host rule, fine on a single Redis)
 * Returns one string per fp: `<0|1>|status|thisUpdate|nextUpdate|certNotAfter` ('' when absent).
 * Read-only. A client-side pipeline of EXISTS + HMGET per certificate spends about three times as long
 * in ioredis (command objects, reply parsing) as this script spends in Redis.
 */
const READ_STATES = `
local prefix = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local fp = ARGV[i]
  local m = redis.call('HMGET', prefix .. 'meta:' .. fp, 'status', 'thisUpdate', 'nextUpdate', 'certNotAfter')
  out[#out + 1] = redis.call('EXISTS', prefix .. 'staple:' .. fp) .. '|' .. (m[1] or '') .. '|' .. (m[2] or '') .. '|' .. (m[3] or '') .. '|' .. (m[4] or '')
end
return out
`;

type ScriptArg = string | Buffer | number;
type ScriptCall = (numKeys: number, ...args: ScriptArg[]) => Promise<unknown>;

/** Command names on the ioredis client; versioned so a later contract can live beside this one. */
const WRITE_COMMAND = 'staplewarmWriteStapleV1';
const FAILURE_COMMAND = 'staplewarmRecordFailureV1';
const STATES_COMMAND = 'staplewarmReadStatesV1';

export interface StoreScripts {
  writeStaple(keys: string[], args: ScriptArg[]): Promise<unknown>;
  recordFailure(metaKey: string, args: ScriptArg[]): Promise<unknown>;
  readStates(prefix: string, fps: string[]): Promise<unknown>;
}

/**
 * Registers the scripts on the client (ioredis `defineCommand`: EVALSHA, falling back to EVAL after
 * a SCRIPT FLUSH or a Redis restart). Buffers are sent as raw bytes, so the DER stays binary-exact.
 */
export function defineScripts(redis: Redis): StoreScripts {
  redis.defineCommand(WRITE_COMMAND, { lua: WRITE_STAPLE });
  redis.defineCommand(FAILURE_COMMAND, { lua: RECORD_FAILURE });
  redis.defineCommand(STATES_COMMAND, { lua: READ_STATES });
  const write = commandOf(redis, WRITE_COMMAND);
  const failure = commandOf(redis, FAILURE_COMMAND);
  const states = commandOf(redis, STATES_COMMAND);
  return {
    writeStaple: (keys, args) => write(keys.length, ...keys, ...args),
    recordFailure: (metaKey, args) => failure(1, metaKey, ...args),
    readStates: (prefix, fps) => states(0, prefix, ...fps),
  };
}

/** defineCommand adds a method ioredis's types cannot know about; look it up once, typed. */
function commandOf(redis: Redis, name: string): ScriptCall {
  const method = (redis as unknown as Record<string, ScriptCall>)[name];
  if (typeof method !== 'function') throw new TypeError(`ioredis did not define ${name}`);
  return method.bind(redis);
}
