/**
 * The checkers the deployment tests run: Debian's docker-compose (v1, validates a compose file
 * without a Docker engine), promtool, nginx + the Lua module, systemd-analyze, openssl. A missing
 * one skips the test locally and fails it in CI (`CI=true`), where it must be installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Tool {
  command: string;
  /** The Debian package that provides it (for the message). */
  aptPackage: string;
  /** Files it needs besides the command. */
  files?: string[];
}

export const TOOLS = {
  dockerCompose: { command: 'docker-compose', aptPackage: 'docker-compose' },
  promtool: { command: 'promtool', aptPackage: 'prometheus' },
  nginx: {
    command: 'nginx',
    aptPackage: 'nginx libnginx-mod-http-lua lua-resty-core lua-resty-lrucache lua-nginx-redis',
    files: ['/usr/lib/nginx/modules/ndk_http_module.so', '/usr/lib/nginx/modules/ngx_http_lua_module.so'],
  },
  systemdAnalyze: { command: 'systemd-analyze', aptPackage: 'systemd' },
  openssl: { command: 'openssl', aptPackage: 'openssl' },
  // docker-compose depends on python3-yaml: the tests read YAML through it.
  python3: { command: 'python3', aptPackage: 'python3-yaml' },
} satisfies Record<string, Tool>;

function installed(tool: Tool): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${tool.command}`], { stdio: 'ignore' }).status === 0;
  return found && (tool.files ?? []).every((file) => existsSync(file));
}

/**
 * For `describe.skipIf(missing(...))`: true (skip) when a tool is missing locally; throws (fails
 * the file) when it is missing in CI.
 */
export function missing(...tools: Tool[]): boolean {
  const absent = tools.filter((tool) => !installed(tool));
  if (absent.length === 0) return false;
  const install = `apt-get install -y ${absent.map((tool) => tool.aptPackage).join(' ')}`;
  if (process.env.CI === 'true') throw new Error(`required in CI: ${absent.map((t) => t.command).join(', ')} (${install})`);
  console.warn(`skipping: ${absent.map((t) => t.command).join(', ')} not installed (${install})`);
  return true;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    input: options.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Parses YAML with python3-yaml (installed with docker-compose), so the tests need no YAML package. */
export function parseYaml(text: string): unknown {
  const result = run('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: text });
  if (result.status !== 0) throw new Error(`python3 could not parse YAML: ${result.stderr}`);
  return JSON.parse(result.stdout) as unknown;
}
