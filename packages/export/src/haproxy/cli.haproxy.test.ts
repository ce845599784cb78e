// HaproxyCli against the real HAProxy (Debian's 2.6.12 at /usr/sbin/haproxy): a PKI and OCSP responder
// from the simulator, a crt directory where one certificate has a .ocsp file (so an OCSP slot) and
// the other has none, and `openssl s_client -status` to see the staple HAProxy then serves.
// Without HAProxy the suite skips locally and fails under CI=true.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certIdFor, parseCertificates } from '@staplewarm/ocsp';
import { generatePki, startResponder, type PkiManifest, type Responder } from '@staplewarm/responder-sim';
import { HAPROXY, freePort, startHaproxy, writeHaproxyConfig, type RunningHaproxy } from '@staplewarm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyCli, HaproxyCliError } from './cli.js';

const haveHaproxy = existsSync(HAPROXY);
const inCi = process.env.CI === 'true';
if (!haveHaproxy && !inCi) console.warn(`cli.haproxy.test.ts skipped: no ${HAPROXY} (under CI=true this fails)`);

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a command to completion, stdin closed (s_client then leaves after the handshake). */
async function run(command: string, args: readonly string[], timeoutMs = 15_000): Promise<RunResult> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
  child.stdin.end();
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output };
}

describe.skipIf(!haveHaproxy && !inCi)('HaproxyCli against HAProxy 2.6', () => {
  let dir = '';
  let pkiDir = '';
  let manifest: PkiManifest;
  let responder: Responder | undefined;
  let haproxy: RunningHaproxy | undefined;
  let cli: HaproxyCli;
  let tlsPort = 0;
  let certsDir = '';
  /** leaves[0] has a .ocsp file (an OCSP slot); leaves[1] has none. */
  let slotted: PkiManifest['leaves'][number];
  let unslotted: PkiManifest['leaves'][number];

  /** A DER OCSP response for a leaf, from the simulator, through openssl (`-sha256`: a SHA-256 CertID). */
  async function fetchResponse(leaf: PkiManifest['leaves'][number], hash: 'sha1' | 'sha256' = 'sha1'): Promise<Buffer> {
    const out = join(dir, `${leaf.name}.${hash}.der`);
    const leafDir = join(pkiDir, leaf.dir);
    const args = ['ocsp', '-issuer', join(leafDir, 'chain.pem'), ...(hash === 'sha256' ? ['-sha256'] : [])];
    args.push('-cert', join(leafDir, 'cert.pem'), '-url', responder?.url ?? '', '-respout', out, '-noverify');
    const result = await run('openssl', args);
    expect(result.code, result.output).toBe(0);
    return readFile(out);
  }

  beforeAll(async () => {
    // Fail, not skip, under CI: a runner without HAProxy would otherwise pass this suite silently.
    if (!haveHaproxy) throw new Error(`CI=true and ${HAPROXY} is missing: install haproxy (Debian bookworm: 2.6)`);
    dir = await mkdtemp(join(tmpdir(), 'hx-cli-'));
    pkiDir = join(dir, 'pki');
    certsDir = join(dir, 'certs');
    const responderPort = await freePort();
    tlsPort = await freePort();
    manifest = await generatePki({ dir: pkiDir, count: 2, ocspUrls: [`http://127.0.0.1:${responderPort}/`] });
    [slotted, unslotted] = manifest.leaves as [PkiManifest['leaves'][number], PkiManifest['leaves'][number]];
    responder = await startResponder({ pkiDir, port: responderPort });

    await mkdir(certsDir);
    for (const leaf of manifest.leaves) {
      const leafDir = join(pkiDir, leaf.dir);
      const pem = (await readFile(join(leafDir, 'fullchain.pem'), 'utf8')) + (await readFile(join(leafDir, 'privkey.pem'), 'utf8'));
      await writeFile(join(certsDir, `${leaf.name}.pem`), pem);
    }
    // Empty is enough: HAProxy warns it cannot parse it, but makes the certificate's OCSP slot.
    await writeFile(join(certsDir, `${slotted.name}.pem.ocsp`), '');

    await writeHaproxyConfig(dir, certsDir, tlsPort);
    haproxy = await startHaproxy(dir, tlsPort);
    cli = new HaproxyCli(haproxy.socket);
  });

  afterAll(async () => {
    await haproxy?.stop();
    await responder?.close();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('show ssl cert lists both certificate files', async () => {
    const files = await cli.showSslCerts();
    expect(files.sort()).toEqual(manifest.leaves.map((leaf) => join(certsDir, `${leaf.name}.pem`)).sort());
  });

  it('show ssl ocsp-response lists the one certificate loaded with a .ocsp file, with its SHA-1 CertID', async () => {
    const leafDir = join(pkiDir, slotted.dir);
    const [leaf] = parseCertificates(await readFile(join(leafDir, 'cert.pem')));
    const [issuer] = parseCertificates(await readFile(join(leafDir, 'chain.pem')));
    if (leaf === undefined || issuer === undefined) throw new Error('test PKI without certificates');
    const expected = certIdFor(leaf, issuer, 'sha1');

    const { entries, malformed } = await cli.showOcspResponses();
    expect(malformed).toBe(0);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      hashAlgorithm: 'sha1',
      issuerNameHash: expected.issuerNameHash,
      issuerKeyHash: expected.issuerKeyHash,
      serial: slotted.serial,
    });
  });

  it('show info gives the pid of the haproxy started here, its start time and version', async () => {
    const info = await cli.showInfo();
    expect(info.pid).toBe(haproxy?.pid);
    expect(info.version).toMatch(/^2\.6\./);
    expect(info.startTimeSec).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(info.uptimeSec).toBeGreaterThanOrEqual(0);
  });

  it('set ssl ocsp-response fills the slot, and HAProxy staples the response', async () => {
    await cli.setOcspResponse(await fetchResponse(slotted));
    const handshake = await run('openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort}`, '-servername', slotted.name, '-status']);
    expect(handshake.output).toContain('OCSP Response Status: successful');
    expect(handshake.output).toContain(`Serial Number: ${slotted.serial.toUpperCase()}`);
  });

  it("set ssl ocsp-response for a certificate without a slot is refused with HAProxy's message", async () => {
    const error = await cli.setOcspResponse(await fetchResponse(unslotted)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(HaproxyCliError);
    expect(error).toMatchObject({
      code: 'refused',
      answer: 'OCSP single response: Certificate ID does not match any certificate or issuer.',
    });
  });

  it('a response with a SHA-256 CertID matches no slot (HAProxy 2.6 keys its slots by SHA-1 CertID)', async () => {
    const error = await cli.setOcspResponse(await fetchResponse(slotted, 'sha256')).catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: 'refused',
      answer: 'OCSP single response: Certificate ID does not match any certificate or issuer.',
    });
  });

  it('a payload near the buffer size still reaches HAProxy; one past it is dropped, reported as refused naming tune.bufsize', async () => {
    // 12,000 bytes: 16,027 bytes of command, inside the 16 KiB tune.bufsize; HAProxy parses (and rejects) it.
    const near = await cli.setOcspResponse(Buffer.alloc(12_000, 1)).catch((err: unknown) => err);
    expect(near).toMatchObject({ code: 'refused', answer: 'Unable to parse OCSP response.' });
    const past = await cli.setOcspResponse(Buffer.alloc(15_000, 1)).catch((err: unknown) => err);
    expect(past).toMatchObject({ code: 'refused', answer: '(empty answer)' });
    expect((past as Error).message).toContain('tune.bufsize');
  });

  it('an unknown command is answered with help text, which command() returns as is', async () => {
    expect(await cli.command('show no-such-thing')).toMatch(/^Unknown command/);
  });
});
