// The reader gets paths the walk saw as regular files; by the time it opens them they may be
// anything. These tests hand it FIFOs, devices, directories and growing files directly.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CertificateReader, DEFAULT_MAX_FILE_BYTES, ReadBuffer, readRegularFile } from './read.js';

// A pass-through spy on fs.readSync, to see how many bytes the reader asks for.
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof fs>();
  return { ...actual, readSync: vi.fn(actual.readSync) };
});
const readSpy = vi.mocked(fs.readSync);
/** Bytes asked for by every fs.readSync call so far (its 4th argument). */
const bytesAskedFor = () => readSpy.mock.calls.reduce((sum, call) => sum + Number((call as unknown[])[3]), 0);

describe('readRegularFile and CertificateReader.readFile', () => {
  let dir: string;
  const fifo = () => join(dir, 'pipe.pem');
  let unblocker: ChildProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-read-'));
    execFileSync('mkfifo', [fifo()]);
    symlinkSync('/dev/zero', join(dir, 'zero.pem'));
    symlinkSync('/proc/self/maps', join(dir, 'maps.pem')); // a "regular file" of size 0 that holds kilobytes
    mkdirSync(join(dir, 'dir.pem'));
    // The reader's calls are synchronous: an open that blocks would hold this thread, and the
    // test's timers, for good. This writer opens the FIFO every 2 s (each open waits for a reader),
    // so a reader that blocks is slow, and fails the test, instead of hanging the run.
    unblocker = spawn('timeout', ['300', 'sh', '-c', 'while :; do sleep 2; exec 3> "$0"; exec 3>&-; done', fifo()], { stdio: 'ignore' });
  });
  afterEach(() => readSpy.mockClear());
  afterAll(() => {
    unblocker?.kill();
    // Should a reader be stuck in open() or read() on the FIFO, a writer coming and going frees it.
    try {
      closeSync(openSync(fifo(), constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: nobody is reading it, as it should be.
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Fails when the work blocked (see the unblocker). */
  const promptly = <T>(work: () => T): T => {
    const started = performance.now();
    const result = work();
    expect(performance.now() - started).toBeLessThan(1_000);
    return result;
  };

  it.each([
    ['a FIFO with no writer', 'pipe.pem', 'a FIFO (named pipe); not read'],
    ['a link to /dev/zero', 'zero.pem', 'a character device; not read'],
    ['a directory', 'dir.pem', 'a directory; not read'],
  ])('reports %s as not-a-regular-file from fstat, promptly, reading nothing', (_what, name, detail) => {
    const path = join(dir, name);
    const result = promptly(() => new CertificateReader().readFile(path));
    expect(result).toEqual({ found: [], problem: { path, code: 'not-a-regular-file', detail } });
    expect(readSpy).not.toHaveBeenCalled();
  });

  it('reads a file of exactly the limit, and reports one byte more as too-large without reading it', () => {
    const bytes = randomBytes(4_096);
    writeFileSync(join(dir, 'at-limit.der'), bytes);
    writeFileSync(join(dir, 'over-limit.der'), Buffer.concat([bytes, Buffer.from([0])]));
    expect(readRegularFile(join(dir, 'at-limit.der'), 4_096)).toEqual({ bytes });
    expect(readRegularFile(join(dir, 'over-limit.der'), 4_096)).toEqual({
      problem: {
        path: join(dir, 'over-limit.der'),
        code: 'too-large',
        detail: '4097 bytes, over the limit of 4096 bytes (--max-cert-file-bytes / STAPLEWARM_MAX_CERT_FILE_BYTES); not read',
      },
    });
    expect(readSpy).toHaveBeenCalledTimes(1); // the file at the limit only, in one read
  });

  it('stops a file that grows past the limit after fstat at limit + 1 bytes', () => {
    // /proc/self/maps: fstat says 0 bytes, reading gives several kilobytes (the file "grew").
    const result = readRegularFile(join(dir, 'maps.pem'), 1_024);
    expect(result).toEqual({
      problem: {
        path: join(dir, 'maps.pem'),
        code: 'too-large',
        detail: 'grew while read, over the limit of 1024 bytes (--max-cert-file-bytes / STAPLEWARM_MAX_CERT_FILE_BYTES); not read',
      },
    });
    expect(bytesAskedFor()).toBe(1_025);
  });

  it('reads a file that holds more than fstat said, up to the end, when it stays under the limit', () => {
    const result = readRegularFile('/proc/self/stat', DEFAULT_MAX_FILE_BYTES);
    expect('bytes' in result && result.bytes.toString('latin1')).toMatch(new RegExp(`^${process.pid} \\(`));
    expect(bytesAskedFor()).toBeLessThan(64 * 1024);
  });

  it('reads a larger file whole, in one read', () => {
    const bytes = randomBytes(300_000);
    writeFileSync(join(dir, 'large.der'), bytes);
    const result = readRegularFile(join(dir, 'large.der'), DEFAULT_MAX_FILE_BYTES);
    expect('bytes' in result && result.bytes.equals(bytes)).toBe(true); // not toEqual: it walks 300,000 elements
    expect(readSpy).toHaveBeenCalledTimes(1);
  });

  it('reads every file into one buffer, grown to the largest file, and skips a file its caller turns down unread', () => {
    const small = randomBytes(1_000);
    const large = randomBytes(200_000);
    writeFileSync(join(dir, 'small.der'), small);
    writeFileSync(join(dir, 'large2.der'), large);
    const buffer = new ReadBuffer();
    const first = readRegularFile(join(dir, 'large2.der'), DEFAULT_MAX_FILE_BYTES, { buffer });
    const second = readRegularFile(join(dir, 'small.der'), DEFAULT_MAX_FILE_BYTES, { buffer });
    expect('bytes' in second && second.bytes.equals(small)).toBe(true);
    // The same memory: the first file's bytes were overwritten by the second's.
    expect('bytes' in first && 'bytes' in second && first.bytes.buffer === second.bytes.buffer).toBe(true);
    readSpy.mockClear();
    expect(readRegularFile(join(dir, 'small.der'), DEFAULT_MAX_FILE_BYTES, { accept: () => false })).toEqual({ skipped: true });
    expect(readSpy).not.toHaveBeenCalled();
  });

  it('reports a file gone since the walk as not-found', () => {
    const path = join(dir, 'gone.pem');
    expect(new CertificateReader().readFile(path)).toEqual({
      found: [],
      problem: { path, code: 'not-found', detail: 'no such file or directory (or a dangling symbolic link)' },
    });
  });

  it('closes every descriptor it opens, whatever the outcome', () => {
    writeFileSync(join(dir, 'garbage.pem'), 'not a certificate');
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    const reader = new CertificateReader(1_024);
    for (let i = 0; i < 20; i++) {
      for (const name of ['pipe.pem', 'zero.pem', 'dir.pem', 'maps.pem', 'garbage.pem', 'over-limit.der']) reader.readFile(join(dir, name));
      reader.readFile(join(dir, 'at-limit.der'), () => false); // turned down after fstat
    }
    expect(openFds()).toBe(before);
  });
});
