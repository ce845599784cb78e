import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StapleStore } from '@staplewarm/store';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { lookupStaple } from './get.js';

// `get cert.pem` reads a file the operator names: bounded like the scanner's reads. No Redis
// command is sent for these (the file is refused first); the client never connects.
const redis = new Redis({ lazyConnect: true });
const store = new StapleStore(redis);
const dir = mkdtempSync(join(tmpdir(), 'sw-get-'));

describe('get <cert.pem>', () => {
  afterAll(() => {
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a FIFO at once instead of blocking on it', async () => {
    const fifo = join(dir, 'fifo.pem');
    execFileSync('mkfifo', [fifo]);
    await expect(lookupStaple(store, fifo)).rejects.toThrow(/not a regular file/);
  });

  it('refuses a link to a device', async () => {
    const zero = join(dir, 'zero.pem');
    symlinkSync('/dev/zero', zero);
    await expect(lookupStaple(store, zero)).rejects.toThrow(/not a regular file/);
  });

  it('refuses a file over the size cap without reading it', async () => {
    const big = join(dir, 'big.pem');
    writeFileSync(big, '');
    truncateSync(big, 5 * 1_048_576);
    await expect(lookupStaple(store, big, 1_048_576)).rejects.toThrow(/5242880 bytes, over --max-cert-file-bytes \(1048576\)/);
  });
});
