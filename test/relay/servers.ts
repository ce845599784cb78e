/**
 * Debian's nginx 1.22 and Apache 2.4 (mod_ssl), each with a config of its own, unprivileged ports,
 * stapling from the relay the way an operator would set them up (README "Relay for nginx/Apache").
 * Started as children in their own process group; stopped by that handle only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@staplewarm/testing';
import { stopProcess, waitForPorts } from '../openresty/processes.js';

export const NGINX = '/usr/sbin/nginx';
export const APACHE = '/usr/sbin/apache2';
const APACHE_MODULES = '/usr/lib/apache2/modules';

export interface Site {
  /** The SNI name. */
  name: string;
  /** Leaf + issuer, PEM. */
  fullchainPem: string;
  keyPem: string;
}

export interface RunningServer {
  port: number;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** A server started by `startServerProcess`: also its pid and process (SIGHUP to nginx's reloads it). */
export interface ServerProcess extends RunningServer {
  pid: number;
  child: ChildProcess;
}

/**
 * Starts a server in the foreground as the leader of its own process group (so `stop` ends it and
 * its workers, and nothing else) and waits for `port`; a failure shows its error log.
 */
export async function startServerProcess(binary: string, args: string[], port: number, errorLogPath: string): Promise<ServerProcess> {
  let output = '';
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const errorLog = async (): Promise<string> => (existsSync(errorLogPath) ? readFile(errorLogPath, 'utf8') : '');
  try {
    await waitForPorts(child, [port], () => output, 15_000);
  } catch (err) {
    await stopProcess(child);
    throw new Error(`${(err as Error).message}\n${await errorLog()}`);
  }
  if (child.pid === undefined) throw new Error(`${binary} has no pid`);
  return { port, pid: child.pid, child, errorLog, stop: () => stopProcess(child, 'SIGTERM') };
}

/** An unprivileged nginx.conf in `dir` (pid, logs and temp paths inside it) around `servers` (server blocks). */
export function nginxConf(dir: string, servers: string, header = 'test/relay/servers.ts'): string {
  return `# ${header}
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
}

/** nginx in the foreground on `<dir>/nginx.conf` (the child is the master). */
export function startNginxProcess(dir: string, port: number): Promise<ServerProcess> {
  const errorLog = join(dir, 'error.log');
  return startServerProcess(NGINX, ['-p', dir, '-c', 'nginx.conf', '-e', errorLog, '-g', 'daemon off;'], port, errorLog);
}

/**
 * nginx with `ssl_stapling on` and `ssl_stapling_responder` at the relay. nginx builds the request
 * from the certificate and the issuer in its chain (SHA-1 CertID, GET, HTTP/1.0), verifies the
 * answer against `ssl_trusted_certificate`, and fetches lazily: the first handshakes of a worker
 * go without a staple.
 */
export async function startNginx(dir: string, site: Site, relayUrl: string, trustedPem: string): Promise<RunningServer> {
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  const server = `    server {
        listen 127.0.0.1:${port} ssl;
        server_name ${site.name};
        ssl_certificate ${site.fullchainPem};
        ssl_certificate_key ${site.keyPem};
        ssl_stapling on;
        ssl_stapling_verify on;
        ssl_trusted_certificate ${trustedPem};
        ssl_stapling_responder ${relayUrl};
        location / { return 200 "ok\\n"; }
    }`;
  await writeFile(join(dir, 'nginx.conf'), nginxConf(dir, server));
  return startNginxProcess(dir, port);
}

/**
 * Apache with mod_ssl, `SSLUseStapling on` and `SSLStaplingForceURL` at the relay (POST,
 * HTTP/1.0). Apache fetches on the first handshake and makes it wait; with
 * `SSLStaplingReturnResponderErrors off` it never staples an error (the relay's 503 included).
 */
export async function startApache(dir: string, site: Site, relayUrl: string, caPem: string): Promise<RunningServer> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const errorLog = join(dir, 'error.log');
  const conf = `# test/relay/servers.ts
ServerRoot "${dir}"
ServerName localhost
Listen 127.0.0.1:${port}
PidFile ${dir}/httpd.pid
DefaultRuntimeDir ${dir}
ErrorLog ${errorLog}
LogLevel warn ssl:info
LoadModule mpm_event_module ${APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module ${APACHE_MODULES}/mod_authz_core.so
LoadModule socache_shmcb_module ${APACHE_MODULES}/mod_socache_shmcb.so
LoadModule ssl_module ${APACHE_MODULES}/mod_ssl.so
User nobody
Group nogroup
StartServers 1
ServerLimit 1
SSLSessionCache none
SSLStaplingCache shmcb:${dir}/stapling(128000)
<VirtualHost 127.0.0.1:${port}>
    ServerName ${site.name}
    SSLEngine on
    SSLCertificateFile ${site.fullchainPem}
    SSLCertificateKeyFile ${site.keyPem}
    SSLCACertificateFile ${caPem}
    SSLUseStapling on
    SSLStaplingForceURL ${relayUrl}
    SSLStaplingReturnResponderErrors off
    SSLStaplingResponderTimeout 10
</VirtualHost>
`;
  await writeFile(join(dir, 'httpd.conf'), conf);
  return startServerProcess(APACHE, ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], port, errorLog);
}
