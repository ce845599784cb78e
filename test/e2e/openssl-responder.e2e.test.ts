/**
 * staplewarm against peers it did not write: a PKI made by the openssl CLI, served by
 * `openssl ocsp -index` (RSA, delegated signer), and every stored staple checked by `openssl ocsp -respin`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOpensslPki, type OpensslPki } from '@staplewarm/testing';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, startOpensslResponder, testPrefix } from '@staplewarm/testing';

describe('warm against openssl ocsp', () => {
  let dir: string;
  let pki: OpensslPki;
  let responder: { stop: () => void };
  let redis: Redis;
  const prefix = testPrefix('openssl');

  beforeAll(async () => {
    redis = await connectTestRedis();
    dir = mkdtempSync(join(tmpdir(), 'sw-openssl-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    pki = makeOpensslPki(dir, [
      { name: 'good1.test', ocspUrls: [url] },
      { name: 'good2.test', ocspUrls: [url], mustStaple: true },
      { name: 'revoked.test', ocspUrls: [url], revoked: true },
    ]);
    // certbot-like layout: leaf + chain in one bundle per site
    for (const [name, path] of pki.leaves) {
      execFileSync('sh', ['-c', `mkdir -p live/${name} && cat ${path} issuer.pem > live/${name}/fullchain.pem`], { cwd: dir });
    }
    responder = await startOpensslResponder(pki, port);
  });

  afterAll(async () => {
    responder?.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores staples that openssl verifies, revoked included', async () => {
    const run = await runCli(['warm', '--certs', join(dir, 'live'), '--redis', REDIS_URL, '--prefix', prefix, '--json']);
    expect(run.stderr).not.toMatch(/PRIVATE KEY/);
    const summary = JSON.parse(run.stdout) as { stored: { good: number; revoked: number }; complete: boolean };
    expect(summary.stored).toEqual({ good: 2, revoked: 1 });
    expect(summary.complete).toBe(true);
    expect(run.code).toBe(0);

    for (const [name, certPath] of pki.leaves) {
      const fp = (await redis.get(`${prefix}host:${name}`)) ?? '';
      expect(fp).toMatch(/^[0-9a-f]{64}$/);
      const der = await redis.getBuffer(`${prefix}staple:${fp}`);
      expect(der).not.toBeNull();
      const respPath = join(dir, `${name}.resp.der`);
      writeFileSync(respPath, der as Buffer);
      const out = execFileSync(
        'openssl',
        ['ocsp', '-respin', respPath, '-CAfile', pki.rootPem, '-issuer', pki.issuerPem, '-cert', certPath],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(out).toContain(`${certPath}: ${name === 'revoked.test' ? 'revoked' : 'good'}`);
      expect(await redis.hget(`${prefix}meta:${fp}`, 'status')).toBe(name === 'revoked.test' ? 'revoked' : 'good');
    }
    const fp2 = (await redis.get(`${prefix}host:good2.test`)) ?? '';
    expect(await redis.hget(`${prefix}meta:${fp2}`, 'mustStaple')).toBe('1');
  });

  it('skips fresh staples on a second run, fetches again with --force', async () => {
    const again = JSON.parse(
      (await runCli(['warm', '--certs', join(dir, 'live'), '--redis', REDIS_URL, '--prefix', prefix, '--json'])).stdout,
    ) as { fresh: number; fetched: number };
    expect(again).toMatchObject({ fresh: 3, fetched: 0 });
    const forced = JSON.parse(
      (await runCli(['warm', '--certs', join(dir, 'live'), '--redis', REDIS_URL, '--prefix', prefix, '--json', '--force'])).stdout,
    ) as { fetched: number; complete: boolean };
    expect(forced).toMatchObject({ fetched: 3, complete: true });
  });

  it('writes the cold-start figures for node_exporter with --textfile', async () => {
    const path = join(dir, 'staplewarm.prom');
    const run = await runCli([
      'warm',
      '--certs',
      join(dir, 'live'),
      '--redis',
      REDIS_URL,
      '--prefix',
      prefix,
      '--force',
      '--textfile',
      path,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const text = readFileSync(path, 'utf8');
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('staplewarm_coldstart_seconds')).toBeGreaterThan(0);
    expect(value('staplewarm_coldstart_progress_ratio')).toBe(1);
    expect(value('staplewarm_certificates{state="stapled_good"}')).toBe(2);
    expect(value('staplewarm_certificates{state="stapled_revoked"}')).toBe(1);
  });
});
