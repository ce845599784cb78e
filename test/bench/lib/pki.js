// Simulator PKIs, generated once and cached under the output directory: 50,000 certificates take a
// minute or more to write. The OCSP URL (and so the simulator's port) is baked into the certificates.
import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT, SIMULATOR_BIN, freePort, portIsFree } from './services.js';

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

/**
 * Scenario e's PKIs: `cas` certificate authorities of `count / cas` certificates each, every one
 * its own domain (`site00001.ca1.test`...: the host aliases of the Redis contract must not collide)
 * and its own OCSP responder port (`cachedPki` keeps the same rules: reused when cached and every
 * port is free). Two trees name the same certbot lineages:
 * - `tree-grouped/`: one link per CA to its `live/` (ca1 -> ../ca1/live ...): the scan reads them
 *   one CA after another, so the jobs are enqueued grouped by CA;
 * - `tree-interleaved/`: every lineage of every CA in one directory, created alternating between
 *   the CAs (site00001.ca1.test, site00001.ca2.test, ...), `cert.pem` and `fullchain.pem` hard
 *   links of the CA's own files, `chain.pem` and `privkey.pem` links as certbot makes them: the
 *   same files to read as the grouped tree, in mixed order.
 */
export async function cachedMultiPki(out, count, log, cas = 5) {
  const dir = join(out, `multi-${count}x${cas}`);
  const info = join(dir, 'bench.json');
  const perCa = Math.floor(count / cas);
  const trees = { grouped: join(dir, 'tree-grouped'), interleaved: join(dir, 'tree-interleaved') };
  const shape = (ports) => ({
    dir,
    count: perCa * cas,
    perCa,
    trees,
    cas: ports.map((port, i) => ({
      name: `ca${i + 1}`,
      domain: `ca${i + 1}.test`,
      dir: join(dir, `ca${i + 1}`),
      live: join(dir, `ca${i + 1}`, 'live'),
      port,
      count: perCa,
    })),
  });
  if (existsSync(info)) {
    const cached = JSON.parse(readFileSync(info, 'utf8'));
    if (cached.count === perCa * cas && cached.ports.length === cas && (await Promise.all(cached.ports.map(portIsFree))).every(Boolean)) {
      log(`PKI: reusing ${cas} CAs of ${perCa} certificates in ${dir}`);
      return { ...shape(cached.ports), generatedSeconds: null };
    }
  }
  await rm(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ports = [];
  while (ports.length < cas) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const pki = shape(ports);
  log(`PKI: generating ${cas} CAs of ${perCa} certificates in ${dir} (cached for the next runs)...`);
  const started = performance.now();
  // Two at a time (two cores); each in its own process, as `responder-sim generate` would run.
  const pending = [...pki.cas];
  const generateNext = async () => {
    for (let ca = pending.shift(); ca; ca = pending.shift()) await generateWithDomain(ca);
  };
  await Promise.all([generateNext(), generateNext()]);
  // The grouped tree: one link per CA.
  mkdirSync(trees.grouped);
  for (const ca of pki.cas) symlinkSync(join('..', ca.name, 'live'), join(trees.grouped, ca.name));
  // The interleaved tree: the same lineages, alternating between the CAs.
  mkdirSync(trees.interleaved);
  const names = pki.cas.map((ca) => readdirSync(ca.live).sort());
  for (let i = 0; i < perCa; i++) {
    for (const [c, ca] of pki.cas.entries()) {
      const name = names[c][i];
      if (name) linkLineage(join(ca.live, name), join(trees.interleaved, name));
    }
  }
  const generatedSeconds = (performance.now() - started) / 1000;
  writeFileSync(info, JSON.stringify({ count: perCa * cas, ports }));
  log(`PKI: ${cas} CAs of ${perCa} certificates and both trees in ${generatedSeconds.toFixed(1)} s`);
  return { ...pki, generatedSeconds };
}

/** `generatePki` with the CA's own domain (the simulator's CLI has no flag for it), in a child process. */
async function generateWithDomain(ca) {
  const options = { dir: ca.dir, count: ca.count, ocspUrls: [`http://127.0.0.1:${ca.port}/`], domain: ca.domain };
  const script = `import { generatePki } from '@staplewarm/responder-sim'; await generatePki(JSON.parse(process.argv[1]));`;
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(options)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`generatePki ${ca.name} failed (${code}): ${stderr}`))));
  });
}

/** A copy of one certbot lineage directory: files hard-linked, symbolic links re-pointed at the same targets. */
function linkLineage(from, to) {
  mkdirSync(to);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    if (entry.isSymbolicLink()) symlinkSync(relative(to, resolvePath(from, readlinkSync(source))), join(to, entry.name));
    else linkSync(source, join(to, entry.name));
  }
}
