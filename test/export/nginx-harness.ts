/**
 * For the nginx export end to end: Debian's nginx 1.22 (no Lua) with one server block per
 * certificate, each including the snippet `staplewarm export nginx` writes (`ssl_stapling_file`).
 * nginx runs unprivileged as a child leading its own process group (`daemon off`: the child is the
 * master, so SIGHUP to its pid reloads it) and is stopped by that handle only.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REDIS_URL, runCli, type CliResult } from '@staplewarm/testing';
import { run, type RunResult } from '../openresty/processes.js';
import { LOCAL_RESPONDERS, type Fleet } from '../relay/harness.js';
import { NGINX, nginxConf, startNginxProcess, type ServerProcess } from '../relay/servers.js';

export { NGINX };

export interface ExportSite {
  /** The SNI name (server_name). */
  name: string;
  fullchainPem: string;
  keyPem: string;
  /** The snippet to include: `<export dir>/<name>.conf`. */
  include: string;
}

/** A running nginx (`pid`: the master, SIGHUP reloads it). */
export type ExportNginx = ServerProcess;

/** Writes `<dir>/nginx.conf`: one TLS server block per site on one port, each stapling what its snippet names. */
export async function writeExportNginxConf(dir: string, sites: readonly ExportSite[], port: number): Promise<string> {
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const servers = sites
    .map(
      (site) => `    server {
        listen 127.0.0.1:${port} ssl;
        server_name ${site.name};
        ssl_certificate ${site.fullchainPem};
        ssl_certificate_key ${site.keyPem};
        ssl_stapling on;
        include ${site.include};
        location / { return 200 "ok\\n"; }
    }`,
    )
    .join('\n');
  await writeFile(join(dir, 'nginx.conf'), nginxConf(dir, servers, 'test/export/nginx-harness.ts'));
  return join(dir, 'nginx.conf');
}

/** `nginx -t` on `<dir>/nginx.conf` (what an operator runs before a reload). */
export function nginxConfigTest(dir: string): Promise<RunResult> {
  return run(NGINX, ['-t', '-p', dir, '-c', 'nginx.conf', '-e', join(dir, 'error.log')], 15_000);
}

/** Starts nginx on `<dir>/nginx.conf` (written by writeExportNginxConf for `port`) and waits for its port. */
export const startExportNginx = startNginxProcess;

/** `staplewarm export nginx` over a fleet's live tree into `dir`, as an operator runs it. */
export function exportNginx(
  fleet: Fleet,
  dir: string,
  options: { reloadCommand?: string; json?: boolean; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return runCli(
    [
      'export',
      'nginx',
      '--certs',
      join(fleet.pkiDir, 'live'),
      '--dir',
      dir,
      ...(options.reloadCommand !== undefined ? ['--reload-command', options.reloadCommand] : []),
      ...(options.json ? ['--json'] : []),
      '--redis',
      REDIS_URL,
      '--prefix',
      fleet.prefix,
    ],
    { ...LOCAL_RESPONDERS, ...options.env },
    60_000,
  );
}

/** Lines in a file the reload command appends to (0 when it was never run). */
export async function countLines(path: string): Promise<number> {
  if (!existsSync(path)) return 0;
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '').length;
}
