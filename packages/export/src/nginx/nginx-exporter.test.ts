import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExportError } from '../errors.js';
import { Reloader } from '../reload.js';
import { DAY, HOUR, MINUTE, MemorySource, exportPki, signedResponse } from '../testing/fixtures.js';
import { NginxExporter } from './nginx-exporter.js';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const p = exportPki(NOW, 3);
const [a, b, c] = p.leaves as [NonNullable<(typeof p.leaves)[0]>, NonNullable<(typeof p.leaves)[0]>, NonNullable<(typeof p.leaves)[0]>];
const MIN_VALIDITY = 15 * MINUTE;

describe('NginxExporter', () => {
  let dir: string;
  let source: MemorySource;
  let clock: number;
  let reloads: string;
  let reloader: Reloader;
  let exporter: NginxExporter;

  const certs = [
    { fingerprint: a.fingerprint, paths: ['/le/live/a.test/cert.pem', '/le/live/a.test/fullchain.pem'] },
    { fingerprint: b.fingerprint, paths: ['/le/live/b.test/fullchain.pem'] },
  ];
  const reloadCount = (): number => (existsSync(reloads) ? readFileSync(reloads, 'utf8').split('\n').filter(Boolean).length : 0);
  const snippet = (name: string): string => readFileSync(exporter.snippetFile(name), 'utf8');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sw-export-nginx-'));
    reloads = join(dir, 'reloads');
    source = new MemorySource();
    clock = NOW;
    reloader = new Reloader({ command: `echo reload >> '${reloads}'`, debounceMs: 10_000 });
    exporter = new NginxExporter({ dir: join(dir, 'out'), source, reloader, minValidityMs: MIN_VALIDITY, now: () => clock });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'out')));
    await exporter.open();
    source.set(a.fingerprint, signedResponse(p, a, { thisUpdate: NOW - HOUR, nextUpdate: NOW + 7 * DAY }));
    source.set(b.fingerprint, signedResponse(p, b, { status: 'revoked', thisUpdate: NOW - HOUR, nextUpdate: NOW + 2 * DAY }));
  });

  afterEach(async () => {
    await exporter.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes each staple and the snippet pointing at it, then reloads once for the batch', async () => {
    expect(exporter.setCertificates(certs)).toEqual({ problems: [], changedNames: ['a.test', 'b.test'] });
    const report = await exporter.syncAll();

    expect(report).toEqual({ exported: 2, revoked: 1, withdrawn: {}, changed: 2, failed: 0, errors: [] });
    expect(readFileSync(exporter.stapleFile('a.test'))).toEqual(source.staples.get(a.fingerprint)?.der);
    expect(readFileSync(exporter.stapleFile('b.test'))).toEqual(source.staples.get(b.fingerprint)?.der);
    expect(snippet('a.test')).toContain(`ssl_stapling_file "${join(dir, 'out', 'a.test.der')}";\n`);
    expect(reloader.pending).toBe(true);
    expect(await exporter.flushReload()).toMatchObject({ ok: true });
    expect(reloadCount()).toBe(1);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['a.test.conf', 'a.test.der', 'b.test.conf', 'b.test.der']);

    // Nothing changed: no file touched, no reload asked for.
    expect(await exporter.syncAll()).toMatchObject({ exported: 2, changed: 0 });
    expect(reloader.pending).toBe(false);
  });

  it('rewrites only the changed staple when the change feed names it', async () => {
    exporter.setCertificates(certs);
    await exporter.syncAll();
    await exporter.flushReload();
    const newer = signedResponse(p, a, { thisUpdate: NOW, nextUpdate: NOW + 7 * DAY + HOUR });
    source.set(a.fingerprint, newer);
    source.reads = 0;

    expect(await exporter.syncFingerprints(new Set([a.fingerprint, 'f'.repeat(64)]))).toMatchObject({ exported: 1, changed: 1 });
    expect(source.reads).toBe(1);
    expect(readFileSync(exporter.stapleFile('a.test'))).toEqual(newer);
    await exporter.flushReload();
    expect(reloadCount()).toBe(2);
  });

  it('withdraws a staple the minimum validity before it expires, unless a newer one came', async () => {
    exporter.setCertificates(certs);
    await exporter.syncAll();
    expect(exporter.nextDeadline()).toBe(NOW + 2 * DAY - MIN_VALIDITY);

    clock = NOW + 2 * DAY - MIN_VALIDITY - 1;
    expect(await exporter.syncDue(clock)).toMatchObject({ exported: 0, changed: 0 });
    clock += 1;
    expect(await exporter.syncDue(clock)).toMatchObject({ withdrawn: { expiring: 1 }, changed: 1 });

    expect(snippet('b.test')).not.toContain('ssl_stapling_file');
    expect(snippet('b.test')).toMatch(/^# staplewarm export b\.test: no staple/);
    expect(existsSync(exporter.stapleFile('b.test'))).toBe(false);
    expect(exporter.nextDeadline()).toBe(NOW + 7 * DAY - MIN_VALIDITY);
    expect(reloader.pending).toBe(true);
  });

  it('withdraws when Redis has no staple, and exports again when one arrives', async () => {
    exporter.setCertificates(certs);
    source.staples.delete(a.fingerprint);
    expect(await exporter.syncAll()).toMatchObject({ exported: 1, withdrawn: { 'no-staple': 1 } });
    expect(snippet('a.test')).not.toContain('ssl_stapling_file');

    source.set(a.fingerprint, signedResponse(p, a, { thisUpdate: NOW, nextUpdate: NOW + DAY }));
    expect(await exporter.syncFingerprints(new Set([a.fingerprint]))).toMatchObject({ exported: 1, changed: 1 });
    expect(snippet('a.test')).toContain('ssl_stapling_file');
  });

  it('a renewed certificate under the same name is withdrawn until its own staple arrives; a removed one is withdrawn', async () => {
    exporter.setCertificates(certs);
    await exporter.syncAll();
    // a.test renewed (certificate c in the same lineage); b.test removed from the stores.
    const { changedNames } = exporter.setCertificates([{ fingerprint: c.fingerprint, paths: ['/le/live/a.test/fullchain.pem'] }]);
    expect(changedNames.sort()).toEqual(['a.test', 'b.test']);

    expect(await exporter.syncNames(changedNames)).toMatchObject({ exported: 0, withdrawn: { 'no-staple': 1, retired: 1 }, changed: 2 });
    expect(existsSync(exporter.stapleFile('a.test'))).toBe(false);
    expect(snippet('b.test')).not.toContain('ssl_stapling_file');
    expect(exporter.nextDeadline()).toBeUndefined();
  });

  it('gives a certificate without an OCSP URL a snippet that says so, so every server block can include one', async () => {
    exporter.setCertificates([
      ...certs,
      { fingerprint: c.fingerprint, paths: ['/le/live/short-lived.test/fullchain.pem'], noOcspUrl: true },
    ]);
    source.reads = 0;
    expect(await exporter.syncAll()).toMatchObject({ exported: 2, withdrawn: { 'no-ocsp-url': 1 }, changed: 3 });
    expect(source.reads).toBe(2);
    expect(snippet('short-lived.test')).toBe(
      '# staplewarm export short-lived.test: the certificate names no OCSP responder; nothing to staple\n',
    );
    expect(existsSync(exporter.stapleFile('short-lived.test'))).toBe(false);
  });

  it('refuses a directory nginx could not quote, and a missing one', async () => {
    expect(() => new NginxExporter({ dir: '/tmp/a"b', source, minValidityMs: MIN_VALIDITY, now: () => NOW })).toThrow(ExportError);
    expect(() => new NginxExporter({ dir: '/tmp/$x', source, minValidityMs: MIN_VALIDITY, now: () => NOW })).toThrow(/cannot quote/);
    const missing = new NginxExporter({ dir: join(dir, 'missing'), source, minValidityMs: MIN_VALIDITY, now: () => NOW });
    await expect(missing.open()).rejects.toMatchObject({ code: 'bad-dir' });
  });

  it('replaces a FIFO or a symlink planted where an export goes, without reading through it', async () => {
    exporter.setCertificates(certs);
    execFileSync('mkfifo', [exporter.stapleFile('a.test')]);
    const outside = join(dir, 'outside.conf');
    writeFileSync(outside, 'keep me\n');
    symlinkSync(outside, exporter.snippetFile('a.test'));

    expect(await exporter.syncAll()).toMatchObject({ exported: 2, failed: 0 });
    expect(lstatSync(exporter.stapleFile('a.test')).isFile()).toBe(true);
    expect(lstatSync(exporter.snippetFile('a.test')).isFile()).toBe(true);
    expect(snippet('a.test')).toContain('ssl_stapling_file');
    expect(readFileSync(outside, 'utf8')).toBe('keep me\n');
  });

  it('counts a file it cannot write as failed and goes on with the others', async () => {
    exporter.setCertificates(certs);
    // A directory where a.test's staple file should go: the rename over it fails.
    await import('node:fs/promises').then((fs) => fs.mkdir(exporter.stapleFile('a.test')));
    const report = await exporter.syncAll();
    expect(report).toMatchObject({ exported: 1, failed: 1 });
    expect(report.errors[0]).toMatch(/^a\.test: cannot write .*a\.test\.der/);
    expect(readdirSync(join(dir, 'out')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
