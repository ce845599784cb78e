/**
 * One broken file never stops the others: a directory mixing good certificates with every kind of
 * bad input. Good ones are warmed; every bad file is reported by path and reason; no key bytes leak.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOpensslPki } from '@staplewarm/testing';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, startOpensslResponder, testPrefix } from '@staplewarm/testing';

interface Summary {
  stored: { good: number; revoked: number };
  noOcspUrl: number;
  problems: { path: string; code: string; detail: string }[];
  complete: boolean;
}

describe('warm over a directory of good and bad input', () => {
  let dir: string;
  let certs: string;
  let responder: { stop: () => void };
  let redis: Redis;
  let keyBody: string;
  const prefix = testPrefix('badinput');

  beforeAll(async () => {
    redis = await connectTestRedis();
    dir = mkdtempSync(join(tmpdir(), 'sw-bad-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const pki = makeOpensslPki(join(dir, 'pki'), [
      { name: 'good1.test', ocspUrls: [url] },
      { name: 'good2.test', ocspUrls: ['ldap://ldap.example.test/ocsp', url] },
      { name: 'noaia.test', ocspUrls: [] },
      { name: 'ldap.test', ocspUrls: ['ldap://ldap.example.test/ocsp'] },
      { name: 'orphan.test', ocspUrls: [url] },
      { name: 'expired.test', ocspUrls: [url], expired: true },
    ]);
    certs = join(dir, 'certs');
    mkdirSync(join(certs, 'ca'), { recursive: true });
    const leaf = (name: string) => pki.leaves.get(name) as string;
    copyFileSync(pki.issuerPem, join(certs, 'ca', 'issuer.crt'));
    copyFileSync(leaf('good1.test'), join(certs, 'good1.pem'));
    copyFileSync(leaf('good2.test'), join(certs, 'good2.crt'));
    copyFileSync(leaf('noaia.test'), join(certs, 'noaia.pem'));
    copyFileSync(leaf('ldap.test'), join(certs, 'ldap.pem'));
    copyFileSync(leaf('expired.test'), join(certs, 'expired.pem'));
    // a bundle whose issuer is nowhere in the scan: a leaf of another CA
    const other = makeOpensslPki(join(dir, 'other'), [{ name: 'orphan.test', ocspUrls: [url] }]);
    copyFileSync(other.leaves.get('orphan.test') as string, join(certs, 'orphan-bundle.pem'));
    writeFileSync(join(certs, 'garbage.pem'), 'this is not a certificate\n');
    writeFileSync(join(certs, 'truncated.crt'), readFileSync(leaf('good1.test'), 'utf8').slice(0, 400));
    // a private key under a certificate name: must be skipped, its bytes never printed
    copyFileSync(join(dir, 'pki', 'leaf.key'), join(certs, 'server.pem'));
    keyBody = readFileSync(join(certs, 'server.pem'), 'utf8').split('\n')[1] ?? '';
    writeFileSync(join(certs, 'unreadable.pem'), readFileSync(leaf('good1.test')));
    chmodSync(join(certs, 'unreadable.pem'), 0o000);
    symlinkSync('loop-b.pem', join(certs, 'loop-a.pem'));
    symlinkSync('loop-a.pem', join(certs, 'loop-b.pem'));
    symlinkSync('..', join(certs, 'ca', 'parent')); // a directory loop
    responder = await startOpensslResponder(pki, port);
  });

  afterAll(async () => {
    responder?.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warms the good ones and reports every bad file by path and reason', async () => {
    const run = await runCli(['warm', '--certs', certs, '--redis', REDIS_URL, '--prefix', prefix, '--json']);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.stored.good).toBe(2);
    expect(summary.noOcspUrl).toBe(1);
    const reasons = Object.fromEntries(summary.problems.map((p) => [p.path.slice(certs.length + 1), p.code]));
    const expected: Record<string, string> = {
      'ldap.pem': 'non-http-ocsp-url',
      'orphan-bundle.pem': 'no-issuer',
      'expired.pem': 'expired',
      'garbage.pem': 'not-a-certificate',
      'truncated.crt': 'not-a-certificate',
      'server.pem': 'private-key',
      'loop-a.pem': 'symlink-loop',
      'loop-b.pem': 'symlink-loop',
    };
    // root can read a 0o000 file; only an unprivileged run sees it as unreadable
    if (process.getuid?.() !== 0) expected['unreadable.pem'] = 'unreadable';
    expect(reasons).toMatchObject(expected);
    expect(summary.complete).toBe(false);
    expect(run.code).toBe(1);
    for (const output of [run.stdout, run.stderr]) {
      expect(output).not.toContain('PRIVATE KEY');
      expect(output).not.toContain(keyBody);
    }
    const human = await runCli(['warm', '--certs', certs, '--redis', REDIS_URL, '--prefix', prefix]);
    expect(human.stdout).toContain(join(certs, 'garbage.pem'));
    expect(human.stdout).toMatch(/result: NOT every certificate was warmed/);
    expect(human.stdout).not.toContain(keyBody);
  });
});
