/**
 * For the nginx export end to end: Debian's nginx 1.22 (no Lua) with one server block per
 * certificate, each including the snippet `staplewarm export nginx` writes (`ssl_stapling_file`),
 * and a fleet whose simulator signs short-lived responses (to make a staple "about to expire").
 * nginx runs unprivileged as a child leading its own process group (`daemon off`: the child is the
 * master, so SIGHUP to its pid reloads it) and is stopped by that handle only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki, startResponder, type Responder } from '@staplewarm/responder-sim';
import { REDIS_URL, freePort, runCli, testPrefix, type CliResult } from '@staplewarm/testing';
import { run, stopProcess, waitForPorts, type RunResult } from '../openresty/processes.js';
import { LOCAL_RESPONDERS, type Fleet } from '../relay/harness.js';
import { NGINX } from '../relay/servers.js';

export { NGINX };

export interface ExportSite {
  /** The SNI name (server_name). */
  name: string;
  fullchainPem: string;
  keyPem: string;
  /** The snippet to include: `<export dir>/<name>.conf`. */
  include: string;
}

export interface ExportNginx {
  port: number;
  /** The master's pid (SIGHUP reloads it). */
  pid: number;
  child: ChildProcess;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

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
  const conf = `# test/export/nginx-harness.ts
worker_processes 1;
error_log ${join(dir, 'error.log')} info;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
${servers}
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  return join(dir, 'nginx.conf');
}

/** `nginx -t` on `<dir>/nginx.conf` (what an operator runs before a reload). */
export function nginxConfigTest(dir: string): Promise<RunResult> {
  return run(NGINX, ['-t', '-p', dir, '-c', 'nginx.conf', '-e', join(dir, 'error.log')], 15_000);
}

/** Starts nginx on `<dir>/nginx.conf` (written by writeExportNginxConf for `port`) and waits for its port. */
export async function startExportNginx(dir: string, port: number): Promise<ExportNginx> {
  const errorLogPath = join(dir, 'error.log');
  let output = '';
  const child = spawn(NGINX, ['-p', dir, '-c', 'nginx.conf', '-e', errorLogPath, '-g', 'daemon off;'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const errorLog = async (): Promise<string> => (existsSync(errorLogPath) ? readFile(errorLogPath, 'utf8') : '');
  try {
    await waitForPorts(child, [port], () => output, 15_000);
  } catch (err) {
    await stopProcess(child);
    throw new Error(`${(err as Error).message}\n${await errorLog()}`);
  }
  if (child.pid === undefined) throw new Error('nginx has no pid');
  return { port, pid: child.pid, child, errorLog, stop: () => stopProcess(child, 'SIGTERM') };
}

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

/**
 * Like relay/harness.ts warmFleet, but the simulator signs responses valid `validityHours` (thisUpdate
 * a minute ago): a staple with less validity left than STAPLEWARM_EXPORT_MIN_VALIDITY is "expiring".
 */
export async function warmShortFleet(options: { count: number; label: string; validityHours: number }): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), `sw-export-${options.label}-`));
  const pkiDir = join(dir, 'pki');
  let sim: Responder | undefined;
  try {
    const port = await freePort();
    const manifest = await generatePki({ dir: pkiDir, count: options.count, ocspUrls: [`http://127.0.0.1:${port}/`] });
    sim = await startResponder({ pkiDir, port, validityHours: options.validityHours });
    const prefix = testPrefix(`export-${options.label}`);
    const warm = await runCli(
      ['warm', '--certs', join(pkiDir, 'live'), '--redis', REDIS_URL, '--prefix', prefix, '--rate', '0', '--json'],
      { ...LOCAL_RESPONDERS, STAPLEWARM_CERTID_HASH: 'sha1' },
      120_000,
    );
    if (warm.code !== 0) throw new Error(`warm failed (${warm.code}): ${warm.stdout}\n${warm.stderr}`);
    const started = sim;
    return {
      dir,
      pkiDir,
      manifest,
      prefix,
      sim: started,
      rootPem: join(pkiDir, manifest.root.certPath),
      issuerPem: join(pkiDir, manifest.issuer.certPath),
      leaf: (i) => {
        const entry = manifest.leaves[i];
        if (!entry) throw new Error(`no leaf ${i}`);
        const leafDir = join(pkiDir, entry.dir);
        return {
          ...entry,
          certPem: join(leafDir, 'cert.pem'),
          fullchainPem: join(leafDir, 'fullchain.pem'),
          keyPem: join(leafDir, 'privkey.pem'),
        };
      },
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
