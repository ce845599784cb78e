/**
 * The one place staplewarm reads its environment. Every setting: flag > env > default, validated
 * into one object. `SETTINGS` is the single source of each default: the README's configuration table
 * and every command's `--help` are built from (or checked against) it.
 */
import { readFileSync } from 'node:fs';
import { AddressPolicyError, parseResponderAllow } from '@staplewarm/fetch/address-policy';
import { DEFAULT_LISTEN, isRelayError, parseListenAddress, type ListenAddress } from '@staplewarm/relay/listen-address';
import { QUEUE_DEFAULTS } from '@staplewarm/queue/defaults';
import { isHaproxyCliError, parseHaproxySocketAddress } from '@staplewarm/export/haproxy-cli';
import type { Command } from 'commander';
import { escapeControl } from './escape.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** REDIS_URL / --redis. redis://[user@]host:port[/db] or rediss:// for TLS. May hold a password (kept out of every output). */
  redisUrl: string;
  /**
   * From STAPLEWARM_REDIS_PASSWORD_FILE / --redis-password-file (the file's first line): the Redis
   * password, kept out of process arguments. Overrides a password in the URL.
   */
  redisPassword: string | undefined;
  /** STAPLEWARM_PREFIX / --prefix. Key prefix of the Redis contract (OpenResty reads the same). */
  prefix: string;
  /**
   * STAPLEWARM_RATE / --rate. Ceiling of OCSP requests per second over every responder host and
   * every worker process, shared out over the hosts with work; 0 = none.
   */
  rate: number;
  /** STAPLEWARM_DEFAULT_HOST_RATE / --default-host-rate. Budget of a responder host without its own --host-rate; 0 = unlimited. */
  defaultHostRate: number;
  /** STAPLEWARM_CONCURRENCY / --concurrency. Requests in flight per worker process. */
  concurrency: number;
  /** STAPLEWARM_BATCH_SIZE / --batch-size. Certificates per job that `warm` enqueues (1 = a job each). */
  batchSize: number;
  /** STAPLEWARM_ATTEMPTS. Tries per certificate before it is reported failed. */
  attempts: number;
  /** STAPLEWARM_RETRY_BASE_MS. First retry delay after a failed attempt; doubles per attempt (jittered), capped at 60 s. */
  retryBaseMs: number;
  /** STAPLEWARM_RETRY_MAX_MS. Longest retry delay. */
  retryMaxMs: number;
  /** STAPLEWARM_CERTID_HASH. sha1 (RFC 5019) or sha256 (RFC 9919). */
  certIdHash: 'sha1' | 'sha256';
  /** STAPLEWARM_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs: number;
  /** STAPLEWARM_RESPONSE_TIMEOUT_MS. */
  responseTimeoutMs: number;
  /** STAPLEWARM_LOG_LEVEL. pino level for logs on stderr. */
  logLevel: LogLevel;
  /** STAPLEWARM_METRICS_PORT / --metrics-port. Port of /metrics on long-running commands; 0 = off. */
  metricsPort: number;
  /** STAPLEWARM_METRICS_HOST / --metrics-host. Address /metrics binds to (0.0.0.0 in containers). */
  metricsHost: string;
  /**
   * STAPLEWARM_HOST_RATE / --host-rate. Per-responder-host budgets, requests/s:
   * `ocsp.example.com=200,ocsp.other.test=50`. Hosts not listed get the default host rate.
   */
  hostRates: Record<string, number>;
  /** STAPLEWARM_SCAN_INTERVAL / --scan-interval. Seconds between rescans in `serve` (10 s to 1 day). */
  scanIntervalSeconds: number;
  /**
   * STAPLEWARM_RESPONDER_ALLOW / --responder-allow. CIDRs, addresses, host names or `*.domain` that
   * OCSP requests may reach although the default address policy refuses them (loopback, private,
   * link-local...; see packages/fetch's README). Normalized (`10.1.2.3/8` -> `10.0.0.0/8`).
   */
  responderAllow: string[];
  /** STAPLEWARM_MAX_CERT_FILE_BYTES / --max-cert-file-bytes. Larger certificate files are reported, not read. */
  maxCertFileBytes: number;
  /** STAPLEWARM_WARM_TIMEOUT / --timeout. Seconds `warm` waits for its jobs before giving up (exit 1). */
  warmTimeoutSeconds: number;
  /**
   * STAPLEWARM_SHRINK_RATIO. A rescan of `serve` that finds fewer than this fraction of the
   * certificates of the last accepted scan is a suspected shrink (an unmounted store): the known
   * certificates are kept until the operator confirms or `shrinkConfirmScans` scans agree.
   */
  shrinkRatio: number;
  /** STAPLEWARM_SHRINK_CONFIRM_SCANS. Consecutive scans that must agree before a shrink is accepted. */
  shrinkConfirmScans: number;
  /** STAPLEWARM_RELAY_LISTEN / --listen. Where `staplewarm relay` answers OCSP requests. */
  relayListen: ListenAddress;
  /**
   * STAPLEWARM_NGINX_DIR / --nginx-dir (`export nginx --dir`). Where the nginx exporter writes a
   * `<name>.der` staple and a `<name>.conf` include snippet per certificate; `serve` keeps them current when set.
   */
  nginxDir: string | undefined;
  /** STAPLEWARM_NGINX_RELOAD_COMMAND / --nginx-reload-command (`export nginx --reload-command`). Run by /bin/sh after a batch of changes. */
  nginxReloadCommand: string | undefined;
  /** STAPLEWARM_HAPROXY_DIR / --haproxy-dir (`export haproxy --dir`). HAProxy `crt` directories or files: `<crt>.ocsp` beside each. */
  haproxyDirs: string[];
  /** STAPLEWARM_HAPROXY_SOCKET / --haproxy-socket (`export haproxy --socket`). HAProxy's admin runtime API: a unix socket path or host:port. */
  haproxySocket: string | undefined;
  /** STAPLEWARM_EXPORT_MIN_VALIDITY. Seconds of validity a staple must have left to be exported (withdrawn that long before it expires). */
  exportMinValiditySeconds: number;
  /** STAPLEWARM_EXPORT_DEBOUNCE_MS. How long the nginx exporter gathers changes before one reload. */
  exportDebounceMs: number;
  /** STAPLEWARM_EXPORT_RELOAD_INTERVAL. Seconds at least between two nginx reloads under `serve`. */
  exportReloadIntervalSeconds: number;
}

