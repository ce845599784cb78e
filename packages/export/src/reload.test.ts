import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Reloader, runReloadCommand, type ReloadResult } from './reload.js';

describe('runReloadCommand', () => {
  it('reports success, and a failure with its exit status and stderr', async () => {
    expect(await runReloadCommand('true', 5_000)).toMatchObject({ ok: true });
    const failed = await runReloadCommand('echo "nginx: [emerg] unknown directive" >&2; exit 3', 5_000);
    expect(failed.ok).toBe(false);
    expect(!failed.ok && failed.error.message).toBe('reload command exited with status 3: nginx: [emerg] unknown directive');
    expect(!failed.ok && failed.error.code).toBe('reload-failed');
  });

  it('kills a command that takes too long', async () => {
    const result = await runReloadCommand('sleep 10', 200);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.message).toMatch(/killed by SIGKILL/);
    expect(result.ms).toBeLessThan(5_000);
  });
});

describe('Reloader', () => {
  let dir: string;
  let runs: string;
  const count = (): number => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-reload-'));
    runs = join(dir, 'runs');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs once for every change asked for within the debounce window', async () => {
    const results: ReloadResult[] = [];
    const reloader = new Reloader({ command: `echo run >> '${runs}'`, debounceMs: 100, onResult: (r) => results.push(r) });
    reloader.request();
    reloader.request();
    await new Promise((resolve) => setTimeout(resolve, 30));
    reloader.request();
    await vi.waitFor(() => expect(results).toHaveLength(1), { timeout: 3_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(count()).toBe(1);
    expect(reloader.pending).toBe(false);
    await reloader.close();
  });

  it('retries a failed reload until it succeeds, and a new change does not wait for the retry delay', async () => {
    const flag = join(dir, 'ok');
    const results: ReloadResult[] = [];
    const reloader = new Reloader({
      command: `echo run >> '${runs}'; test -e '${flag}'`,
      debounceMs: 10,
      retryMs: 150,
      onResult: (r) => results.push(r),
    });
    reloader.request();
    await vi.waitFor(() => expect(results.length).toBeGreaterThanOrEqual(2), { timeout: 3_000 });
    expect(results.every((r) => !r.ok)).toBe(true);
    await import('node:fs/promises').then((fs) => fs.writeFile(flag, ''));
    reloader.request();
    await vi.waitFor(() => expect(results.at(-1)?.ok).toBe(true), { timeout: 3_000 });
    const done = count();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(count()).toBe(done); // no retry after a success
    await reloader.close();
  });

  it('leaves at least minIntervalMs between two reloads, however the changes come', async () => {
    const starts: number[] = [];
    const reloader = new Reloader({
      command: `echo run >> '${runs}'`,
      debounceMs: 10,
      minIntervalMs: 400,
      onResult: () => starts.push(performance.now()),
    });
    const until = performance.now() + 1_000;
    while (performance.now() < until) {
      reloader.request();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await vi.waitFor(() => expect(reloader.pending).toBe(false), { timeout: 3_000 });
    // 1 s of changes every 20 ms: a reload at ~0, ~0.4, ~0.8 and one for the last changes, ~1.2 s.
    expect(count()).toBeGreaterThanOrEqual(3);
    expect(count()).toBeLessThanOrEqual(4);
    for (let i = 1; i < starts.length; i++) expect((starts[i] ?? 0) - (starts[i - 1] ?? 0)).toBeGreaterThan(350);
    await reloader.close();
  });

  it('flush runs the pending reload at once; close stops asking', async () => {
    const reloader = new Reloader({ command: `echo run >> '${runs}'`, debounceMs: 60_000 });
    expect(await reloader.flush()).toBeUndefined();
    reloader.request();
    expect(await reloader.flush()).toMatchObject({ ok: true });
    expect(count()).toBe(1);
    await reloader.close();
    reloader.request();
    expect(reloader.pending).toBe(false);
  });
});
