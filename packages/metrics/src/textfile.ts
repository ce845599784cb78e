import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { MetricsError } from './errors.js';
import { type StaplewarmMetrics } from './staplewarm-metrics.js';

/**
 * Writes the staplewarm metrics to `path` in the node_exporter textfile format (`warm --textfile`,
 * for cron-driven runs). The file is written beside the target and renamed over it, so the
 * collector never reads half a file; the temporary name does not end in `.prom`, so the
 * collector ignores it. Process metrics are left out: node_exporter exports its own.
 */
export async function writeTextfile(metrics: StaplewarmMetrics, path: string): Promise<void> {
  if (!path.endsWith('.prom')) {
    throw new MetricsError('invalid-textfile-path', `node_exporter's textfile collector only reads *.prom files, got ${path}`);
  }
  const text = await metrics.textfileText();
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new MetricsError('textfile-write-failed', `cannot write metrics textfile ${path}: ${String(err)}`, {
      cause: err,
    });
  }
}