/** Flags as commander hands them over (all optional; undefined = not given). */
export interface ConfigFlags {
  redis?: string;
  redisPasswordFile?: string;
  prefix?: string;
  rate?: string;
  defaultHostRate?: string;
  concurrency?: string;
  batchSize?: string;
  metricsPort?: string;
  metricsHost?: string;
  hostRate?: string[];
  scanInterval?: string;
  responderAllow?: string[];
  maxCertFileBytes?: string;
  timeout?: string;
  listen?: string;
  nginxDir?: string;
  nginxReloadCommand?: string;
  haproxyDir?: string[];
  haproxySocket?: string;
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

/** One setting: where it comes from, its default, its help line, and how its text is validated. */
interface Setting<K extends keyof Config> {
  /** Commander's flag spec, when the setting has a flag. */
  flag?: string;
  /** The ConfigFlags field the flag lands in. */
  flagKey?: keyof ConfigFlags;
  env?: string;
  default: Config[K];
  /** How the default reads in help and the README (when the value alone would not say it). */
  shownDefault?: string;
  help: string;
  /** Turns the raw text (flag or env) into the value; `source` names the flag or variable for errors. */
  parse(raw: string | string[], source: string): Config[K];
}

type Settings = { [K in keyof Config]: Setting<K> };

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Every setting of staplewarm, with its single default. */
export const SETTINGS: Settings = {
  redisUrl: {
    flag: '--redis <url>',
    flagKey: 'redis',
    env: 'REDIS_URL',
    default: 'redis://127.0.0.1:6379',
    help: 'Redis URL, redis://host:port/db or rediss://host:port (a password in --redis shows in the process list until start-up masks it: use REDIS_URL or --redis-password-file)',
    parse: (raw, source) => {
      const url = text(raw);
      if (!/^rediss?:\/\//i.test(url)) throw new ConfigError(source, 'expected a redis:// or rediss:// URL');
      try {
        new URL(url);
      } catch {
        throw new ConfigError(source, 'not a valid URL');
      }
      return url;
    },
  },
  redisPassword: {
    flag: '--redis-password-file <path>',
    flagKey: 'redisPasswordFile',
    env: 'STAPLEWARM_REDIS_PASSWORD_FILE',
    default: undefined,
    shownDefault: 'none',
    help: 'file holding the Redis password (first line), instead of a password in the URL',
    parse: (raw, source) => {
      const path = text(raw);
      let content: string;
      try {
        content = readFileSync(path, 'utf8');
      } catch (err) {
        throw new ConfigError(source, `cannot read ${escapeControl(path)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      // The first line, exactly: spaces are part of a password. Never echoed.
      const password = content.split(/\r?\n/)[0] ?? '';
      if (password === '') throw new ConfigError(source, `${escapeControl(path)} starts with an empty line`);
      return password;
    },
  },
  prefix: {
    flag: '--prefix <prefix>',
    flagKey: 'prefix',
    env: 'STAPLEWARM_PREFIX',
    default: 'ocsp:',
    help: 'key prefix of the Redis contract',
    parse: (raw, source) => {
      const prefix = text(raw);
      if (prefix.length === 0 || prefix.length > 64 || /[\s\p{Cc}]/u.test(prefix)) {
        throw new ConfigError(source, 'must be 1-64 characters without spaces or control characters');
      }
      return prefix;
    },
  },
  rate: {
    flag: '--rate <n>',
    flagKey: 'rate',
    env: 'STAPLEWARM_RATE',
    default: QUEUE_DEFAULTS.rate,
    shownDefault: `${QUEUE_DEFAULTS.rate} (no ceiling)`,
    help: 'ceiling of OCSP requests per second over every responder host and every worker, shared out over the hosts with work; every process must use the same value (0 = none)',
    parse: (raw, source) => wholeNumber(raw, source, 0),
  },
  defaultHostRate: {
    flag: '--default-host-rate <n>',
    flagKey: 'defaultHostRate',
    env: 'STAPLEWARM_DEFAULT_HOST_RATE',
    default: QUEUE_DEFAULTS.defaultHostRate,
    help: 'requests per second for each responder host without its own --host-rate (what one CA origin takes; 0 = unlimited)',
    parse: (raw, source) => wholeNumber(raw, source, 0),
  },
  concurrency: {
    flag: '--concurrency <n>',
    flagKey: 'concurrency',
    env: 'STAPLEWARM_CONCURRENCY',
    default: QUEUE_DEFAULTS.concurrency,
    help: 'requests in flight per responder host in this process; the host rate x responder latency is needed',
    parse: (raw, source) => wholeNumber(raw, source, 1, 10_000),
  },
  batchSize: {
    flag: '--batch-size <n>',
    flagKey: 'batchSize',
    env: 'STAPLEWARM_BATCH_SIZE',
    default: QUEUE_DEFAULTS.batchSize,
    help: "certificates per job warm enqueues (one host's; each still fetched, retried and reported on its own); 1 = a job each",
    parse: (raw, source) => wholeNumber(raw, source, 1, 256),
  },
  attempts: {
    env: 'STAPLEWARM_ATTEMPTS',
    default: QUEUE_DEFAULTS.attempts,
    help: 'attempts per certificate',
    parse: (raw, source) => wholeNumber(raw, source, 1, 100),
  },
  retryBaseMs: {
    env: 'STAPLEWARM_RETRY_BASE_MS',
    default: QUEUE_DEFAULTS.retryBaseMs,
    help: 'first retry delay, ms (doubles per attempt, jittered, up to STAPLEWARM_RETRY_MAX_MS; a 429 Retry-After wins)',
    parse: (raw, source) => wholeNumber(raw, source, 1, 3_600_000),
  },
  retryMaxMs: {
    env: 'STAPLEWARM_RETRY_MAX_MS',
    default: QUEUE_DEFAULTS.retryMaxMs,
    help: 'longest retry delay, ms',
    parse: (raw, source) => wholeNumber(raw, source, 1, 86_400_000),
  },
  certIdHash: {
    env: 'STAPLEWARM_CERTID_HASH',
    default: 'sha1',
    help: 'CertID hash (sha1 = RFC 5019, sha256 = RFC 9919)',
    parse: (raw, source) => {
      const hash = text(raw);
      if (hash !== 'sha1' && hash !== 'sha256') throw new ConfigError(source, `sha1 or sha256, got "${printable(hash)}"`);
      return hash;
    },
  },
  connectTimeoutMs: {
    env: 'STAPLEWARM_CONNECT_TIMEOUT_MS',
    default: 3_000,
    help: 'responder (and Redis) connect timeout, ms',
    parse: (raw, source) => wholeNumber(raw, source, 1, 600_000),
  },
  responseTimeoutMs: {
    env: 'STAPLEWARM_RESPONSE_TIMEOUT_MS',
    default: 5_000,
    help: 'responder response timeout, ms',
    parse: (raw, source) => wholeNumber(raw, source, 1, 600_000),
  },
  logLevel: {
    env: 'STAPLEWARM_LOG_LEVEL',
    default: 'info',
    help: 'log level (JSON logs on stderr)',
    parse: (raw, source) => {
      const level = text(raw);
      if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(source, `unknown level "${printable(level)}"`);
      return level as LogLevel;
    },
  },
  metricsPort: {
    flag: '--metrics-port <port>',
    flagKey: 'metricsPort',
    env: 'STAPLEWARM_METRICS_PORT',
    default: 9464,
    help: 'serve /metrics on this port, 0 = off',
    parse: (raw, source) => wholeNumber(raw, source, 0, 65_535),
  },
  metricsHost: {
    flag: '--metrics-host <address>',
    flagKey: 'metricsHost',
    env: 'STAPLEWARM_METRICS_HOST',
    default: '127.0.0.1',
    help: 'address /metrics binds to',
    parse: (raw, source) => {
      const host = text(raw);
      if (host === '' || /[\s\p{Cc}/]/u.test(host)) throw new ConfigError(source, 'expected an address or host name');
      return host;
    },
  },
  hostRates: {
    flag: '--host-rate <host=rate...>',
    flagKey: 'hostRate',
    env: 'STAPLEWARM_HOST_RATE',
    default: {},
    shownDefault: 'none',
    help: 'requests per second for one responder host, e.g. ocsp.example.com=200 (repeatable; env comma-separated)',
    parse: parseHostRates,
  },
  scanIntervalSeconds: {
    flag: '--scan-interval <seconds>',
    flagKey: 'scanInterval',
    env: 'STAPLEWARM_SCAN_INTERVAL',
    default: 300,
    help: 'seconds between rescans (10 to 86400)',
    parse: (raw, source) => wholeNumber(raw, source, 10, 86_400),
  },
  responderAllow: {
    flag: '--responder-allow <cidr|host...>',
    flagKey: 'responderAllow',
    env: 'STAPLEWARM_RESPONDER_ALLOW',
    default: [],
    shownDefault: 'none',
    help: 'let OCSP requests reach these CIDRs, addresses, host names or *.domains although they are loopback, private or link-local (repeatable; env comma-separated)',
    parse: (raw, source) => {
      try {
        return parseResponderAllow(list(raw));
      } catch (err) {
        // The message quotes the entry (JSON-escaped, at most 80 characters).
        if (err instanceof AddressPolicyError) throw new ConfigError(source, err.message);
        throw err;
      }
    },
  },
  maxCertFileBytes: {
    flag: '--max-cert-file-bytes <n>',
    flagKey: 'maxCertFileBytes',
    env: 'STAPLEWARM_MAX_CERT_FILE_BYTES',
    default: 1_048_576,
    shownDefault: '1048576 (1 MiB)',
    help: 'certificate files larger than this are reported, not read',
    parse: (raw, source) => wholeNumber(raw, source, 1_024, 1_073_741_824),
  },
  warmTimeoutSeconds: {
    flag: '--timeout <seconds>',
    flagKey: 'timeout',
    env: 'STAPLEWARM_WARM_TIMEOUT',
    default: 14_400,
    shownDefault: '14400 (4 h)',
    help: 'seconds warm waits for its certificates before it gives up and exits 1',
    parse: (raw, source) => wholeNumber(raw, source, 1, 604_800),
  },
  shrinkRatio: {
    env: 'STAPLEWARM_SHRINK_RATIO',
    default: 0.5,
    help: 'serve: a rescan finding fewer than this fraction of the known certificates is held as a suspected shrink',
    parse: (raw, source) => {
      const value = Number(text(raw));
      if (!Number.isFinite(value) || value < 0 || value > 1)
        throw new ConfigError(source, `expected a fraction from 0 to 1, got "${printable(text(raw))}"`);
      return value;
    },
  },
  shrinkConfirmScans: {
    env: 'STAPLEWARM_SHRINK_CONFIRM_SCANS',
    default: 3,
    help: 'serve: consecutive scans that must agree before a suspected shrink is accepted',
    parse: (raw, source) => wholeNumber(raw, source, 1, 100),
  },
  relayListen: {
    flag: '--listen <host:port>',
    flagKey: 'listen',
    env: 'STAPLEWARM_RELAY_LISTEN',
    default: parseListenAddress(DEFAULT_LISTEN),
    shownDefault: DEFAULT_LISTEN,
    help: 'address the relay answers OCSP requests on, HOST:PORT or [IPv6]:PORT (0.0.0.0:8080 to serve other hosts)',
    parse: (raw, source) => {
      try {
        return parseListenAddress(text(raw));
      } catch (err) {
        if (isRelayError(err)) throw new ConfigError(source, err.message);
        throw err;
      }
    },
  },
  nginxDir: {
    flag: '--nginx-dir <dir>',
    flagKey: 'nginxDir',
    env: 'STAPLEWARM_NGINX_DIR',
    default: undefined,
    shownDefault: 'none',
    help: 'directory of the nginx export: <name>.der (for ssl_stapling_file) and <name>.conf (to include in the server block) per certificate; serve keeps it current',
    parse: (raw, source) => path(raw, source),
  },
  nginxReloadCommand: {
    flag: '--nginx-reload-command <command>',
    flagKey: 'nginxReloadCommand',
    env: 'STAPLEWARM_NGINX_RELOAD_COMMAND',
    default: undefined,
    shownDefault: 'none',
    help: 'shell command that reloads nginx, run once per batch of exported changes, e.g. "systemctl reload nginx"',
    parse: (raw, source) => {
      const command = text(raw).trim();
      if (command === '' || /[\0\r\n]/.test(command)) throw new ConfigError(source, 'expected one line of shell command');
      return command;
    },
  },
  haproxyDirs: {
    flag: '--haproxy-dir <dir...>',
    flagKey: 'haproxyDir',
    env: 'STAPLEWARM_HAPROXY_DIR',
    default: [],
    shownDefault: 'none',
    help: 'HAProxy crt directories or files: a <crt>.ocsp beside each certificate file, empty while there is no staple (HAProxy reads them at start; repeatable; env comma-separated)',
    parse: (raw, source) => list(raw).map((item) => path(item, source)),
  },
  haproxySocket: {
    flag: '--haproxy-socket <path|host:port>',
    flagKey: 'haproxySocket',
    env: 'STAPLEWARM_HAPROXY_SOCKET',
    default: undefined,
    shownDefault: 'none',
    help: 'HAProxy runtime API (stats socket ... level admin): staples pushed with set ssl ocsp-response, no reload',
    parse: (raw, source) => {
      try {
        parseHaproxySocketAddress(text(raw));
      } catch (err) {
        if (isHaproxyCliError(err)) throw new ConfigError(source, err.message);
        throw err;
      }
      return text(raw);
    },
  },
  exportMinValiditySeconds: {
    env: 'STAPLEWARM_EXPORT_MIN_VALIDITY',
    default: 900,
    help: 'export: seconds of validity a staple must have left to be handed over; it is withdrawn that long before it expires (300 to 86400; HAProxy refuses less than 300)',
    parse: (raw, source) => wholeNumber(raw, source, 300, 86_400),
  },
  exportDebounceMs: {
    env: 'STAPLEWARM_EXPORT_DEBOUNCE_MS',
    default: 1_000,
    help: 'export: ms the nginx exporter gathers changes before running the reload command once',
    parse: (raw, source) => wholeNumber(raw, source, 0, 600_000),
  },
  exportReloadIntervalSeconds: {
    env: 'STAPLEWARM_EXPORT_RELOAD_INTERVAL',
    default: 60,
    help: 'export: seconds at least between two nginx reloads under serve (0 to 600; a fleet refreshing 50,000 staples changes one every few seconds)',
    parse: (raw, source) => wholeNumber(raw, source, 0, 600),
  },
};

/** The defaults alone (what `loadConfig({}, {})` returns). */
export const DEFAULTS: Config = Object.fromEntries(
  Object.entries(SETTINGS).map(([key, setting]) => [key, setting.default]),
) as unknown as Config;

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const config = { ...DEFAULTS } as Record<keyof Config, unknown>;
  for (const key of Object.keys(SETTINGS) as (keyof Config)[]) {
    const setting = SETTINGS[key] as Setting<typeof key>;
    const flagValue = setting.flagKey === undefined ? undefined : flags[setting.flagKey];
    if (flagValue !== undefined && !(Array.isArray(flagValue) && flagValue.length === 0)) {
      config[key] = setting.parse(flagValue, `--${setting.flag?.split(' ')[0]?.replace(/^--/, '')}`);
    } else if (setting.env !== undefined && env[setting.env] !== undefined) {
      config[key] = setting.parse(env[setting.env] as string, setting.env);
    }
  }
  return config as Config;
}

/** Adds the flag of a setting to a command, its help ending with the env variable and the default. */
export function settingOption(command: Command, key: keyof Config, help?: string): Command {
  const setting = SETTINGS[key] as Setting<typeof key>;
  if (setting.flag === undefined) throw new TypeError(`setting ${key} has no flag`);
  return command.option(setting.flag, `${help ?? setting.help} ${settingSuffix(key)}`);
}

/** `[env X, default Y]`, as help texts and the README show it. */
export function settingSuffix(key: keyof Config): string {
  const setting = SETTINGS[key] as Setting<typeof key>;
  const parts = [setting.env && `env ${setting.env}`, `default ${setting.shownDefault ?? String(setting.default)}`].filter(Boolean);
  return `[${parts.join(', ')}]`;
}

/** BullMQ's key prefix for a contract prefix: `ocsp:` → keys `ocsp:bull:staple:*`. */
export function queuePrefix(prefix: string): string {
  return `${prefix}bull`;
}

/** `host=rate` pairs from repeated --host-rate flags, or comma-separated in STAPLEWARM_HOST_RATE. */
function parseHostRates(raw: string | string[], source: string): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const item of list(raw)) {
    const match = /^([a-z0-9.-]+(?::\d+)?)=(\d+(?:\.\d+)?)$/i.exec(item);
    if (!match?.[1] || !match[2] || Number(match[2]) <= 0) {
      throw new ConfigError(source, `expected host=requests-per-second, got "${printable(item)}"`);
    }
    rates[match[1].toLowerCase()] = Number(match[2]);
  }
  return rates;
}

function wholeNumber(raw: string | string[], source: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text(raw));
  if (!Number.isInteger(value) || value < min || value > max || text(raw).trim() === '') {
    throw new ConfigError(source, `expected a whole number from ${min} to ${max}, got "${printable(text(raw))}"`);
  }
  return value;
}

/** Repeated flags and comma-separated env values alike, trimmed, empties dropped. */
function list(raw: string | string[]): string[] {
  return (Array.isArray(raw) ? raw : [raw])
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A file system path given by the operator: one line, no NUL. */
function path(raw: string | string[], source: string): string {
  const value = text(raw);
  if (value === '' || /[\0\r\n]/.test(value)) throw new ConfigError(source, 'expected a path');
  return value;
}

function text(raw: string | string[]): string {
  return Array.isArray(raw) ? raw.join(',') : raw;
}

/** A value echoed in an error: bounded, control and format characters escaped. */
function printable(value: string): string {
  return escapeControl(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}
