import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PkiManifest } from '../pki/manifest.js';
import { withTempDir } from '../testing/openssl.js';
import { runCli } from './run.js';

function capture(): { io: { out: (line: string) => void; err: (line: string) => void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line) => out.push(line), err: (line) => err.push(line) }, out, err };
}

describe('responder-sim CLI', () => {
  it('generates a PKI, then serves it until the signal aborts', async () => {
    const { dir, cleanup } = await withTempDir();
    try {
      const gen = capture();
      const code = await runCli(
        ['generate', '--dir', dir, '--count', '3', '--url', 'http://127.0.0.1:9/', '--revoked', '2', '--must-staple-every', '3'],
        gen.io,
      );
      expect(code).toBe(0);
      expect(gen.out[0]).toMatch(/^generated 3 certificates \(1 revoked\) in [\d.]+ s/);
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as PkiManifest;
      expect(manifest.ocspUrls).toEqual(['http://127.0.0.1:9/']);
      expect(manifest.leaves.map((leaf) => [leaf.revokedAt !== undefined, leaf.mustStaple])).toEqual([
        [false, false],
        [true, false],
        [false, true],
      ]);

      const serve = capture();
      const stop = new AbortController();
      const done = runCli(
        ['serve', '--dir', dir, '--port', '0', '--rate', '50', '--no-retry-after', '--faults', '{"only429":true}'],
        serve.io,
        stop.signal,
      );
      await expect.poll(() => serve.out.length).toBe(1);
      const url = serve.out[0] ?? '';
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(url, { method: 'POST', body: 'x' });
      expect(res.status).toBe(429); // the --faults switch is armed
      expect(res.headers.get('retry-after')).toBeNull();
      stop.abort();
      expect(await done).toBe(0);
      expect(serve.err.join('\n')).toContain('stopped');
    } finally {
      await cleanup();
    }
  });

  it('exits 2 with the usage on a bad or missing option', async () => {
    for (const argv of [
      ['generate', '--count', '3'],
      ['generate', '--dir', '/tmp/x', '--count', 'many'],
      ['serve', '--bogus'],
      ['frobnicate'],
    ]) {
      const run = capture();
      expect(await runCli(argv, run.io)).toBe(2);
      expect(run.err.join('\n')).toContain('usage:');
    }
  });
});
