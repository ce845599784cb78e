// Test support (not built into dist/): a throwaway Prometheus server scraping one target.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrometheusUnderTest {
  /** Runs an instant query; returns the API's `data.result`, throws on a query error. */
  query(expr: string): Promise<unknown[]>;
  /** GET on the HTTP API, parsed JSON. */
  api(path: string): Promise<{ status: string; data?: unknown; error?: string }>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Starts `prometheus` scraping `target` every second as job "staplewarm", with `ruleFiles` loaded. */
export async function startPrometheus(target: string, ruleFiles: string[]): Promise<PrometheusUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'staplewarm-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ruleFiles,
    scrape_configs: [{ job_name: 'staplewarm', static_configs: [{ targets: [target] }] }],
  };
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const api = async (path: string): Promise<{ status: string; data?: unknown; error?: string }> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return (await res.json()) as { status: string; data?: unknown; error?: string };
  };
  const query = async (expr: string): Promise<unknown[]> => {
    const body = await api(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error ?? 'unknown error'}`);
    return (body.data as { result: unknown[] }).result;
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };

  // Ready when the HTTP API answers; give up (and report its log) after 20 s.
  for (const deadline = Date.now() + 20_000; ;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    const ready = await fetch(`http://127.0.0.1:${port}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready after 20 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { query, api, stop };
}
