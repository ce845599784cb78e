import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { privateKeyPem } from '../../../ocsp/src/testing/index.js';
import { DAY, HOUR, MINUTE, MemorySource, exportPki, signedResponse } from '../testing/fixtures.js';
import { HaproxyDirExporter } from './haproxy-dir.js';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const p = exportPki(NOW, 3);
const MIN_VALIDITY = 15 * MINUTE;

describe('HaproxyDirExporter', () => {
  let dir: string;
  let source: MemorySource;
  let clock: number;
  const bundle = (i: number): string => {
    const cert = p.issued[i];
    if (!cert) throw new Error(`no leaf ${i}`);
    // HAProxy's usual bundle: the key first or last, the leaf, then its chain.
    return `${privateKeyPem(cert.key)}${cert.pem}${p.pki.issuer.pem}`;
  };
  const exporter = (): HaproxyDirExporter =>
    new HaproxyDirExporter({ paths: [dir], source, minValidityMs: MIN_VALIDITY, maxFileBytes: 65_536, now: () => clock });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-export-haproxy-'));
    source = new MemorySource();
    clock = NOW;
    writeFileSync(join(dir, 'a.pem'), bundle(0));
    writeFileSync(join(dir, 'b.pem'), bundle(1));
    writeFileSync(join(dir, 'c.pem'), bundle(2));
    writeFileSync(join(dir, 'c.pem.key'), 'HAProxy reads this beside c.pem; it is not a certificate');
    mkdirSync(join(dir, 'sub'));
    const [a, b] = p.leaves;
    if (!a || !b) throw new Error('leaves');
    source.set(a.fingerprint, signedResponse(p, a, { thisUpdate: NOW - HOUR, nextUpdate: NOW + 7 * DAY }));
    source.set(b.fingerprint, signedResponse(p, b, { status: 'revoked', thisUpdate: NOW - HOUR, nextUpdate: NOW + DAY }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes <crt>.ocsp beside every certificate file: the staple, or empty (HAProxy's slot for later updates)", async () => {
    const report = await exporter().syncAll();

    expect(report).toEqual({ exported: 2, revoked: 1, withdrawn: { 'no-staple': 1 }, changed: 3, failed: 0, errors: [] });
    const [a, b] = p.leaves;
    expect(readFileSync(join(dir, 'a.pem.ocsp'))).toEqual(source.staples.get(a?.fingerprint ?? '')?.der);
    expect(readFileSync(join(dir, 'b.pem.ocsp'))).toEqual(source.staples.get(b?.fingerprint ?? '')?.der);
    expect(readFileSync(join(dir, 'c.pem.ocsp'))).toHaveLength(0);
    expect(readdirSync(dir).sort()).toEqual(['a.pem', 'a.pem.ocsp', 'b.pem', 'b.pem.ocsp', 'c.pem', 'c.pem.key', 'c.pem.ocsp', 'sub']);
  });

  it('empties a .ocsp the minimum validity before its staple expires, and touches nothing unchanged', async () => {
    const haproxy = exporter();
    await haproxy.syncAll();
    expect(await haproxy.syncAll()).toMatchObject({ changed: 0 });
    expect(haproxy.nextDeadline()).toBe(NOW + DAY - MIN_VALIDITY);

    clock = NOW + DAY - MIN_VALIDITY;
    expect(await haproxy.syncDue(clock)).toMatchObject({ withdrawn: { expiring: 1 }, changed: 1 });
    expect(readFileSync(join(dir, 'b.pem.ocsp'))).toHaveLength(0);
  });

  it('forgets the deadline of a certificate file that left the directory', async () => {
    const haproxy = exporter();
    await haproxy.syncAll();
    expect(haproxy.nextDeadline()).toBe(NOW + DAY - MIN_VALIDITY);
    rmSync(join(dir, 'b.pem'));
    await haproxy.syncAll();
    expect(haproxy.nextDeadline()).toBe(NOW + 7 * DAY - MIN_VALIDITY);
  });

  it('reports a file without a certificate, too large, or not regular, by path, and exports the others', async () => {
    writeFileSync(join(dir, 'key-only.pem'), privateKeyPem(p.issued[0]?.key ?? p.pki.issuer.key));
    writeFileSync(join(dir, 'huge.pem'), Buffer.alloc(70_000, 0x41));
    const haproxy = exporter();
    const report = await haproxy.syncAll();

    expect(report.exported).toBe(2);
    expect(haproxy.problems.map((problem) => [problem.path, problem.detail])).toEqual([
      [join(dir, 'huge.pem'), '70000 bytes, more than the 65536 read'],
      [join(dir, 'key-only.pem'), 'holds no PEM CERTIFICATE block'],
    ]);
  });

  it('reads only the leaf of a bundle, and a fingerprint the scan and Redis agree on', async () => {
    const haproxy = exporter();
    await haproxy.refreshFiles();
    const [a] = p.leaves;
    if (!a) throw new Error('leaf');
    expect(await haproxy.syncFingerprints(new Set([a.fingerprint]))).toMatchObject({ exported: 1, changed: 1 });
    expect(readdirSync(dir).filter((f) => f.endsWith('.ocsp'))).toEqual(['a.pem.ocsp']);
  });
});
