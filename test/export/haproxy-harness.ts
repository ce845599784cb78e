/**
 * For the HAProxy export end to end: Debian's HAProxy 2.6 on a crt directory of PEM bundles (leaf,
 * chain, key) built from a fleet, with an admin runtime API socket, as an operator sets it up
 * (README "Exporters for nginx and HAProxy"). HAProxy runs in the foreground (`-db`) as a child
 * leading its own process group and is stopped by that handle only: another, unrelated haproxy may
 * run on the same machine. The runtime API is read here with a few raw lines of our own, not the
 * product's client, so a fault in that client cannot hide itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REDIS_URL, runCli, type CliResult } from '@staplewarm/testing';
import { canConnect, sleep, stopProcess } from '../openresty/processes.js';
import { handshake } from '../openresty/tls-client.js';
import { LOCAL_RESPONDERS, type Fleet } from '../relay/harness.js';

export const HAPROXY = '/usr/sbin/haproxy';

/** What the crt directory holds beside a leaf's bundle: its staple file empty, or none at all. */
export type OcspFile = 'empty' | 'none';

/** `<crtDir>/<name>.pem` (fullchain.pem + privkey.pem) for each leaf of `ocsp`, and `<name>.pem.ocsp` where asked. */
export async function writeCrtDir(fleet: Fleet, crtDir: string, ocsp: Readonly<Record<number, OcspFile>>): Promise<void> {
  await mkdir(crtDir, { recursive: true });
  for (const [index, file] of Object.entries(ocsp)) {
    const leaf = fleet.leaf(Number(index));
    const bundle = (await readFile(leaf.fullchainPem, 'utf8')) + (await readFile(leaf.keyPem, 'utf8'));
    await writeFile(crtBundle(crtDir, leaf.name), bundle, { mode: 0o600 });
    const staple = ocspFile(crtDir, leaf.name);
    if (file === 'empty') await writeFile(staple, '');
    else await rm(staple, { force: true });
  }
}

export function crtBundle(crtDir: string, name: string): string {
  return join(crtDir, `${name}.pem`);
}

/** The file HAProxy reads the staple of `<name>.pem` from, at start. */
export function ocspFile(crtDir: string, name: string): string {
  return `${crtBundle(crtDir, name)}.ocsp`;
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

/** Writes `<dir>/haproxy.cfg`: one TLS frontend on `port` over every bundle of `crtDir`, and the admin socket. */
export async function writeHaproxyConfig(dir: string, crtDir: string, port: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config = [
    '# test/export/haproxy-harness.ts',
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

/**
 * Starts HAProxy on `<dir>/haproxy.cfg` (written by writeHaproxyConfig for `port`) and waits until
 * its runtime API answers with its pid and the TLS port accepts.
 */
export async function startHaproxy(dir: string, port: number): Promise<RunningHaproxy> {
  const socket = join(dir, 'admin.sock');
  let output = '';
  const child = spawn(HAPROXY, ['-f', join(dir, 'haproxy.cfg'), '-db'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`haproxy exited (${String(child.exitCode ?? child.signalCode)}): ${output}`);
      }
      // The socket may still be the previous process's (a restart): wait for this one's pid.
      const pid = await haproxyPid(socket).catch(() => undefined);
      if (pid === child.pid && (await canConnect(port))) break;
      if (Date.now() > deadline) throw new Error(`haproxy not ready in 15 s: ${output}`);
      await sleep(50);
    }
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { port, socket, pid: child.pid ?? 0, child, output: () => output, stop: () => stopProcess(child, 'SIGTERM') };
}

/** The staple of one handshake for `name` (SNI), or null; the certificate is checked to be `fingerprint`. */
export async function stapleOf(port: number, name: string, fingerprint: string, root: Buffer): Promise<Buffer | null> {
  const got = await handshake(port, name, root);
  if (got.fingerprint !== fingerprint) throw new Error(`HAProxy served ${got.fingerprint} for ${name}, not ${fingerprint}`);
  return got.staple;
}

/** `staplewarm export haproxy <args>` on the fleet's prefix, as an operator runs it. */
export function exportHaproxy(fleet: Fleet, args: readonly string[]): Promise<CliResult> {
  return runCli(['export', 'haproxy', ...args, '--redis', REDIS_URL, '--prefix', fleet.prefix], LOCAL_RESPONDERS, 60_000);
}

/** One run of `export haproxy --json`. */
export interface ExportRunJson {
  kind: string;
  target: string;
  report: {
    exported: number;
    revoked: number;
    withdrawn: Record<string, number>;
    changed: number;
    failed: number;
    errors: string[];
  };
  problems: unknown[];
}
