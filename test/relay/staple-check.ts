/** Handshakes with a real TLS server until it staples, and checks the staple with openssl. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { run } from '../openresty/processes.js';
import { handshake, sClient, type SClientResult } from '../openresty/tls-client.js';
import type { Fleet } from './harness.js';

export interface StapledHandshake {
  staple: Buffer;
  /** Handshakes it took (nginx fetches lazily: the first ones go without). */
  attempts: number;
  fingerprint: string;
}

/** Full handshakes asking for a staple, every 250 ms, until one carries a staple or `timeoutMs` passes. */
export async function handshakeUntilStapled(
  port: number,
  servername: string,
  rootPem: string,
  timeoutMs = 20_000,
): Promise<StapledHandshake> {
  const root = await readFile(rootPem);
  const deadline = Date.now() + timeoutMs;
  for (let attempts = 1; ; attempts++) {
    const got = await handshake(port, servername, root);
    if (got.staple) return { staple: got.staple, attempts, fingerprint: got.fingerprint };
    if (Date.now() > deadline) throw new Error(`no staple after ${attempts} handshakes`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** `openssl ocsp -respin` on the staple: verified against the root, and the certificate's status. */
export async function verifyStaple(fleet: Fleet, leafIndex: number, staple: Buffer): Promise<string> {
  const file = join(fleet.dir, `staple-${leafIndex}-${Date.now()}.der`);
  await writeFile(file, staple);
  const leaf = fleet.leaf(leafIndex);
  const result = await run('openssl', [
    'ocsp',
    '-respin',
    file,
    '-issuer',
    fleet.issuerPem,
    '-cert',
    leaf.certPem,
    '-CAfile',
    fleet.rootPem,
  ]);
  return result.stdout + result.stderr;
}

/** `openssl s_client -status`: what a real TLS client shows of the staple. */
export function sClientStatus(port: number, servername: string, rootPem: string): Promise<SClientResult> {
  return sClient(port, servername, rootPem);
}
