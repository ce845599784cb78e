/**
 * Certificate files are customers' input: the real `staplewarm warm` over a store holding a 2 MB
 * file of BEGIN lines without an END, a 600 MB sparse file and a self-signed certificate beside
 * good certbot lineages. Each bad file is reported by path and reason; the scan stays fast; the
 * good certificates are warmed (openssl verifies their staples in Redis); memory stays bounded.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOpensslPki, type OpensslPki } from '@staplewarm/testing';
import {
  type CliResult,
  REDIS_URL,
  STAPLEWARM_BIN,
  connectTestRedis,
  deletePrefix,
  freePort,
  runCli,
  startOpensslResponder,
  testPrefix,
} from '@staplewarm/testing';

interface Summary {
  stored: { good: number; revoked: number };
  targets: number;
  noOcspUrl: number;
  problems: { path: string; code: string; detail: string; names?: string[] }[];
  scanSeconds: number;
  complete: boolean;
}

// The responders of these tests listen on loopback, which the worker's address policy refuses by default.
const ALLOW_LOOPBACK = { STAPLEWARM_RESPONDER_ALLOW: '127.0.0.0/8' };
const GNU_TIME = '/usr/bin/time';

/**
 * Runs the CLI and measures its peak RSS in MB. With GNU time, `%M` is the kernel's own figure
 * (getrusage's ru_maxrss of the child, in KiB), taken when the process has ended: nothing can be
 * missed. Without it, /proc/<pid>/status VmHWM (the kernel's high-water mark of the RSS) is read
 * every 10 ms while the process lives: the last reading before exit can miss only the growth of
 * the final 10 ms.
 */
