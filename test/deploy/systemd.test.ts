/**
 * deploy/systemd: every unit passes `systemd-analyze verify` (with ExecStart pointing at the
 * repository's own staplewarm bin, which verify requires to exist and be executable), and the
 * units keep the promises docs/operations.md makes about them.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TOOLS, missing, run } from './tools.js';

const SYSTEMD_DIR = path.join(REPO_ROOT, 'deploy/systemd');
const INSTALLED_BIN = '/usr/local/bin/staplewarm';
const REPO_BIN = path.join(REPO_ROOT, 'apps/staplewarm/bin/staplewarm.js');

const units = readdirSync(SYSTEMD_DIR)
  .filter((file) => file.endsWith('.service'))
  .sort();
const unit = (name: string): string => readFileSync(path.join(SYSTEMD_DIR, name), 'utf8');
/** `Key=value` lines of a unit (every occurrence, in order). */
const values = (text: string, key: string): string[] =>
  [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => (m[1] as string).trim());

describe('deploy/systemd units', () => {
  it('has a worker template, a scanner and a warm-up oneshot', () => {
    expect(units).toEqual(['staplewarm-scanner.service', 'staplewarm-warm.service', 'staplewarm-worker@.service']);
  });

  it('runs the warm-up once at boot, before the web server, without making it wait for success', () => {
    const warm = unit('staplewarm-warm.service');
    expect(values(warm, 'Type')).toEqual(['oneshot']);
    expect(values(warm, 'ExecStart')).toEqual([`${INSTALLED_BIN} warm --certs $STAPLEWARM_CERTS`]);
    expect(values(warm, 'Before').join(' ').split(/\s+/)).toEqual(expect.arrayContaining(['openresty.service', 'nginx.service']));
    expect(values(warm, 'WantedBy')).toEqual(['multi-user.target']);
    // Ordering only: a failed warm-up must not keep OpenResty down.
    expect(values(warm, 'RequiredBy')).toEqual([]);
  });

  it('names each worker instance by its metrics port, so several can share a host', () => {
    const worker = unit('staplewarm-worker@.service');
    expect(values(worker, 'ExecStart')).toEqual([`${INSTALLED_BIN} worker`]);
    expect(values(worker, 'Environment')).toContain('STAPLEWARM_METRICS_PORT=%i');
    expect(values(unit('staplewarm-scanner.service'), 'ExecStart')).toEqual([`${INSTALLED_BIN} serve --certs $STAPLEWARM_CERTS`]);
  });

  it('runs every unit as the user that staplewarm.sysusers.conf creates, with the shared env file', () => {
    const sysusers = readFileSync(path.join(SYSTEMD_DIR, 'staplewarm.sysusers.conf'), 'utf8');
    const user = /^u\s+(\S+)/m.exec(sysusers)?.[1];
    expect(user).toBe('staplewarm');
    for (const name of units) {
      expect(values(unit(name), 'User'), name).toEqual([user]);
      expect(values(unit(name), 'EnvironmentFile'), name).toEqual(['-/etc/staplewarm/staplewarm.env']);
    }
  });

  it('keeps the Redis password off every command line: the env file names a password file', () => {
    for (const name of units) {
      for (const command of values(unit(name), 'ExecStart')) {
        expect(command, name).not.toMatch(/--redis\b|--redis-password|:\/\/[^\s]*@/);
      }
    }
    const env = readFileSync(path.join(SYSTEMD_DIR, 'staplewarm.env.example'), 'utf8');
    const redisUrl = values(env, 'REDIS_URL');
    expect(redisUrl).toHaveLength(1);
    expect(new URL(redisUrl[0] as string).password).toBe('');
    expect(values(env, 'STAPLEWARM_REDIS_PASSWORD_FILE')).toEqual(['/etc/staplewarm/redis-password']);
  });

  it('exports from serve with settings that exist, to a directory the sandbox lets it write, reloading through polkit', () => {
    const dropIn = readFileSync(path.join(SYSTEMD_DIR, 'staplewarm-scanner.service.d/export.conf'), 'utf8');
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const variables = [...dropIn.matchAll(/^#?Environment="?(STAPLEWARM_[A-Z_]+)=/gm)].map((m) => m[1] ?? '');
    expect(variables).toEqual([
      'STAPLEWARM_NGINX_DIR',
      'STAPLEWARM_NGINX_RELOAD_COMMAND',
      'STAPLEWARM_HAPROXY_SOCKET',
      'STAPLEWARM_HAPROXY_DIR',
    ]);
    for (const variable of variables) expect(readme, variable).toContain(`| \`${variable}\``);
    // ProtectSystem=strict leaves only the StateDirectory writable: the export must go there.
    expect(values(dropIn, 'StateDirectory')).toEqual(['staplewarm/nginx']);
    expect(values(dropIn, 'Environment')).toContain('STAPLEWARM_NGINX_DIR=/var/lib/staplewarm/nginx');
    const rules = readFileSync(path.join(SYSTEMD_DIR, 'staplewarm-reload-nginx.rules'), 'utf8');
    expect(rules).toContain('action.lookup("verb") === "reload"');
    expect(rules).toContain('subject.user === "staplewarm"');
    // HAProxy's drop-in: a failed export must not keep HAProxy down ("-"), and no password on the command line.
    const haproxy = readFileSync(path.join(SYSTEMD_DIR, 'haproxy.service.d/staplewarm.conf'), 'utf8');
    expect(values(haproxy, 'ExecStartPre')).toEqual([`-${INSTALLED_BIN} export haproxy --dir /etc/haproxy/certs`]);
    expect(values(haproxy, 'EnvironmentFile')).toEqual(['-/etc/staplewarm/staplewarm.env']);
  });

  describe.skipIf(missing(TOOLS.systemdAnalyze))('systemd-analyze verify', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'sw-systemd-'));
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('accepts every unit, without a warning', () => {
      const files = units.map((name) => {
        const text = unit(name);
        expect(text, name).toContain(INSTALLED_BIN);
        // verify checks that ExecStart is executable: use the repository's bin for /usr/local/bin/staplewarm.
        const file = path.join(dir, name.replace('@.service', '@9464.service'));
        writeFileSync(file, text.replaceAll(INSTALLED_BIN, REPO_BIN));
        return file;
      });
      const result = run('systemd-analyze', ['verify', '--man=no', ...files]);
      const ours = result.stderr.split('\n').filter((line) => line.includes('staplewarm'));
      expect(ours, result.stderr).toEqual([]);
      expect(result.status, result.stderr).toBe(0);
    });

    it('accepts the drop-ins: the scanner exporting to nginx, HAProxy exporting before it starts', () => {
      const scanner = path.join(dir, 'with-export', 'staplewarm-scanner.service');
      mkdirSync(`${scanner}.d`, { recursive: true });
      writeFileSync(scanner, unit('staplewarm-scanner.service').replaceAll(INSTALLED_BIN, REPO_BIN));
      copyFileSync(path.join(SYSTEMD_DIR, 'staplewarm-scanner.service.d/export.conf'), path.join(`${scanner}.d`, 'export.conf'));
      // A stand-in for Debian's haproxy.service (verify needs the unit the drop-in extends).
      const haproxy = path.join(dir, 'with-export', 'haproxy.service');
      mkdirSync(`${haproxy}.d`, { recursive: true });
      writeFileSync(haproxy, '[Unit]\nDescription=HAProxy stand-in\n[Service]\nExecStart=/bin/true\n');
      writeFileSync(
        path.join(`${haproxy}.d`, 'staplewarm.conf'),
        readFileSync(path.join(SYSTEMD_DIR, 'haproxy.service.d/staplewarm.conf'), 'utf8').replaceAll(INSTALLED_BIN, REPO_BIN),
      );
      const result = run('systemd-analyze', ['verify', '--man=no', scanner, haproxy]);
      const ours = result.stderr.split('\n').filter((line) => /staplewarm|export\.conf|haproxy/.test(line));
      expect(ours, result.stderr).toEqual([]);
      expect(result.status, result.stderr).toBe(0);
    });
  });
});
