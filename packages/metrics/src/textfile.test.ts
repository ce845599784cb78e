import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMetricsError } from './errors.js';
import { METRIC_NAMES } from './names.js';
import { StaplewarmMetrics } from './staplewarm-metrics.js';
import { sampleValue } from './testing/exposition.js';
import { promtool, requirePromtool } from './testing/prometheus-tools.js';
import { writeTextfile } from './textfile.js';

describe('writeTextfile', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'staplewarm-metrics-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function warmRun(): StaplewarmMetrics {
    const metrics = new StaplewarmMetrics();
    metrics.coldStart.start(0);
    metrics.fetchObserved('ocsp.ca-one.test', 'ok', 0.05);
    metrics.setCertificateStates({ stapled_good: 2, no_ocsp_url: 1 });
    metrics.coldStart.progress(2, 2, 42_000);
    return metrics;
  }

  it('writes the final figures, replacing the previous file and leaving no temporary behind', async () => {
    const path = join(dir, 'staplewarm.prom');
    await writeTextfile(new StaplewarmMetrics({ defaultMetrics: false }), path);
    await writeTextfile(warmRun(), path);
    const text = await readFile(path, 'utf8');
    expect(sampleValue(text, METRIC_NAMES.coldStartSeconds)).toBe(42);
    expect(sampleValue(text, METRIC_NAMES.certificates, { state: 'stapled_good' })).toBe(2);
    expect(text).not.toContain('process_cpu');
    expect(await readdir(dir)).toEqual(['staplewarm.prom']);
  });

  it('is in a format promtool (the node_exporter parser) accepts', async (ctx) => {
    requirePromtool(ctx);
    const path = join(dir, 'staplewarm.prom');
    await writeTextfile(warmRun(), path);
    const result = promtool(['check', 'metrics'], { input: await readFile(path, 'utf8') });
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('refuses a name the textfile collector would ignore', async () => {
    const err: unknown = await writeTextfile(warmRun(), join(dir, 'staplewarm.txt')).catch((e: unknown) => e);
    expect(isMetricsError(err) && err.code).toBe('invalid-textfile-path');
  });

  it('fails with a typed error when the directory does not exist, leaving nothing behind', async () => {
    const err: unknown = await writeTextfile(warmRun(), join(dir, 'missing', 'x.prom')).catch((e: unknown) => e);
    expect(isMetricsError(err) && err.code).toBe('textfile-write-failed');
    expect(await readdir(dir)).toEqual([]);
  });
});
