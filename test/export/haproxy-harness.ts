/**
 * For the HAProxy export end to end: a crt directory of PEM bundles (leaf, chain, key) built from a
 * fleet, as an operator sets it up (README "Exporters for nginx and HAProxy"), for Debian's HAProxy
 * 2.6 as @staplewarm/testing starts it (admin socket, stopped by its own handle only).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REDIS_URL, runCli, type CliResult } from '@staplewarm/testing';
import { handshake } from '../openresty/tls-client.js';
import { LOCAL_RESPONDERS, type Fleet } from '../relay/harness.js';

export { HAPROXY, haproxyCommand, haproxyPid, startHaproxy, writeHaproxyConfig, type RunningHaproxy } from '@staplewarm/testing';

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
