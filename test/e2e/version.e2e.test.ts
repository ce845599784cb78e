/**
 * staplewarm's version is written once, in apps/staplewarm/package.json: `--version` prints it and
 * every OCSP request carries it in its User-Agent (a responder operator sees which release asks).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki } from '@staplewarm/responder-sim';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, REPO_ROOT, connectTestRedis, deletePrefix, runCli, testPrefix } from '@staplewarm/testing';

const release = async (): Promise<string> =>
  (JSON.parse(await readFile(join(REPO_ROOT, 'apps/staplewarm/package.json'), 'utf8')) as { version: string }).version;

describe("staplewarm's version", () => {
  it('is the release in apps/staplewarm/package.json on --version', async () => {
    const run = await runCli(['--version']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(await release());
  });

  it('is in the User-Agent of the OCSP requests warm sends', async () => {
    const seen: IncomingHttpHeaders[] = [];
    // A responder that answers every request with 500: warm fails the certificate after one attempt.
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), 'sw-version-'));
    const prefix = testPrefix('version');
    try {
      await generatePki({ dir, count: 1, ocspUrls: [`http://127.0.0.1:${port}/`] });
      const run = await runCli(['warm', '--certs', join(dir, 'live'), '--redis', REDIS_URL, '--prefix', prefix, '--json'], {
        STAPLEWARM_ATTEMPTS: '1',
      });
      expect(run.code, run.stderr).toBe(1);
      expect(seen.length).toBeGreaterThan(0);
      for (const headers of seen) expect(headers['user-agent']).toBe(`staplewarm/${await release()}`);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
      const redis = await connectTestRedis();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  });
});
