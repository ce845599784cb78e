// Simulator PKIs, generated once and cached under the output directory: 50,000 certificates take a
// minute or more to write. The OCSP URL (and so the simulator's port) is baked into the certificates.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SIMULATOR_BIN, freePort, portIsFree } from './services.js';

/** A PKI of `count` certificates for a simulator on `port`: reused when cached and its port is free. */
export async function cachedPki(out, count, log) {
  const dir = join(out, `pki-${count}`);
  const info = join(dir, 'bench.json');
  if (existsSync(info) && existsSync(join(dir, 'manifest.json'))) {
    const cached = JSON.parse(readFileSync(info, 'utf8'));
    if (cached.count === count && (await portIsFree(cached.port))) {
      log(`PKI: reusing ${count} certificates in ${dir}`);
      return { dir, live: join(dir, 'live'), port: cached.port, count, generatedSeconds: null };
    }
  }
  await rm(dir, { recursive: true, force: true });
  const port = await freePort();
  log(`PKI: generating ${count} certificates in ${dir} (cached for the next runs)...`);
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [SIMULATOR_BIN, 'generate', '--dir', dir, '--count', String(count), '--url', `http://127.0.0.1:${port}/`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`responder-sim generate failed (${code}): ${stderr}`))));
  });
  const generatedSeconds = (performance.now() - started) / 1000;
  writeFileSync(info, JSON.stringify({ count, port }));
  log(`PKI: ${count} certificates in ${generatedSeconds.toFixed(1)} s`);
  return { dir, live: join(dir, 'live'), port, count, generatedSeconds };
}
