/**
 * The one place staplewarm reads its environment. Every setting: flag > env > default, validated
 * into one object. Defaults are documented here and in the README's configuration table.
 */
export interface Config {
  /** REDIS_URL / --redis. redis://[user:pass@]host:port[/db] or rediss:// for TLS. */
  redisUrl: string;
  /** STAPLEWARM_PREFIX / --prefix. Key prefix of the Redis contract (OpenResty reads the same). */
  prefix: string;
  /** STAPLEWARM_RATE / --rate. Global OCSP requests per second over all workers; 0 = unlimited. */
  rate: number;
  /** STAPLEWARM_CONCURRENCY / --concurrency. Requests in flight per worker process. */
  concurrency: number;
  /** STAPLEWARM_ATTEMPTS. Tries per certificate before it is reported failed. */
  attempts: number;
  /** STAPLEWARM_RETRY_BASE_MS. First retry delay after a failed attempt; doubles per attempt (jittered), capped at 60 s. */
  retryBaseMs: number;
  /** STAPLEWARM_CERTID_HASH. sha1 (RFC 5019) or sha256 (RFC 9919). */
  certIdHash: 'sha1' | 'sha256';
  /** STAPLEWARM_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs: number;
  /** STAPLEWARM_RESPONSE_TIMEOUT_MS. */
  responseTimeoutMs: number;
  /** STAPLEWARM_LOG_LEVEL. pino level for logs on stderr. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** STAPLEWARM_METRICS_PORT / --metrics-port. Port of /metrics on long-running commands; 0 = off. */
  metricsPort: number;
  /** STAPLEWARM_METRICS_HOST / --metrics-host. Address /metrics binds to (0.0.0.0 in containers). */
  metricsHost: string;
  /**
   * STAPLEWARM_HOST_RATE / --host-rate. Per-responder-host budgets, requests/s:
   * `ocsp.example.com=200,ocsp.other.test=50`. Hosts not listed share only the global rate.
   */
  hostRates: Record<string, number>;
  /** STAPLEWARM_SCAN_INTERVAL / --scan-interval. Seconds between rescans in `serve`. */
  scanIntervalSeconds: number;
}

export const DEFAULTS: Config = {
  redisUrl: 'redis://127.0.0.1:6379',
  prefix: 'ocsp:',
  rate: 500,
  concurrency: 128,
  attempts: 5,
  retryBaseMs: 1_000,
  certIdHash: 'sha1',
  connectTimeoutMs: 3_000,
  responseTimeoutMs: 5_000,
  logLevel: 'info',
  metricsPort: 9464,
  metricsHost: '127.0.0.1',
  hostRates: {},
  scanIntervalSeconds: 300,
};

