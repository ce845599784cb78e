// What the OpenResty tests need from the machine, checked once: nginx with the Lua module, and
// Redis. Locally a missing one skips the tests with a hint; under CI=true the tests run and fail.
import { findNginx } from './nginx.js';
import { canConnect } from './processes.js';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REDIS_PORT = Number(new URL(REDIS_URL).port || 6379);
export const CI = process.env.CI === 'true';
export const redisUp = await canConnect(REDIS_PORT);

/** What is missing ([] when the tests can run). */
export const missing = [findNginx() === null && 'nginx + libnginx-mod-http-lua', !redisUp && `Redis at ${REDIS_URL}`].filter(
  (m): m is string => typeof m === 'string',
);

/** True when the suite should be skipped (something missing, not under CI); warns once per file. */
export function skipSuite(what: string): boolean {
  if (missing.length === 0) return false;
  if (CI) return false;
  console.warn(
    `skipping ${what}: ${missing.join(', ')} not available (apt-get install nginx libnginx-mod-http-lua lua-resty-core lua-resty-lrucache lua-nginx-redis lua-nginx-dns)`,
  );
  return true;
}

/** For beforeAll: under CI=true a missing dependency is a failure, not a skip. */
export function requireAll(): void {
  if (missing.length > 0) throw new Error(`CI=true and ${missing.join(', ')} missing: install them (see .ci/run)`);
}
