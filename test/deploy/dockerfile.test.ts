/**
 * The Dockerfile, checked without a Docker engine: the runtime stage's shape (LTS base, production
 * dependencies installed without lifecycle scripts, non-root user, staplewarm as entrypoint), and
 * its HEALTHCHECK command run for real against staplewarm's metrics server.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StaplewarmMetrics, startMetricsServer } from '@staplewarm/metrics';
import { describe, expect, it } from 'vitest';
import { freePort } from '@staplewarm/testing';
import { rangeCoversMajor } from './node-range.js';
import { REPO_ROOT } from './tools.js';

interface Stage {
  from: string;
  name: string | undefined;
  /** Instructions with continuation lines joined. */
  lines: string[];
}

function stages(): Stage[] {
  const text = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const args = new Map([...text.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
  const result: Stage[] = [];
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))) {
    const from = /^FROM (\S+)(?: AS (\S+))?$/i.exec(line);
    if (from) {
      const image = (from[1] as string).replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '');
      result.push({ from: image, name: from[2], lines: [] });
    } else {
      result.at(-1)?.lines.push(line);
    }
  }
  return result;
}

/** The root package.json and every workspace's, with their paths relative to the repository. */
function packageManifests(): { file: string; pkg: { engines?: { node?: string } } }[] {
  const files = ['package.json', 'test/package.json'];
  for (const folder of ['packages', 'apps']) {
    for (const name of readdirSync(path.join(REPO_ROOT, folder))) {
      if (existsSync(path.join(REPO_ROOT, folder, name, 'package.json'))) files.push(`${folder}/${name}/package.json`);
    }
  }
  return files.map((file) => ({
    file,
    pkg: JSON.parse(readFileSync(path.join(REPO_ROOT, file), 'utf8')) as { engines?: { node?: string } },
  }));
}

const instruction = (stage: Stage, keyword: string): string[] =>
  stage.lines.filter((line) => line.startsWith(`${keyword} `)).map((line) => line.slice(keyword.length + 1).trim());

describe('Dockerfile', () => {
  const all = stages();
  const runtime = all.at(-1) as Stage;

  it("runs on a Node.js LTS slim image whose every release satisfies each package.json's engines range", () => {
    const engines = packageManifests().flatMap(({ file, pkg }) => (pkg.engines?.node ? [{ file, range: pkg.engines.node }] : []));
    expect(engines.map((e) => e.file)).toContain('package.json');
    for (const stage of all) {
      const match = /^node:(\d+)-[\w-]*slim$/.exec(stage.from);
      expect(match, stage.from).not.toBeNull();
      const major = Number(match?.[1]);
      expect(major % 2, `${stage.from}: LTS lines are even`).toBe(0);
      // The tag floats within its major line: any of its releases may be the one pulled.
      for (const { file, range } of engines) expect(rangeCoversMajor(range, major), `${stage.from} against ${file}: "${range}"`).toBe(true);
    }
  });

  it('reads engines ranges as npm does (the reader the check above relies on)', () => {
    expect(rangeCoversMajor('^20.19.0 || >=22.12.0', 24)).toBe(true);
    expect(rangeCoversMajor('^20.19.0 || >=22.12.0', 22)).toBe(false); // 22.0.0 .. 22.11.x are refused
    expect(rangeCoversMajor('^20.19.0 || >=22.12.0', 20)).toBe(false);
    expect(rangeCoversMajor('>=20.0.0 <24.0.0', 22)).toBe(true);
    expect(rangeCoversMajor('>=20.0.0 <24.0.0', 24)).toBe(false);
    expect(rangeCoversMajor('^22.0.0 || ^24.0.0', 24)).toBe(true);
    expect(() => rangeCoversMajor('>=22', 24)).toThrow(/unsupported/);
  });

  it('installs production dependencies only, without lifecycle scripts (no `prepare` build)', () => {
    const copiedModules = instruction(runtime, 'COPY').find((c) => c.includes('node_modules'));
    const source = /--from=(\S+)/.exec(copiedModules ?? '')?.[1];
    const deps = all.find((stage) => stage.name === source);
    expect(deps, 'the stage node_modules comes from').toBeDefined();
    const installs = instruction(deps as Stage, 'RUN').filter((r) => r.includes('npm ci'));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toContain('--omit=dev');
    expect(installs[0]).toContain('--ignore-scripts');
    expect(instruction(runtime, 'RUN')).toEqual([]);
  });

  it('runs as a non-root user with staplewarm as the entrypoint', () => {
    const user = instruction(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);

    const entrypoint = JSON.parse(instruction(runtime, 'ENTRYPOINT').at(-1) ?? '[]') as string[];
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'apps/staplewarm/package.json'), 'utf8')) as { bin: Record<string, string> };
    const workdir = instruction(runtime, 'WORKDIR').at(-1) ?? '/';
    expect(entrypoint[0]).toBe('node');
    expect(entrypoint[1]).toBe(path.posix.join(workdir, 'apps/staplewarm', pkg.bin.staplewarm ?? ''));
  });

  it("has a HEALTHCHECK that passes against staplewarm's metrics server and fails without one", async () => {
    const healthcheck = instruction(runtime, 'HEALTHCHECK').at(-1) ?? '';
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
    expect(command[0]).toBe('node');
    // Asynchronous: the metrics server answers from this process's event loop.
    const check = async (port: number): Promise<number | null> => {
      const child = spawn(process.execPath, command.slice(1), {
        env: { ...process.env, STAPLEWARM_METRICS_PORT: String(port) },
        stdio: 'ignore',
        timeout: 10_000,
      });
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    };

    const server = await startMetricsServer(new StaplewarmMetrics({ defaultMetrics: false }), { port: 0 });
    try {
      expect(await check(server.port)).toBe(0);
    } finally {
      await server.close();
    }
    expect(await check(await freePort())).toBe(1);
  });

  it('keeps dependencies, build output and secrets out of the build context', () => {
    const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.env', '.git', '**/*.pem', '**/*.key']));
    expect(ignored).not.toContain('package-lock.json');
  });
});
