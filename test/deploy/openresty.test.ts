/**
 * The compose stack's OpenResty config (deploy/openresty) on Debian's nginx + Lua module, the
 * stand-in for OpenResty: `nginx -t` passes, and a real start configures resty.staple from the
 * same environment variables compose sets and staples an OCSP response that is in Redis.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOpensslPki, type OpensslPki } from '@staplewarm/testing';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, testPrefix } from '@staplewarm/testing';
import { type LocalOpenresty, OPENRESTY_DIR, nginxArgs, startNginx, writeLocalConfig } from './openresty.js';
import { TOOLS, missing, run } from './tools.js';

const SITE = 'site.test';

describe.skipIf(missing(TOOLS.nginx, TOOLS.openssl))('deploy/openresty on nginx + Lua', () => {
  let dir: string;
  let pki: OpensslPki;
  let local: LocalOpenresty;
  let conf: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sw-deploy-openresty-'));
    pki = makeOpensslPki(path.join(dir, 'pki'), [{ name: SITE, ocspUrls: ['http://127.0.0.1:9/'] }]);
    // What entrypoint.sh links as the default certificate: a certbot-style folder.
    const defaultCert = path.join(dir, 'certs', 'default');
    mkdirSync(defaultCert, { recursive: true });
    const leaf = pki.leaves.get(SITE) as string;
    writeFileSync(path.join(defaultCert, 'fullchain.pem'), readFileSync(leaf, 'utf8') + readFileSync(pki.issuerPem, 'utf8'));
    copyFileSync(path.join(pki.dir, 'leaf.key'), path.join(defaultCert, 'privkey.pem'));
    local = { dir: path.join(dir, 'nginx'), defaultCert, httpsPort: await freePort(), healthPort: await freePort() };
    conf = writeLocalConfig(local);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes nginx -t', () => {
    const result = run('nginx', ['-t', ...nginxArgs(local, conf)]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('test is successful');
  });

  it('links the default certificate at the path the default server reads', () => {
    const entrypoint = readFileSync(path.join(OPENRESTY_DIR, 'entrypoint.sh'), 'utf8');
    const site = readFileSync(path.join(OPENRESTY_DIR, 'conf.d/default.conf'), 'utf8');
    const target = /^target=(\S+)$/m.exec(entrypoint)?.[1];
    expect(target).toBeDefined();
    expect(site).toContain(`ssl_certificate     ${target}/fullchain.pem;`);
    expect(site).toContain(`ssl_certificate_key ${target}/privkey.pem;`);
  });

  describe('running, against Redis', () => {
    let redis: Redis;
    const prefix = testPrefix('deploy-openresty');

    beforeAll(async () => {
      redis = await connectTestRedis();
    });

    afterAll(async () => {
      if (!redis) return;
      await deletePrefix(redis, prefix);
      redis.disconnect();
    });

    it('configures resty.staple from the compose environment and staples from Redis', async () => {
      const leafPem = pki.leaves.get(SITE) as string;
      const fingerprint = new X509Certificate(readFileSync(leafPem)).fingerprint256.replaceAll(':', '').toLowerCase();
      // A real OCSP response for the leaf, made by openssl's own responder code (no network).
      const response = path.join(dir, 'response.der');
      const made = run(
        'openssl',
        [
          'ocsp',
          '-index',
          pki.indexTxt,
          '-rsigner',
          pki.signerPem,
          '-rkey',
          pki.signerKey,
          '-CA',
          pki.issuerPem,
          '-issuer',
          pki.issuerPem,
          '-cert',
          leafPem,
          '-respout',
          response,
          '-ndays',
          '7',
        ],
        { cwd: pki.dir },
      );
      expect(made.status, made.stderr).toBe(0);
      await redis.set(`${prefix}staple:${fingerprint}`, readFileSync(response), 'PX', 6 * 86_400_000);

      const url = new URL(REDIS_URL);
      const nginx = await startNginx(local, conf, {
        ...process.env,
        STAPLE_REDIS_HOST: url.hostname,
        STAPLE_REDIS_PORT: url.port || '6379',
        REDIS_PASSWORD: decodeURIComponent(url.password),
        STAPLEWARM_PREFIX: prefix,
      });
      try {
        const health = await fetch(`http://127.0.0.1:${local.healthPort}/healthz`);
        expect(await health.text()).toBe('ok\n');

        const client = run(
          'openssl',
          ['s_client', '-connect', `127.0.0.1:${local.httpsPort}`, '-servername', SITE, '-status', '-CAfile', pki.rootPem],
          { input: '' },
        );
        const output = `${client.stdout}${client.stderr}`;
        expect(output, nginx.errorLog()).toContain('OCSP Response Status: successful');
        expect(output).toContain('Cert Status: good');
        expect(output).toContain('Verify return code: 0 (ok)');
      } finally {
        await nginx.stop();
      }
    });
  });
});
