/**
 * `staplewarm export nginx` and `serve --nginx-dir` against Debian's real nginx 1.22 (no Lua, no
 * ssl_stapling_responder): each server block includes the snippet the exporter writes, so nginx
 * staples the verified response from Redis from its very first handshake, a revoked one replaces it
 * after one reload, and a staple about to expire is withdrawn without breaking nginx's config.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli } from '@staplewarm/testing';
import { ServeProcess, waitFor } from '../e2e/serve-harness.js';
import { sleep } from '../openresty/processes.js';
import { handshake } from '../openresty/tls-client.js';
import { LOCAL_RESPONDERS, missingCommands, requireCommands, warmFleet, warnSkipped, type Fleet } from '../relay/harness.js';
import { sClientStatus, verifyStaple } from '../relay/staple-check.js';
import {
  NGINX,
  countLines,
  exportNginx,
  nginxConfigTest,
  startExportNginx,
  writeExportNginxConf,
  type ExportNginx,
} from './nginx-harness.js';

const missing = missingCommands([NGINX, 'openssl']);
const skip = warnSkipped('nginx export e2e', missing);

/** What nginx reads per certificate, as the exporter names them (the certbot lineage). */
function exported(dir: string, name: string): { der: string; conf: string } {
  return { der: join(dir, `${name}.der`), conf: join(dir, `${name}.conf`) };
}

