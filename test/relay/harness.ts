/**
 * The relay end to end: a simulator PKI warmed into Redis by the real `staplewarm warm`, the real
 * `staplewarm relay` (and `worker`) as processes, and the peers that check it (openssl, curl,
 * nginx, Apache). Every process started here is stopped by its own handle (never by name).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki, startResponder, type LeafEntry, type PkiManifest, type Responder } from '@staplewarm/responder-sim';
import { REDIS_URL, STAPLEWARM_BIN, freePort, hasCommand, runCli, testPrefix } from '@staplewarm/testing';
import { run, stopProcess, waitForPorts, type RunResult } from '../openresty/processes.js';

export { REDIS_URL };
export const CI = process.env.CI === 'true';
/** CLI runs against a local simulator: the default responder address policy refuses loopback. */
export const LOCAL_RESPONDERS = { STAPLEWARM_RESPONDER_ALLOW: '127.0.0.0/8' };

/**
 * Which of `commands` are missing. Locally a suite skips (with a warning) when one is; under
 * CI=true it must fail instead, so call `requireCommands` in its beforeAll.
 */
export function missingCommands(commands: readonly string[]): string[] {
  return commands.filter((command) => (command.startsWith('/') ? !existsSync(command) : !hasCommand(command)));
}

export function requireCommands(missing: readonly string[]): void {
  if (missing.length > 0) throw new Error(`CI=true and ${missing.join(', ')} missing: install them (bash .ci/run does)`);
}

export function warnSkipped(suite: string, missing: readonly string[]): boolean {
  if (missing.length === 0 || CI) return false;
  console.warn(`skipping ${suite}: ${missing.join(', ')} not installed`);
  return true;
}

export interface Fleet {
  dir: string;
  pkiDir: string;
  manifest: PkiManifest;
  prefix: string;
  /** The CA's responder; stop it to prove the relay answers without it. */
  sim: Responder;
  rootPem: string;
  issuerPem: string;
  leaf(i: number): LeafEntry & { certPem: string; fullchainPem: string; keyPem: string };
  /** Deletes the temporary files (call after the processes stopped; Redis keys: deletePrefix). */
  cleanup(): void;
}

export interface FleetOptions {
  count: number;
  /** STAPLEWARM_CERTID_HASH of the warm (and of every process of this fleet). @defaultValue 'sha1' */
  hash?: 'sha1' | 'sha256';
  /** 1-based leaf numbers to revoke. */
  revoked?: number[];
  label: string;
  /** Simulator latency, ms. */
  latencyMs?: number;
  /** How long the simulator's responses are valid (nextUpdate - thisUpdate), hours. @defaultValue 168 */
  validityHours?: number;
}

/** Generates a PKI, starts its simulator and runs `staplewarm warm` over it into a fresh prefix. */
export async function warmFleet(options: FleetOptions): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), `sw-relay-${options.label}-`));
  const pkiDir = join(dir, 'pki');
  const port = await freePort();
  const manifest = await generatePki({
    dir: pkiDir,
    count: options.count,
    ocspUrls: [`http://127.0.0.1:${port}/`],
    revoked: options.revoked ?? [],
  });
  const sim = await startResponder({
    pkiDir,
    port,
    ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}),
    ...(options.validityHours ? { validityHours: options.validityHours } : {}),
  });
  const prefix = testPrefix(`relay-${options.label}`);
  const warm = await runCli(
    ['warm', '--certs', join(pkiDir, 'live'), '--redis', REDIS_URL, '--prefix', prefix, '--rate', '0', '--json'],
    { ...LOCAL_RESPONDERS, STAPLEWARM_CERTID_HASH: options.hash ?? 'sha1' },
    120_000,
  );
  if (warm.code !== 0) {
    await sim.close();
    throw new Error(`warm failed (${warm.code}): ${warm.stdout}\n${warm.stderr}`);
  }
  return {
    dir,
    pkiDir,
    manifest,
    prefix,
    sim,
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
}

export interface StaplewarmProcess {
  pid: number;
  /** The process itself (to signal it and watch its exit in a test). */
  child: ChildProcess;
  /** For the relay: `http://127.0.0.1:<port>/`. */
  url: string;
  port: number;
  metricsUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a long-running staplewarm command (`relay`, `worker`) and waits for its ports. */
async function startCommand(
  args: string[],
  ports: number[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string }> {
  let output = '';
  const child = spawn(process.execPath, [STAPLEWARM_BIN, ...args], {
    env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  try {
    await waitForPorts(child, ports, () => output, 30_000);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { child, output: () => output };
}

/** `staplewarm relay --listen 127.0.0.1:<free port>` on the fleet's prefix, with /metrics. */
export async function startRelay(prefix: string, env: Record<string, string> = {}): Promise<StaplewarmProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const { child, output } = await startCommand(
    ['relay', '--listen', `127.0.0.1:${port}`, '--redis', REDIS_URL, '--prefix', prefix, '--metrics-port', String(metricsPort)],
    [port, metricsPort],
    env,
  );
  return {
    pid: child.pid ?? 0,
    child,
    url: `http://127.0.0.1:${port}/`,
    port,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    output,
    stop: () => stopProcess(child),
  };
}

/** `staplewarm worker` on the fleet's prefix (the pipeline that fetches the relay's misses). */
export async function startWorker(prefix: string, env: Record<string, string> = {}): Promise<StaplewarmProcess> {
  const metricsPort = await freePort();
  const { child, output } = await startCommand(
    ['worker', '--redis', REDIS_URL, '--prefix', prefix, '--metrics-port', String(metricsPort), '--rate', '50'],
    [metricsPort],
    { ...LOCAL_RESPONDERS, ...env },
  );
  return {
    pid: child.pid ?? 0,
    child,
    url: '',
    port: 0,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    output,
    stop: () => stopProcess(child),
  };
}

/** `openssl ocsp` (POST to `-url`): a real client and a real verifier of the answer. */
export function opensslOcsp(fleet: Fleet, leafIndex: number, url: string, extra: string[] = []): Promise<RunResult> {
  const leaf = fleet.leaf(leafIndex);
  return run(
    'openssl',
    // A digest option (-sha256) must come before -cert.
    ['ocsp', ...extra, '-url', url, '-issuer', fleet.issuerPem, '-cert', leaf.certPem, '-CAfile', fleet.rootPem, '-timeout', '20'],
    30_000,
  );
}

/** The value of a sample of the relay's /metrics. */
export async function metricValue(metricsUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}
