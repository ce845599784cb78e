// Child processes the OpenResty tests start: command runs, free ports, a private redis-server and
// an `openssl ocsp` responder. Every process started here is stopped by its own handle.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { freePort } from '@staplewarm/testing';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with stdin closed (openssl s_client then exits after the handshake); `env` adds variables. */
export async function run(
  command: string,
  args: readonly string[],
  timeoutMs = 10_000,
  env: Record<string, string> = {},
): Promise<RunResult> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs, env: { ...process.env, ...env } });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Like run(), but throws with the command's output when it exits non-zero. */
export async function runOk(command: string, args: readonly string[]): Promise<string> {
  const result = await run(command, args);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${String(result.code)}: ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** A port free on 127.0.0.1 a moment ago, outside the ephemeral range (see @staplewarm/testing). */
export { freePort };

export async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until every port accepts connections, or throws (with `describe()` for context) when `child` exits first. */
export async function waitForPorts(
  child: ChildProcess,
  ports: readonly number[],
  describe: () => string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`process exited (${String(child.exitCode ?? child.signalCode)}) before port ${port} opened: ${describe()}`);
      }
      if (Date.now() > deadline) throw new Error(`port ${port} did not open in ${timeoutMs} ms: ${describe()}`);
      await sleep(25);
    }
  }
}

/**
 * Stops a process started here: `signal`, then SIGKILL after 5 s. A child that leads its own process
 * group (`detached`, or openssl ocsp -multi) gets it for the whole group, so no worker outlives it.
 */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  const exited = once(child, 'exit');
  const kill = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      child.kill(sig); // not a group leader
    }
  };
  kill(signal);
  const timer = setTimeout(() => kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export interface PrivateRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** A throwaway redis-server on 127.0.0.1 (no persistence), for tests that stop Redis. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let output = '';
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await waitForPorts(child, [port], () => output);
  return { port, url: `redis://127.0.0.1:${port}`, stop: () => stopProcess(child) };
}

export interface OcspResponder {
  url: string;
  stop(): Promise<void>;
}

/**
 * A real OCSP responder: `openssl ocsp -index`, signing with the issuer's key, nextUpdate 7 days out.
 * Alone it answers one connection at a time and stalls parallel clients: `-multi` forks workers.
 * With -multi openssl makes its own process group (so it must not be `detached`: setpgid fails for a
 * session leader), and stopProcess() signals that group, so no forked child outlives the test.
 */
export async function startOcspResponder(
  ca: { index: string; issuerCert: string; issuerKey: string },
  port: number,
): Promise<OcspResponder> {
  let output = '';
  const args = [
    'ocsp',
    '-index',
    ca.index,
    '-port',
    String(port),
    '-rsigner',
    ca.issuerCert,
    '-rkey',
    ca.issuerKey,
    '-CA',
    ca.issuerCert,
    '-ndays',
    '7',
    '-multi',
    '2',
    '-ignore_err',
  ];
  const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await waitForPorts(child, [port], () => output);
  return { url: `http://127.0.0.1:${port}`, stop: () => stopProcess(child) };
}