/** The nginx configuration lines of a snippet (comments and blank lines left out). */
async function directives(conf: string): Promise<string[]> {
  return (await readFile(conf, 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

describe.skipIf(skip)('export nginx: ssl_stapling_file from Redis', () => {
  let redis: Redis;
  let fleet: Fleet;
  let exportDir: string;
  let nginxDir: string;
  let port: number;
  let root: Buffer;
  let nginx: ExportNginx | undefined;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    requireCommands(missing);
    redis = await connectTestRedis();
    fleet = await warmFleet({ count: 2, label: 'export-nginx' });
    exportDir = join(fleet.dir, 'export');
    nginxDir = join(fleet.dir, 'nginx');
    await mkdir(exportDir);
    port = await freePort();
    root = await readFile(fleet.rootPem);
    const sites = [0, 1].map((i) => {
      const leaf = fleet.leaf(i);
      return { name: leaf.name, fullchainPem: leaf.fullchainPem, keyPem: leaf.keyPem, include: exported(exportDir, leaf.name).conf };
    });
    await writeExportNginxConf(nginxDir, sites, port);
  }, 180_000);

  afterAll(async () => {
    await serve?.stop();
    await nginx?.stop();
    if (fleet) {
      await fleet.sim.close();
      await deletePrefix(redis, fleet.prefix);
      fleet.cleanup();
    }
    redis?.disconnect();
  });

  /** nginx on the exported files (exported first when an earlier test did not get that far). */
  async function runningNginx(): Promise<ExportNginx> {
    if (nginx) return nginx;
    const result = await exportNginx(fleet, exportDir);
    if (result.code !== 0) throw new Error(`export nginx failed (${result.code}): ${result.stdout}${result.stderr}`);
    nginx = await startExportNginx(nginxDir, port);
    return nginx;
  }

  it('the very first handshake after nginx starts is stapled', async () => {
    const reloads = join(fleet.dir, 'export-reloads');
    const first = await exportNginx(fleet, exportDir, { reloadCommand: `echo x >> ${reloads}` });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(`nginx -> ${exportDir}: 2 exported, 0 not exported, 2 changed`);
    expect(first.stdout).toMatch(/^ {2}reload: done in \d+ ms$/m);
    expect(await countLines(reloads)).toBe(1);

    const names = [0, 1].map((i) => fleet.leaf(i).name);
    // Only the two files per certificate: no temporary file left behind.
    expect((await readdir(exportDir)).sort()).toEqual(names.flatMap((name) => [`${name}.conf`, `${name}.der`]).sort());
    for (const i of [0, 1]) {
      const leaf = fleet.leaf(i);
      const files = exported(exportDir, leaf.name);
      expect(await readFile(files.der)).toEqual(await redis.getBuffer(`${fleet.prefix}staple:${leaf.fingerprint}`));
      expect(await directives(files.conf)).toEqual([`ssl_stapling_file "${files.der}";`]);
    }

    // Nothing changed in Redis: the same run rewrites nothing and does not reload.
    const before = await Promise.all(names.flatMap((name) => Object.values(exported(exportDir, name)).map((f) => stat(f))));
    const second = await exportNginx(fleet, exportDir, { reloadCommand: `echo x >> ${reloads}`, json: true });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const runs = JSON.parse(second.stdout) as { kind: string; target: string; report: Record<string, unknown>; reload: unknown }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      kind: 'nginx',
      target: exportDir,
      report: { exported: 2, revoked: 0, changed: 0, failed: 0, withdrawn: {}, errors: [] },
      reload: 'not-needed',
    });
    expect(await countLines(reloads)).toBe(1);
    const after = await Promise.all(names.flatMap((name) => Object.values(exported(exportDir, name)).map((f) => stat(f))));
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));

    expect((await nginxConfigTest(nginxDir)).code).toBe(0);
    nginx = await startExportNginx(nginxDir, port);
    for (const i of [0, 1]) {
      const leaf = fleet.leaf(i);
      // One handshake, no retry: nginx read the file at startup, it does not fetch lazily.
      const got = await handshake(port, leaf.name, root);
      expect(got.fingerprint).toBe(leaf.fingerprint);
      expect(got.staple, `no staple on the first handshake for ${leaf.name}\n${await nginx.errorLog()}`).not.toBeNull();
      const staple = got.staple as unknown as Buffer;
      expect(staple).toEqual(await readFile(exported(exportDir, leaf.name).der));
      const verified = await verifyStaple(fleet, i, staple);
      expect(verified).toContain('Response verify OK');
      expect(verified).toContain(`${leaf.certPem}: good`);
    }
    const seen = await sClientStatus(port, fleet.leaf(0).name, fleet.rootPem);
    expect(seen.output).toContain('OCSP Response Status: successful');
    expect(seen.verified, seen.output).toBe(true);
    expect(seen.certStatus, seen.output).toBe('good');
    expect(await nginx.errorLog()).not.toMatch(/\[(emerg|alert|crit)\]|ssl_stapling.*ignored/);
  }, 120_000);

  it('serve re-exports a changed staple and reloads nginx once', async () => {
    const server = await runningNginx();
    const [leaf0, leaf1] = [fleet.leaf(0), fleet.leaf(1)];
    const live = join(fleet.pkiDir, 'live');
    const good = (await handshake(port, leaf0.name, root)).staple;
    expect(good, 'nginx staples leaf 0 before the change').not.toBeNull();

    const reloads = join(fleet.dir, 'serve-reloads');
    serve = new ServeProcess(
      [
        '--certs',
        live,
        '--prefix',
        fleet.prefix,
        '--rate',
        '0',
        '--nginx-dir',
        exportDir,
        '--nginx-reload-command',
        `kill -HUP ${server.pid}; echo x >> ${reloads}`,
      ],
      LOCAL_RESPONDERS,
    );
    const running = serve;
    await waitFor(async () => running.logs.find((l) => l.msg === 'serve: running'), 30_000, `serve to start\n${running.stderr}`);
    // Its first pass found the files current: no reload (the reload would come after the debounce).
    await sleep(1_500);
    expect(await countLines(reloads), running.stderr).toBe(0);

    fleet.sim.setRevoked([leaf0.serial]);
    const warm = await runCli(
      ['warm', '--certs', live, '--force', '--redis', REDIS_URL, '--prefix', fleet.prefix, '--rate', '0', '--json'],
      LOCAL_RESPONDERS,
      60_000,
    );
    const warmed = performance.now();
    expect(warm.code, warm.stdout + warm.stderr).toBe(0);
    expect(await redis.hget(`${fleet.prefix}meta:${leaf0.fingerprint}`, 'status')).toBe('revoked');

    let revoked: Buffer | undefined;
    let handshakes = 0;
    const deadline = Date.now() + 20_000;
    while (!revoked && Date.now() < deadline) {
      handshakes++;
      const staple = await handshake(port, leaf0.name, root).then(
        (got) => got.staple,
        () => null, // a connection cut while the old workers shut down: try again
      );
      if (staple && good && !staple.equals(good) && (await verifyStaple(fleet, 0, staple)).includes(`${leaf0.certPem}: revoked`)) {
        revoked = staple;
        break;
      }
      await sleep(100);
    }
    const seconds = (performance.now() - warmed) / 1000;
    expect(revoked, `nginx never stapled the revoked response\n${running.stderr}\n${await server.errorLog()}`).toBeDefined();
    console.log(
      `nginx export e2e: ${seconds.toFixed(2)} s from the end of warm --force to the first handshake stapling the revoked response (${handshakes} handshakes)`,
    );
    expect(revoked).toEqual(await readFile(exported(exportDir, leaf0.name).der));
    expect(revoked).toEqual(await redis.getBuffer(`${fleet.prefix}staple:${leaf0.fingerprint}`));

    // Both certificates were written by the warm: one batch, one reload (two at most, split across
    // a batch boundary), never one per certificate. Wait out another debounce for a late one.
    await sleep(2_500);
    const count = await countLines(reloads);
    expect(count, running.stderr).toBeGreaterThanOrEqual(1);
    expect(count, running.stderr).toBeLessThanOrEqual(2);
    expect(running.logs.filter((l) => l.msg === 'export nginx: reloaded')).toHaveLength(count);

    const other = await handshake(port, leaf1.name, root);
    expect(other.fingerprint).toBe(leaf1.fingerprint);
    expect(other.staple, 'leaf 1 is still stapled').not.toBeNull();
    const otherStaple = other.staple as unknown as Buffer;
    expect(await verifyStaple(fleet, 1, otherStaple)).toContain(`${leaf1.certPem}: good`);
    expect(otherStaple).toEqual(await readFile(exported(exportDir, leaf1.name).der));
    expect(await server.errorLog()).not.toMatch(/\[(emerg|alert|crit)\]/);

    expect(await running.stop()).toBe(0);
  }, 120_000);
});

