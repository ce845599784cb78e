// The independent peer of scenario (d), and the re-check of stored staples: the openssl CLI.
import { execFile, spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `openssl ocsp` for every certificate, `parallel` at a time (xargs -P): fetch, verify against the
 * root, write the response. Returns the wall time and how many answered good or revoked.
 */
export async function opensslWarm({ pki, url, parallel = 16, outDir }) {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const names = readdirSync(pki.live);
  const script =
    `xargs -P${parallel} -I{} openssl ocsp -no_nonce -issuer ca/issuer.pem -cert live/{}/cert.pem ` +
    `-url ${url} -CAfile ca/root.pem -respout ${outDir}/{}.der`;
  const started = performance.now();
  const output = await new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { cwd: pki.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.resume();
    child.once('error', reject);
    child.once('exit', () => resolve(stdout));
    child.stdin.end(`${names.join('\n')}\n`);
  });
  const wallMs = performance.now() - started;
  const answered = (output.match(/: (good|revoked)$/gm) ?? []).length;
  return { wallMs, answered, certificates: names.length };
}

/** Checks stored staples with `openssl ocsp -respin`: how many of `sample` names verify as good. */
export async function recheckStaples({ redis, prefix, pki, sample, workDir }) {
  await mkdir(workDir, { recursive: true });
  const names = readdirSync(pki.live);
  const picked = Array.from({ length: Math.min(sample, names.length) }, (_, i) => names[Math.floor((i * names.length) / sample)]);
  let good = 0;
  for (const name of picked) {
    const fingerprint = await redis.get(`${prefix}host:${name}`);
    const der = fingerprint ? await redis.getBuffer(`${prefix}staple:${fingerprint}`) : null;
    if (!der) continue;
    const file = join(workDir, `${name}.der`);
    writeFileSync(file, der);
    const { stdout } = await run(
      'openssl',
      ['ocsp', '-respin', file, '-CAfile', 'ca/root.pem', '-issuer', 'ca/issuer.pem', '-cert', `live/${name}/cert.pem`],
      {
        cwd: pki.dir,
      },
    ).catch(() => ({ stdout: '' }));
    if (stdout.includes(': good')) good++;
  }
  return { good, checked: picked.length };
}