/** Flags as commander hands them over (all optional; undefined = not given). */
export interface ConfigFlags {
  redis?: string;
  prefix?: string;
  rate?: string;
  concurrency?: string;
  metricsPort?: string;
  metricsHost?: string;
  hostRate?: string[];
  scanInterval?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid-config';
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
  }
}

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: string | undefined, name: string): [string | undefined, string] =>
    flag !== undefined ? [flag, `--${name}`] : [undefined, name];
  const [redisFlag] = pick(flags.redis, 'redis');
  const redisUrl = redisFlag ?? env.REDIS_URL ?? DEFAULTS.redisUrl;
  if (!/^rediss?:\/\//.test(redisUrl))
    throw new ConfigError(flags.redis ? '--redis' : 'REDIS_URL', `expected redis:// or rediss:// URL, got "${redisUrl}"`);
  const prefix = flags.prefix ?? env.STAPLEWARM_PREFIX ?? DEFAULTS.prefix;
  if (prefix.length === 0 || /\s/.test(prefix)) throw new ConfigError('--prefix', `must be non-empty without spaces, got "${prefix}"`);

  const hash = env.STAPLEWARM_CERTID_HASH ?? DEFAULTS.certIdHash;
  if (hash !== 'sha1' && hash !== 'sha256') throw new ConfigError('STAPLEWARM_CERTID_HASH', `sha1 or sha256, got "${hash}"`);
  const logLevel = env.STAPLEWARM_LOG_LEVEL ?? DEFAULTS.logLevel;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('STAPLEWARM_LOG_LEVEL', `unknown level "${logLevel}"`);
  }

  return {
    redisUrl,
    prefix,
    rate: number(flags.rate, '--rate', env.STAPLEWARM_RATE, 'STAPLEWARM_RATE', DEFAULTS.rate, 0),
    concurrency: number(flags.concurrency, '--concurrency', env.STAPLEWARM_CONCURRENCY, 'STAPLEWARM_CONCURRENCY', DEFAULTS.concurrency, 1),
    attempts: number(undefined, '', env.STAPLEWARM_ATTEMPTS, 'STAPLEWARM_ATTEMPTS', DEFAULTS.attempts, 1),
    retryBaseMs: number(undefined, '', env.STAPLEWARM_RETRY_BASE_MS, 'STAPLEWARM_RETRY_BASE_MS', DEFAULTS.retryBaseMs, 1),
    certIdHash: hash,
    connectTimeoutMs: number(
      undefined,
      '',
      env.STAPLEWARM_CONNECT_TIMEOUT_MS,
      'STAPLEWARM_CONNECT_TIMEOUT_MS',
      DEFAULTS.connectTimeoutMs,
      1,
    ),
    responseTimeoutMs: number(
      undefined,
      '',
      env.STAPLEWARM_RESPONSE_TIMEOUT_MS,
      'STAPLEWARM_RESPONSE_TIMEOUT_MS',
      DEFAULTS.responseTimeoutMs,
      1,
    ),
    logLevel: logLevel as Config['logLevel'],
    metricsPort: number(
      flags.metricsPort,
      '--metrics-port',
      env.STAPLEWARM_METRICS_PORT,
      'STAPLEWARM_METRICS_PORT',
      DEFAULTS.metricsPort,
      0,
    ),
    metricsHost: flags.metricsHost ?? env.STAPLEWARM_METRICS_HOST ?? DEFAULTS.metricsHost,
    hostRates: parseHostRates(flags.hostRate, env.STAPLEWARM_HOST_RATE),
    scanIntervalSeconds: number(
      flags.scanInterval,
      '--scan-interval',
      env.STAPLEWARM_SCAN_INTERVAL,
      'STAPLEWARM_SCAN_INTERVAL',
      DEFAULTS.scanIntervalSeconds,
      1,
    ),
  };
}

/** `host=rate` pairs from repeated --host-rate flags, or comma-separated in STAPLEWARM_HOST_RATE. */
function parseHostRates(flags: string[] | undefined, envValue: string | undefined): Record<string, number> {
  const [items, source] = flags?.length ? [flags, '--host-rate'] : [envValue?.split(',') ?? [], 'STAPLEWARM_HOST_RATE'];
  const rates: Record<string, number> = {};
  for (const item of items
    .flatMap((i) => i.split(','))
    .map((i) => i.trim())
    .filter(Boolean)) {
    const match = /^([a-z0-9.-]+(?::\d+)?)=(\d+(?:\.\d+)?)$/i.exec(item);
    if (!match?.[1] || !match[2] || Number(match[2]) <= 0)
      throw new ConfigError(source, `expected host=requests-per-second, got "${item}"`);
    rates[match[1].toLowerCase()] = Number(match[2]);
  }
  return rates;
}

function number(
  flag: string | undefined,
  flagName: string,
  envValue: string | undefined,
  envName: string,
  fallback: number,
  min: number,
): number {
  const [raw, source] = flag !== undefined ? [flag, flagName] : envValue !== undefined ? [envValue, envName] : [undefined, ''];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || !Number.isInteger(value)) {
    throw new ConfigError(source, `expected a whole number >= ${min}, got "${raw}"`);
  }
  return value;
}

/** BullMQ's key prefix for a contract prefix: `ocsp:` → keys `ocsp:bull:staple:*`. */
export function queuePrefix(prefix: string): string {
  return `${prefix}bull`;
}