describe.skipIf(skip)('export nginx: a staple about to expire', () => {
  let redis: Redis;
  let fleet: Fleet;
  let nginx: ExportNginx | undefined;
  let simClosed = false;

  beforeAll(async () => {
    requireCommands(missing);
    redis = await connectTestRedis();
    // Responses valid one hour: ~59 minutes left after the warm.
    fleet = await warmFleet({ count: 1, label: 'expiring', validityHours: 1 });
  }, 180_000);

  afterAll(async () => {
    await nginx?.stop();
    if (fleet) {
      if (!simClosed) await fleet.sim.close();
      await deletePrefix(redis, fleet.prefix);
      fleet.cleanup();
    }
    redis?.disconnect();
  });

  it('a staple about to expire is withdrawn and nginx still starts', async () => {
    const leaf = fleet.leaf(0);
    const exportDir = join(fleet.dir, 'export');
    const nginxDir = join(fleet.dir, 'nginx');
    await mkdir(exportDir);
    const files = exported(exportDir, leaf.name);
    const reloads = join(fleet.dir, 'reloads');

    // With the default minimum (900 s) the staple is handed over...
    const before = await exportNginx(fleet, exportDir, { reloadCommand: `echo x >> ${reloads}` });
    expect(before.code, before.stdout + before.stderr).toBe(0);
    expect(before.stdout).toContain(`nginx -> ${exportDir}: 1 exported, 0 not exported, 1 changed`);
    expect(existsSync(files.der)).toBe(true);
    expect(await directives(files.conf)).toEqual([`ssl_stapling_file "${files.der}";`]);

    // ...with an hour required, it is about to expire: withdrawn, and nginx reloaded once.
    const result = await exportNginx(fleet, exportDir, {
      reloadCommand: `echo x >> ${reloads}`,
      env: { STAPLEWARM_EXPORT_MIN_VALIDITY: '3600' },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`nginx -> ${exportDir}: 0 exported, 1 not exported (expiring 1), 1 changed`);
    expect(result.stdout).toMatch(/^ {2}reload: done in \d+ ms$/m);
    expect(await countLines(reloads)).toBe(2);
    expect(await readFile(files.conf, 'utf8')).not.toContain('ssl_stapling_file');
    expect(await directives(files.conf)).toEqual([]);
    expect(existsSync(files.der)).toBe(false);
    // Withdrawn from nginx, not from Redis (OpenResty and the relay still serve it until it expires).
    expect(await redis.exists(`${fleet.prefix}staple:${leaf.fingerprint}`)).toBe(1);

    // Without its own staple nginx would fetch from the certificate's OCSP URL: take the responder
    // away, so whatever is stapled could only come from a file.
    await fleet.sim.close();
    simClosed = true;
    const port = await freePort();
    await writeExportNginxConf(
      nginxDir,
      [{ name: leaf.name, fullchainPem: leaf.fullchainPem, keyPem: leaf.keyPem, include: files.conf }],
      port,
    );
    const check = await nginxConfigTest(nginxDir);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stderr).toContain('test is successful');
    nginx = await startExportNginx(nginxDir, port);
    const root = await readFile(fleet.rootPem);
    for (let i = 0; i < 3; i++) {
      const got = await handshake(port, leaf.name, root);
      expect(got.fingerprint).toBe(leaf.fingerprint);
      expect(got.staple, `handshake ${i + 1} carried a staple`).toBeNull();
      await sleep(300);
    }
    expect(await nginx.errorLog()).not.toMatch(/\[(emerg|alert|crit)\]/);
  }, 120_000);
});
