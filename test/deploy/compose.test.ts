/**
 * docker-compose.yml, checked the way Compose reads it (Debian's docker-compose v1, no engine):
 * valid, every mounted host path exists, secrets only from .env and never in a process's arguments,
 * start order by health checks, scalable workers, and Prometheus/Grafana wired to the compose services.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMPOSE_FILE,
  type ComposeConfig,
  type ComposeService,
  commandOf,
  compose,
  composeConfig,
  filledEnv,
  readEnvExample,
  volumesOf,
} from './compose.js';
import { REPO_ROOT, TOOLS, missing, parseYaml, run } from './tools.js';

const STACK = ['grafana', 'openresty', 'prometheus', 'redis', 'scanner', 'worker'];
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|AUTH/;

describe.skipIf(missing(TOOLS.dockerCompose, TOOLS.python3))('docker-compose.yml', () => {
  let config: ComposeConfig;
  const service = (name: string): ComposeService => {
    const found = config.services[name];
    if (!found) throw new Error(`no service ${name}`);
    return found;
  };
  /** Where a service mounts `target` from, on the host. */
  const mountSource = (name: string, target: string): string => {
    const volume = volumesOf(service(name)).find((v) => v.target === target);
    if (!volume) throw new Error(`${name} mounts nothing at ${target}`);
    return volume.source;
  };

  beforeAll(() => {
    config = composeConfig();
  });

  it('is a valid compose file with every service of the stack', () => {
    expect(Object.keys(config.services).sort()).toEqual(STACK);
  });

  it('mounts only host paths that exist in the repository (with the .env.example defaults)', () => {
    const binds = Object.entries(config.services).flatMap(([name, s]) =>
      volumesOf(s)
        .filter((v) => v.type === 'bind')
        .map((v) => ({ name, ...v })),
    );
    expect(binds.length).toBeGreaterThanOrEqual(8);
    for (const bind of binds) {
      expect(bind.source.startsWith(REPO_ROOT), `${bind.name}: ${bind.source} is outside the repository`).toBe(true);
      expect(existsSync(bind.source), `${bind.name}: ${bind.source} does not exist`).toBe(true);
    }
  });

  it('does not start without each secret .env.example leaves empty', () => {
    const secrets = [...readEnvExample()].filter(([, value]) => value === '').map(([key]) => key);
    expect(secrets).toEqual(expect.arrayContaining(['REDIS_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']));
    for (const secret of secrets) {
      const env = filledEnv();
      env.set(secret, '');
      const result = compose(env, ['config', '-q']);
      expect(result.status, `config passed without ${secret}`).not.toBe(0);
      expect(result.stderr).toContain(secret);
    }
  });

  it('writes no secret into the file: every password comes from a variable', () => {
    // The file as written (PyYAML resolves the `<<:` merge keys), before any interpolation.
    const raw = parseYaml(readFileSync(COMPOSE_FILE, 'utf8')) as ComposeConfig;
    const checked: string[] = [];
    for (const [name, s] of Object.entries(raw.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        const hasCredentials = typeof value === 'string' && /^[a-z]+:\/\/[^/]*@/.test(value);
        if (!SECRET_NAME.test(key) && !hasCredentials) continue;
        checked.push(`${name}.${key}`);
        expect(value, `${name}.${key}`).toMatch(/\$\{[A-Z_]+/);
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'redis.REDIS_PASSWORD',
        'worker.REDIS_URL',
        'openresty.REDIS_PASSWORD',
        'grafana.GF_SECURITY_ADMIN_PASSWORD',
      ]),
    );
  });

  it("gives Redis its password on stdin, not in redis-server's arguments (the host's process list shows them)", () => {
    // The redis service's command, run as the container would run it (sh -c, its environment),
    // with a stand-in redis-server on PATH that records its arguments and its stdin.
    const redis = service('redis');
    const [shell, flag, script = ''] = commandOf(redis);
    expect([shell, flag]).toEqual(['sh', '-c']);
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-compose-redis-'));
    try {
      writeFileSync(path.join(dir, 'redis-server'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\ncat > "${dir}/stdin"\n`, {
        mode: 0o755,
      });
      const env = { ...(redis.environment as Record<string, string>), PATH: `${dir}:${process.env.PATH ?? ''}` };
      // `config` prints `$$` (Compose's escape for a literal `$`) as it was written.
      const result = run('sh', ['-c', script.replaceAll('$$', '$')], { env });
      expect(result.status, result.stderr).toBe(0);
      const password = filledEnv().get('REDIS_PASSWORD') ?? '';
      const args = readFileSync(path.join(dir, 'args'), 'utf8');
      expect(args).toContain('--maxmemory-policy');
      expect(args).not.toContain(password);
      expect(readFileSync(path.join(dir, 'stdin'), 'utf8')).toBe(`requirepass "${password}"\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('documents every variable it reads in .env.example', () => {
    const used = new Set([...readFileSync(COMPOSE_FILE, 'utf8').matchAll(/(?<!\$)\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1] as string));
    const documented = readEnvExample();
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(documented.has(name), `${name} is not in .env.example`).toBe(true);
  });

  it('keeps queued jobs and staples across a Redis restart (AOF on a volume, no eviction)', () => {
    const command = commandOf(service('redis')).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(volumesOf(service('redis')).find((v) => v.target === '/data')?.type).toBe('volume');
  });

  it('starts in order: services wait for healthy dependencies, and those have health checks', () => {
    const waitsFor = (name: string): Record<string, string | undefined> => {
      const deps = service(name).depends_on ?? {};
      return Array.isArray(deps)
        ? Object.fromEntries(deps.map((d) => [d, undefined]))
        : Object.fromEntries(Object.entries(deps).map(([dep, spec]) => [dep, spec.condition]));
    };
    for (const name of ['scanner', 'worker', 'openresty']) expect(waitsFor(name)).toEqual({ redis: 'service_healthy' });
    expect(waitsFor('grafana')).toEqual({ prometheus: 'service_healthy' });
    for (const name of Object.keys(config.services)) {
      for (const [dep, condition] of Object.entries(waitsFor(name))) {
        if (condition !== 'service_healthy') continue;
        // Services built from our Dockerfile get its HEALTHCHECK.
        const checked = service(dep).healthcheck?.test !== undefined || service(dep).build !== undefined;
        expect(checked, `${name} waits for ${dep}, which has no health check`).toBe(true);
      }
    }
  });

  it('scales workers (`--scale worker=N`): no fixed container name, no host port', () => {
    const worker = service('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
    expect(commandOf(worker)).toEqual(['worker']);
    expect(commandOf(service('scanner')).slice(0, 2)).toEqual(['serve', '--certs']);
  });

  it('points OpenResty at the lua-resty-staple package and the same key prefix as the workers', () => {
    expect(mountSource('openresty', '/opt/lua-resty-staple/lib')).toBe(path.join(REPO_ROOT, 'packages/lua-resty-staple/lib'));
    const nginxConf = readFileSync(mountSource('openresty', '/usr/local/openresty/nginx/conf/nginx.conf'), 'utf8');
    expect(nginxConf).toContain('lua_package_path "/opt/lua-resty-staple/lib/?.lua;;"');
    expect(service('openresty').environment?.STAPLEWARM_PREFIX).toBe(service('worker').environment?.STAPLEWARM_PREFIX);
    expect(service('openresty').environment?.REDIS_PASSWORD).toBe(filledEnv().get('REDIS_PASSWORD'));
    expect(service('worker').environment?.REDIS_URL).toBe(`redis://:${filledEnv().get('REDIS_PASSWORD')}@redis:6379/0`);
  });

  it('provisions Grafana with the compose Prometheus and mounts the dashboards where the provider reads them', () => {
    const provisioning = mountSource('grafana', '/etc/grafana/provisioning');
    const datasources = readdirSync(path.join(provisioning, 'datasources')).map(
      (file) => parseYaml(readFileSync(path.join(provisioning, 'datasources', file), 'utf8')) as { datasources: { url: string }[] },
    );
    const urls = datasources.flatMap((file) => file.datasources.map((d) => new URL(d.url)));
    expect(urls.map((u) => u.host)).toEqual(['prometheus:9090']);
    expect(Object.keys(config.services)).toContain(urls[0]?.hostname);

    const providers = parseYaml(readFileSync(path.join(provisioning, 'dashboards', 'staplewarm.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    for (const provider of providers.providers) {
      const dashboards = mountSource('grafana', provider.options.path);
      expect(readdirSync(dashboards).filter((f) => f.endsWith('.json')).length).toBeGreaterThan(0);
    }
  });

  describe.skipIf(missing(TOOLS.promtool))('Prometheus', () => {
    it('mounts a config that promtool accepts, scraping compose services on their metrics port', () => {
      const command = commandOf(service('prometheus'));
      const configPath = command.find((arg) => arg.startsWith('--config.file='))?.slice('--config.file='.length) ?? '';
      expect(path.dirname(configPath)).toBe('/etc/prometheus');
      const hostConfig = path.join(mountSource('prometheus', '/etc/prometheus'), path.basename(configPath));

      const check = run('promtool', ['check', 'config', hostConfig]);
      expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);

      const prometheus = parseYaml(readFileSync(hostConfig, 'utf8')) as {
        scrape_configs: { static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; port?: number }[] }[];
      };
      // Static targets, and DNS names (one per container of a scaled service).
      const targets = prometheus.scrape_configs.flatMap((job) => [
        ...(job.static_configs ?? []).flatMap((s) => s.targets),
        ...(job.dns_sd_configs ?? []).flatMap((d) => d.names.map((name) => `${name}:${String(d.port ?? '')}`)),
      ]);
      expect(targets.length).toBeGreaterThan(0);
      for (const target of targets) {
        const [host = '', port = ''] = target.split(':');
        const scraped = service(host);
        expect(scraped.environment?.STAPLEWARM_METRICS_PORT, target).toBe(port);
        expect(scraped.environment?.STAPLEWARM_METRICS_HOST, `${target} must listen beyond loopback`).toBe('0.0.0.0');
      }
    });
  });
});
