/**
 * Certificate text never drives the terminal: certificates whose SAN names (and so their certbot
 * directory names) hold a CSI colour sequence and an OSC window-title sequence, through the real CLI.
 * `warm`'s human summary lists the ones that fail (names, path, reason with the responder URL the
 * certificate gave, userinfo included), `status` and `get` show the stored ones; each shows the
 * escaped form, and no raw ESC or BEL reaches stdout or stderr. `--json` round-trips the names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki, startResponder, type PkiManifest, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, connectTestRedis, deletePrefix, freePort, runCli, testPrefix } from '@staplewarm/testing';

/** ESC [ 31 m (red) and ESC ] 0 ; title BEL (window title): lowercase, as SAN names are read. */
const EVIL = 'e\u001b[31mvil\u001b]0;pwned\u0007';
const EVIL_SHOWN = 'e\\x1b[31mvil\\x1b]0;pwned\\x07';
/** A name as the outputs show it. */
const shown = (name: string): string => name.replaceAll(EVIL, EVIL_SHOWN);
/** What a terminal acts on (newlines, which the outputs use between lines, aside). */
const RAW_CONTROL = /(?!\n)\p{Cc}/u;

const ENV = { STAPLEWARM_RESPONDER_ALLOW: '127.0.0.0/8', STAPLEWARM_ATTEMPTS: '1', STAPLEWARM_LOG_LEVEL: 'warn' };

describe('certificate text in the CLI output', () => {
  let dir: string;
  let stored: PkiManifest;
  let failing: PkiManifest;
  let responder: Responder;
  let redis: Redis;
  let deadPort: number;
  const prefix = testPrefix('escape');

  beforeAll(async () => {
    redis = await connectTestRedis();
    dir = mkdtempSync(join(tmpdir(), 'sw-escape-'));
    const port = await freePort();
    deadPort = await freePort(); // nothing listens: every fetch there fails to connect
    stored = await generatePki({ dir: join(dir, 'ok'), count: 2, domain: `${EVIL}.test`, ocspUrls: [`http://127.0.0.1:${port}/`] });
    failing = await generatePki({
      dir: join(dir, 'bad'),
      count: 1,
      domain: `${EVIL}.fail.test`,
      ocspUrls: [`http://cust:hunter22@127.0.0.1:${deadPort}/`],
      caIssuersUrl: false,
    });
    responder = await startResponder({ pkiDir: join(dir, 'ok'), port });
  });

  afterAll(async () => {
    await responder?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) => runCli([...args, '--redis', REDIS_URL, '--prefix', prefix], ENV);
  const warmArgs = () => ['warm', '--certs', join(dir, 'ok', 'live'), join(dir, 'bad', 'live'), '--rate', '0', '--force'];

  it("warm's summary shows names, paths and reasons escaped, the URL's userinfo redacted", async () => {
    const run = await cli(warmArgs());
    expect(run.code, run.stderr).toBe(1); // the failing certificate
    expect(run.stdout).toMatch(/^stored good {6}2$/m);
    const failure = run.stdout.split('\n').find((line) => line.includes('.fail.test'));
    expect(failure).toBeDefined();
    const name = failing.leaves[0]!.name;
    expect(failure).toContain(`(${shown(name)}, www.${shown(name)})`); // the names
    expect(failure).toContain(`/live/${shown(name)}/`); // the path
    expect(failure).toContain(`http://cust:***@127.0.0.1:${deadPort}/`); // the reason
    expect(`${run.stdout}${run.stderr}`).not.toMatch(RAW_CONTROL);
    expect(`${run.stdout}${run.stderr}`).not.toContain('hunter22');
  });

  it('warm --json keeps the names exactly (escaped as JSON), with nothing raw', async () => {
    const run = await cli([...warmArgs(), '--json']);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    const summary = JSON.parse(run.stdout) as { failures: { names: string[]; reason: string }[] };
    expect(summary.failures[0]?.names).toContain(failing.leaves[0]!.name);
    expect(summary.failures[0]?.reason).not.toContain('hunter22');
  });

  it('status lists the stored names escaped', async () => {
    const run = await cli(['status']);
    expect(run.code, run.stderr).toBe(0);
    for (const leaf of stored.leaves) expect(run.stdout).toContain(shown(leaf.name));
    expect(`${run.stdout}${run.stderr}`).not.toMatch(RAW_CONTROL);
  });

  it('get shows the names escaped, by fingerprint and by host name', async () => {
    const leaf = stored.leaves[0]!;
    const byFingerprint = await cli(['get', leaf.fingerprint]);
    expect(byFingerprint.code, byFingerprint.stderr).toBe(0);
    expect(byFingerprint.stdout).toContain(`names        ${shown(leaf.name)}, www.${shown(leaf.name)}`);
    expect(byFingerprint.stdout).not.toMatch(RAW_CONTROL);

    const byHost = await cli(['get', leaf.name]);
    expect(byHost.stdout).toBe(byFingerprint.stdout);

    const json = await cli(['get', leaf.fingerprint, '--json']);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect((JSON.parse(json.stdout) as { meta: { names: string[] } }).meta.names).toContain(leaf.name);
  });

  it("get's error for an unknown name shows it escaped", async () => {
    const run = await cli(['get', `nothing.${EVIL}.test`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`not-found: no certificate known for host nothing.${EVIL_SHOWN}.test`);
    expect(run.stderr).not.toMatch(RAW_CONTROL);
  });

  it('the certificates were made with the sequences in their names', () => {
    for (const leaf of [...stored.leaves, ...failing.leaves]) expect(leaf.name).toContain(EVIL);
  });
});
