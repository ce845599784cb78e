import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, SEMI_SPACE_MB, heapGrowingFlag, youngGenerationArgs } from './heap.js';

describe('heapGrowingFlag', () => {
  it('sets the heap growing factor unless node was started with one, in either spelling', () => {
    expect(heapGrowingFlag([])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowingFlag(['--enable-source-maps'])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowingFlag(['--heap-growing-percent=50'])).toBeUndefined();
    expect(heapGrowingFlag(['--heap_growing_percent=50'])).toBeUndefined();
    expect(heapGrowingFlag(['--heap-growing-percent', '50'])).toBeUndefined();
    // Another flag that merely starts alike is not the user's choice of this one.
    expect(heapGrowingFlag(['--heap-growing-percentage=50'])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });
});

describe('youngGenerationArgs', () => {
  const cap = [`--max-semi-space-size=${SEMI_SPACE_MB}`];
  it('caps the semi-space on Node 22 and later, unless the user chose a size on the command line or in NODE_OPTIONS', () => {
    expect(youngGenerationArgs([], undefined, 24)).toEqual(cap);
    expect(youngGenerationArgs(['--enable-source-maps'], '--max-old-space-size=4096', 22)).toEqual(cap);
    expect(youngGenerationArgs(['--max-semi-space-size=32'], undefined, 24)).toBeUndefined();
    expect(youngGenerationArgs(['--max_semi_space_size', '32'], undefined, 24)).toBeUndefined();
    expect(youngGenerationArgs([], '--max-old-space-size=4096 --max-semi-space-size=8', 24)).toBeUndefined();
  });

  it('leaves Node 20 alone: its default is the cap', () => {
    expect(youngGenerationArgs([], undefined, 20)).toBeUndefined();
  });
});

describe('capYoungGeneration', () => {
  // A stand-in for the CLI's entry point, run by this test's own node (20 or 24).
  const dir = mkdtempSync(join(tmpdir(), 'sw-heap-'));
  const entry = join(dir, 'entry.mjs');
  const heap = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'heap.js')).href;
  writeFileSync(
    entry,
    `(await import('${heap}')).capYoungGeneration(process.argv[2]);\n` +
      `console.log(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2) }));\n`,
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (command: string, nodeOptions = '') =>
    JSON.parse(
      execFileSync(process.execPath, ['--no-warnings', entry, command, '--certs', 'x'], {
        env: { ...process.env, NODE_OPTIONS: nodeOptions },
      }).toString(),
    ) as { execArgv: string[]; argv: string[] };
  const major = Number(process.versions.node.split('.')[0]);
  const relaunches = major >= 22 && typeof (process as { execve?: unknown }).execve === 'function';

  it('starts warm, worker and serve again with the cap on Node 22+ (not on 20), keeping node options and arguments', () => {
    for (const command of ['warm', 'worker', 'serve']) {
      const seen = run(command);
      expect(seen.argv).toEqual([command, '--certs', 'x']);
      expect(seen.execArgv).toEqual(relaunches ? ['--no-warnings', `--max-semi-space-size=${SEMI_SPACE_MB}`] : ['--no-warnings']);
    }
  });

  it('leaves the relay alone, and a size the user chose in NODE_OPTIONS', () => {
    expect(run('relay').execArgv).toEqual(['--no-warnings']);
    expect(run('warm', '--max-semi-space-size=8').execArgv).toEqual(['--no-warnings']);
  });
});
