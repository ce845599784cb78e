/**
 * docker-compose.yml as Compose itself reads it: `docker-compose config` (Debian's v1, no Docker
 * engine needed) with an env file made from .env.example, parsed into plain objects.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, type RunResult, parseYaml, run } from './tools.js';

export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');
export const ENV_EXAMPLE = path.join(REPO_ROOT, '.env.example');

export interface ComposeVolume {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | null>;
  volumes?: (string | { type: string; source?: string; target: string })[];
  ports?: unknown[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string };
  container_name?: string;
}

export interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** .env.example as key -> value, in file order. */
export function readEnvExample(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of readFileSync(ENV_EXAMPLE, 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) entries.set(match[1] as string, match[2] as string);
  }
  return entries;
}

/** Runs `docker-compose --env-file <file> -f docker-compose.yml <args>` with `env` as the env file. */
export function compose(env: Map<string, string>, args: string[]): RunResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-compose-'));
  try {
    const envFile = path.join(dir, 'test.env');
    writeFileSync(envFile, [...env].map(([key, value]) => `${key}=${value}\n`).join(''));
    // The caller's own REDIS_PASSWORD & co. would win over the env file: leave them out.
    const processEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !env.has(key)));
    return run('docker-compose', ['--env-file', envFile, '-f', COMPOSE_FILE, ...args], { env: processEnv });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** .env.example with every empty value (the secrets) filled in, as a user's .env would be. */
export function filledEnv(): Map<string, string> {
  const env = readEnvExample();
  for (const [key, value] of env) if (value === '') env.set(key, `test-${key.toLowerCase()}`);
  return env;
}

export function composeConfig(env: Map<string, string> = filledEnv(), extra: string[] = []): ComposeConfig {
  const result = compose(env, ['config', ...extra]);
  if (result.status !== 0) throw new Error(`docker-compose config failed:\n${result.stderr}`);
  return parseYaml(result.stdout) as ComposeConfig;
}

/** A service's volumes in one shape; short syntax `source:target[:mode]` is normalized. */
export function volumesOf(service: ComposeService): ComposeVolume[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') {
      return { type: volume.type === 'bind' ? 'bind' : 'volume', source: volume.source ?? '', target: volume.target };
    }
    const [source = '', target = ''] = volume.split(':');
    // `config` prints bind sources as absolute paths; anything else names a volume.
    return { type: source.startsWith('/') ? 'bind' : 'volume', source, target };
  });
}

export function commandOf(service: ComposeService): string[] {
  const command = service.command ?? [];
  return typeof command === 'string' ? command.split(/\s+/) : command;
}
