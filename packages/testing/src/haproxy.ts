/**
 * Debian's HAProxy (2.6) for tests: a config with one TLS frontend over a crt directory and an admin
 * runtime API socket, started in the foreground (`-db`) as the leader of its own process group and
 * stopped by that handle only (another, unrelated haproxy may run on the machine). The runtime API
 * is read with a few raw lines here, not the product's client, so a fault in that client cannot
 * hide itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

export const HAPROXY = '/usr/sbin/haproxy';

/** Writes `<dir>/haproxy.cfg`: one TLS frontend on `port` over every bundle of `crtDir`, and the admin socket `<dir>/admin.sock`. */
export async function writeHaproxyConfig(dir: string, crtDir: string, port: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config = [
    '# @staplewarm/testing haproxy.ts',
    'global',
    `    stats socket ${join(dir, 'admin.sock')} level admin`,
    'defaults',
    '    mode http',
    '    timeout connect 5s',
    '    timeout client 5s',
    '    timeout server 5s',
    'frontend fe',
    `    bind 127.0.0.1:${port} ssl crt ${crtDir}/`,
    '    http-request return status 200 content-type text/plain string ok',
    '',
  ].join('\n');
  const path = join(dir, 'haproxy.cfg');
  await writeFile(path, config);
  return path;
}

/** Sends one command line to the runtime API (non-interactive: HAProxy closes after answering). */
export function haproxyCommand(socket: string, line: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const conn = connect({ path: socket });
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`${socket}: no answer to "${line}" in ${timeoutMs} ms`));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.once('connect', () => conn.write(`${line}\n`));
    conn.on('data', (chunk: string) => (answer += chunk));
    conn.once('end', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    conn.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** `Pid` of `show info`: the process answering on the socket. */
export async function haproxyPid(socket: string): Promise<number> {
  const pid = /^Pid: (\d+)$/m.exec(await haproxyCommand(socket, 'show info'))?.[1];
  if (pid === undefined) throw new Error(`${socket}: show info without a Pid`);
  return Number(pid);
}

export interface RunningHaproxy {
  /** The TLS port (`bind 127.0.0.1:<port> ssl crt <crtDir>/`). */
  port: number;
  /** The admin runtime API (`stats socket <dir>/admin.sock level admin`). */
  socket: string;
  pid: number;
  child: ChildProcess;
  /** What HAProxy printed (its warnings about the .ocsp files, say). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts HAProxy on `<dir>/haproxy.cfg` (written by writeHaproxyConfig for `port`) and waits until
 * its runtime API answers with its own pid (after a restart the socket may still be the previous
 * process's) and the TLS port accepts.
 */
export async function startHaproxy(dir: string, port: number): Promise<RunningHaproxy> {
  const socket = join(dir, 'admin.sock');
  let output = '';
  const child = spawn(HAPROXY, ['-f', join(dir, 'haproxy.cfg'), '-db'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      if (exited(child)) throw new Error(`haproxy exited (${String(child.exitCode ?? child.signalCode)}): ${output}`);
      const pid = await haproxyPid(socket).catch(() => undefined);
      if (pid === child.pid && (await accepts(port))) break;
      if (Date.now() > deadline) throw new Error(`haproxy not ready in 15 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (err) {
    await stopGroup(child);
    throw err;
  }
  return { port, socket, pid: child.pid ?? 0, child, output: () => output, stop: () => stopGroup(child) };
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** Stops the process started here and its group (it leads it: `detached`), SIGKILL after 5 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  const done = once(child, 'exit');
  const pid = child.pid;
  const kill = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone between the check and the signal
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 5_000);
  await done;
  clearTimeout(timer);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
