import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePki, type PkiManifest } from '@staplewarm/responder-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanForServe } from './scan-targets.js';

describe('scanForServe', () => {
  let dir: string;
  let manifest: PkiManifest;
  let storeA: string;
  let storeB: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sw-scan-targets-'));
    manifest = await generatePki({ dir: join(dir, 'pki'), count: 5, ocspUrls: ['http://127.0.0.1:9/'] });
    storeA = join(dir, 'a');
    storeB = join(dir, 'b');
    const lineage = (i: number) => join(dir, 'pki', manifest.leaves[i]?.dir ?? '');
    for (const i of [0, 1, 2])
      cpSync(lineage(i), join(storeA, manifest.leaves[i]?.name ?? ''), { recursive: true, verbatimSymlinks: true });
    for (const i of [3, 4]) cpSync(lineage(i), join(storeB, manifest.leaves[i]?.name ?? ''), { recursive: true, verbatimSymlinks: true });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('drops removed certificates but carries those of a store that cannot be read at all', async () => {
    const options = { now: Date.now(), hash: 'sha1' as const };
    const first = await scanForServe([storeA, storeB], new Map(), options);
    expect(first.targets).toHaveLength(5);
    expect(first).toMatchObject({ unreadableStores: [], carried: 0 });

    rmSync(join(storeA, manifest.leaves[0]?.name ?? ''), { recursive: true });
    renameSync(storeB, `${storeB}.unmounted`);
    const previous = new Map(first.targets.map((t) => [t.fingerprint, t]));
    const second = await scanForServe([storeA, storeB], previous, options);
    expect(second.unreadableStores).toEqual([storeB]);
    expect(second.carried).toBe(2);
    expect(second.targets.map((t) => t.fingerprint).sort()).toEqual(
      manifest.leaves
        .slice(1)
        .map((l) => l.fingerprint)
        .sort(),
    );

    renameSync(`${storeB}.unmounted`, storeB);
    const third = await scanForServe([storeA, storeB], new Map(second.targets.map((t) => [t.fingerprint, t])), options);
    expect(third).toMatchObject({ unreadableStores: [], carried: 0 });
    expect(third.targets).toHaveLength(4);
  });
});
