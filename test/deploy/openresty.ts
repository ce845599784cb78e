/**
 * deploy/openresty (the compose stack's OpenResty config) on Debian's nginx + Lua module: the same
 * files with the container paths mapped to this machine. Each mapped path must occur in the file,
 * so a config change that the map misses fails loudly instead of testing something else.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './tools.js';

export const OPENRESTY_DIR = path.join(REPO_ROOT, 'deploy/openresty');
const DEBIAN_MODULES = ['/usr/lib/nginx/modules/ndk_http_module.so', '/usr/lib/nginx/modules/ngx_http_lua_module.so'];

export interface LocalOpenresty {
  /** Working folder: nginx.conf, conf.d/, error.log, pid. */
  dir: string;
  /** Folder with fullchain.pem + privkey.pem (what entrypoint.sh links at /etc/staplewarm/default-cert). */
  defaultCert: string;
  httpsPort: number;
  healthPort: number;
}

/** Replaces each `from` (which must occur) with `to`. */
function rewrite(file: string, text: string, replacements: [from: string, to: string][]): string {
  let out = text;
  for (const [from, to] of replacements) {
    if (!out.includes(from)) throw new Error(`${file} no longer contains "${from}": update test/deploy/openresty.ts`);
    out = out.replaceAll(from, to);
  }
  return out;
}

/** Writes nginx.conf and conf.d/*.conf for this machine into `local.dir`; returns the nginx.conf path. */
export function writeLocalConfig(local: LocalOpenresty): string {
  const confD = path.join(local.dir, 'conf.d');
  mkdirSync(confD, { recursive: true });
  mkdirSync(path.join(local.dir, 'logs'), { recursive: true }); // access_log logs/access.log, under the -p prefix
  const main = rewrite('nginx.conf', readFileSync(path.join(OPENRESTY_DIR, 'nginx.conf'), 'utf8'), [
    // Debian packages resty.core, lrucache and the Redis client (as nginx.redis) under /usr/share/lua/5.1.
    ['"/opt/lua-resty-staple/lib/?.lua;;"', `"${path.join(REPO_ROOT, 'packages/lua-resty-staple/lib')}/?.lua;/usr/share/lua/5.1/?.lua;;"`],
    ['include /etc/nginx/conf.d/*.conf;', `include ${confD}/*.conf;`],
    ['error_log logs/error.log notice;', `error_log ${path.join(local.dir, 'error.log')} info;`],
    ['worker_processes auto;', 'worker_processes 1;'],
  ]);
  const modules = DEBIAN_MODULES.map((m) => `load_module ${m};\n`).join('');
  const conf = path.join(local.dir, 'nginx.conf');
  writeFileSync(conf, `${modules}${main}`);
  const site = rewrite('conf.d/default.conf', readFileSync(path.join(OPENRESTY_DIR, 'conf.d/default.conf'), 'utf8'), [
    ['listen 443 ssl default_server;', `listen 127.0.0.1:${local.httpsPort} ssl default_server;`],
    ['listen 127.0.0.1:8080;', `listen 127.0.0.1:${local.healthPort};`],
    ['/etc/staplewarm/default-cert', local.defaultCert],
  ]);
  writeFileSync(path.join(confD, 'default.conf'), site);
  return conf;
}

/** nginx arguments for a config written by writeLocalConfig (prefix, error log and pid in `dir`). */
export function nginxArgs(local: LocalOpenresty, conf: string, extra: string[] = []): string[] {
  const global = [`pid ${path.join(local.dir, 'nginx.pid')};`, ...extra].join(' ');
  return ['-p', local.dir, '-c', conf, '-e', path.join(local.dir, 'error.log'), '-g', global];
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export interface RunningNginx {
  errorLog(): string;
  stop(): Promise<void>;
}

/** Starts nginx in the foreground with `env` and waits for both ports. */
export async function startNginx(local: LocalOpenresty, conf: string, env: NodeJS.ProcessEnv): Promise<RunningNginx> {
  // Its own process group, so a stuck worker goes down with the master.
  const child: ChildProcess = spawn('nginx', nginxArgs(local, conf, ['daemon off;']), {
    env,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const errorLog = (): string => {
    try {
      return `${stderr}${readFileSync(path.join(local.dir, 'error.log'), 'utf8')}`;
    } catch {
      return stderr;
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // already gone
      }
    };
    signalGroup('SIGQUIT'); // graceful: finish handshakes in flight
    const timer = setTimeout(() => signalGroup('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 10_000;
  for (const port of [local.httpsPort, local.healthPort]) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`nginx did not listen on ${port}:\n${errorLog()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return { errorLog, stop };
}