function runCliMeasured(args: string[], env: Record<string, string>, timeoutMs = 180_000): Promise<CliResult & { peakRssMB: number }> {
  const viaTime = existsSync(GNU_TIME);
  const rssFile = join(mkdtempSync(join(tmpdir(), 'sw-rss-')), 'maxrss');
  const [command, argv] = viaTime
    ? [GNU_TIME, ['-f', '%M', '-o', rssFile, process.execPath, STAPLEWARM_BIN, ...args]]
    : [process.execPath, [STAPLEWARM_BIN, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let hwmKiB = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = viaTime
      ? undefined
      : setInterval(() => {
          try {
            const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (match) hwmKiB = Math.max(hwmKiB, Number(match[1]));
          } catch {
            // gone between two readings
          }
        }, 10);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`staplewarm ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const kib = viaTime ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) : hwmKiB;
      rmSync(join(rssFile, '..'), { recursive: true, force: true });
      resolve({ code: code ?? -1, stdout, stderr, peakRssMB: kib / 1024 });
    });
  });
}

describe("warm over customers' hostile certificate files", () => {
  let dir: string;
  let certs: string;
  let pki: OpensslPki;
  let responder: { stop: () => void };
  let redis: Redis;
  const prefix = testPrefix('hostile');
  const goodNames = ['good1.test', 'good2.test'];

  beforeAll(async () => {
    redis = await connectTestRedis();
    dir = mkdtempSync(join(tmpdir(), 'sw-hostile-e2e-'));
    const port = await freePort();
    pki = makeOpensslPki(join(dir, 'pki'), [
      { name: 'good1.test', ocspUrls: [`http://127.0.0.1:${port}`] },
      { name: 'good2.test', ocspUrls: [`http://127.0.0.1:${port}`] },
    ]);
    certs = join(dir, 'certs');
    for (const name of goodNames) {
      const live = join(certs, 'live', name);
      mkdirSync(live, { recursive: true });
      const leaf = pki.leaves.get(name) as string;
      copyFileSync(leaf, join(live, 'cert.pem'));
      copyFileSync(pki.issuerPem, join(live, 'chain.pem'));
      writeFileSync(join(live, 'fullchain.pem'), readFileSync(leaf, 'utf8') + readFileSync(pki.issuerPem, 'utf8'));
    }
    // (a) 75,000 BEGIN lines and no END: 2 MB that the former regex took minutes to search.
    writeFileSync(join(certs, 'begin-only.pem'), '-----BEGIN CERTIFICATE-----\n'.repeat(75_000));
    // (b) 600 MB that occupy no disk: a sparse file, as `truncate` makes it.
    execFileSync('truncate', ['-s', '600M', join(certs, 'big.pem')]);
    // (c) A customer's own certificate (the key lands in self-signed.key, skipped by name).
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(certs, 'self-signed.key'),
        '-out',
        join(certs, 'self-signed.pem'),
        '-subj',
        '/CN=customer.example.test',
        '-addext',
        'subjectAltName=DNS:customer.example.test',
        '-days',
        '30',
      ],
      { stdio: 'ignore' },
    );
    responder = await startOpensslResponder(pki, port);
  });

  afterAll(async () => {
    responder?.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('(a) reads and reports the 2 MB BEGIN-only file, the scan part in under a second', async () => {
    // --no-work over the file alone: nothing to enqueue, so scanSeconds is the scan itself (with
    // workers, it also counts their start-up and Redis round trips). A limit above 2 MB, so that the
    // file is read and split, not refused for its size.
    const args = ['warm', '--no-work', '--certs', join(certs, 'begin-only.pem'), '--redis', REDIS_URL, '--prefix', prefix, '--json'];
    const run = await runCli([...args, '--max-cert-file-bytes', String(4 * 1_048_576)], ALLOW_LOOPBACK);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.problems).toEqual([
      {
        path: join(certs, 'begin-only.pem'),
        code: 'not-a-certificate',
        detail: 'no complete PEM CERTIFICATE block (BEGIN lines for: CERTIFICATE)',
      },
    ]);
    expect(summary.scanSeconds).toBeGreaterThan(0);
    expect(summary.scanSeconds).toBeLessThan(1);
    expect(run.code).toBe(1);
    console.info(`hostile (a): the 2 MB BEGIN-only file read and reported, scan ${summary.scanSeconds.toFixed(3)} s`);
  });

  it('(b, c) reports the 600 MB file and the self-signed one, warms the good certificates, and stays under 300 MB', async () => {
    const run = await runCliMeasured(
      ['warm', '--certs', certs, '--redis', REDIS_URL, '--prefix', prefix, '--json', '--max-cert-file-bytes', String(4 * 1_048_576)],
      ALLOW_LOOPBACK,
    );
    const summary = JSON.parse(run.stdout) as Summary;
    const problems = Object.fromEntries(summary.problems.map((p) => [p.path.slice(certs.length + 1), p]));
    // Exactly these three: certbot's chain.pem files (the issuer alone) are normal.
    expect(Object.keys(problems).sort()).toEqual(['begin-only.pem', 'big.pem', 'self-signed.pem']);
    expect(problems['begin-only.pem']).toMatchObject({
      code: 'not-a-certificate',
      detail: 'no complete PEM CERTIFICATE block (BEGIN lines for: CERTIFICATE)',
    });
    expect(problems['big.pem']).toMatchObject({
      code: 'too-large',
      detail: '629145600 bytes, over the limit of 4194304 bytes (--max-cert-file-bytes / STAPLEWARM_MAX_CERT_FILE_BYTES); not read',
    });
    expect(problems['self-signed.pem']).toMatchObject({ code: 'self-signed', names: ['customer.example.test'] });

    expect(summary.targets).toBe(2);
    expect(summary.stored.good).toBe(2);
    for (const name of goodNames) {
      const certPath = join(certs, 'live', name, 'cert.pem');
      // The fingerprint as openssl computes it, not as staplewarm does.
      const fp = execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' })
        .split('=')[1]
        ?.trim()
        .replace(/:/g, '')
        .toLowerCase();
      const der = await redis.getBuffer(`${prefix}staple:${fp}`);
      expect(der, name).not.toBeNull();
      const respPath = join(dir, `${name}.resp.der`);
      writeFileSync(respPath, der as Buffer);
      const verified = execFileSync(
        'openssl',
        ['ocsp', '-respin', respPath, '-CAfile', pki.rootPem, '-issuer', pki.issuerPem, '-cert', certPath],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(verified).toContain(`${certPath}: good`);
    }
    expect(summary.complete).toBe(false); // unusable input: exit 1, as for any bad file
    expect(run.code, run.stderr).toBe(1);
    expect(run.peakRssMB).toBeGreaterThan(20); // a measurement, not a zero
    expect(run.peakRssMB).toBeLessThan(300);
    console.info(`hostile (b, c): 600 MB file and self-signed reported, good ones warmed, peak RSS ${run.peakRssMB.toFixed(0)} MB`);
  });

  it('with the default 1 MiB limit, reports the 2 MB file as too-large without reading it', async () => {
    const run = await runCli(
      ['warm', '--certs', join(certs, 'begin-only.pem'), '--redis', REDIS_URL, '--prefix', prefix, '--json'],
      ALLOW_LOOPBACK,
    );
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.problems).toEqual([
      {
        path: join(certs, 'begin-only.pem'),
        code: 'too-large',
        detail: '2100000 bytes, over the limit of 1048576 bytes (--max-cert-file-bytes / STAPLEWARM_MAX_CERT_FILE_BYTES); not read',
      },
    ]);
    expect(run.code).toBe(1);
  });
});
