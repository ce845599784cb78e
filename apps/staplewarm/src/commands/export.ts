import type { Command } from 'commander';
import { loadConfig, settingOption, settingSuffix, type ConfigFlags } from '../config.js';
import { jsonForTerminal, safeLine } from '../escape.js';
import { createLogger } from '../log.js';
import { connectionOptions, connectRedis } from '../redis.js';
import { withCommonOptions } from './common.js';

interface ExportNginxFlags extends ConfigFlags {
  certs: string[];
  dir: string;
  reloadCommand?: string;
  json?: boolean;
}

interface ExportHaproxyFlags extends ConfigFlags {
  socket?: string;
  dir?: string[];
  json?: boolean;
}

export function registerExport(program: Command): void {
  const command = program
    .command('export')
    .description(
      'hand the verified staples in Redis to servers that cannot read Redis: nginx (ssl_stapling_file) and HAProxy (.ocsp files, runtime API)',
    );

  const nginx = command
    .command('nginx')
    .description(
      'write <dir>/<name>.der and <dir>/<name>.conf (include it in the server block) for each certificate, then reload nginx once if anything changed; <name> is the certbot lineage, or the file name without its extension',
    )
    .requiredOption(
      '-c, --certs <path...>',
      'certificate stores nginx serves (as for warm): certbot live/ dirs, dirs of *.pem/*.crt, or files',
    )
    .requiredOption('--dir <dir>', `directory of the export ${settingSuffix('nginxDir')}`)
    .option('--reload-command <command>', `shell command reloading nginx ${settingSuffix('nginxReloadCommand')}`)
    .option('--json', 'print the outcome as JSON on stdout');
  settingOption(nginx, 'maxCertFileBytes');
  withCommonOptions(nginx).action(async (flags: ExportNginxFlags) =>
    run(
      { ...flags, nginxDir: flags.dir, ...(flags.reloadCommand !== undefined && { nginxReloadCommand: flags.reloadCommand }) },
      flags.certs,
      flags.json,
    ),
  );

  const haproxy = command
    .command('haproxy')
    .description(
      'push each staple to a running HAProxy (--socket, no reload) and/or write <crt>.ocsp beside each certificate file HAProxy loads (--dir, read at its start)',
    )
    .option('--socket <path|host:port>', `HAProxy admin runtime API ${settingSuffix('haproxySocket')}`)
    .option('--dir <dir...>', `HAProxy crt directories or files ${settingSuffix('haproxyDirs')}`)
    .option('--json', 'print the outcome as JSON on stdout');
  settingOption(haproxy, 'maxCertFileBytes');
  withCommonOptions(haproxy).action(async (flags: ExportHaproxyFlags) => {
    const { socket, dir, ...rest } = flags;
    await run(
      { ...rest, ...(socket !== undefined && { haproxySocket: socket }), ...(dir !== undefined && { haproxyDir: dir }) },
      [],
      flags.json,
      true,
    );
  });
}

async function run(flags: ConfigFlags, certs: string[], json: boolean | undefined, haproxyOnly = false): Promise<void> {
  const { runExport, exportSucceeded, formatExportRuns } = await import('../export/run-export.js');
  const loaded = loadConfig(flags);
  // One kind per command: `export haproxy` does not export to an nginx dir set in the environment, nor the reverse.
  const config = haproxyOnly ? { ...loaded, nginxDir: undefined } : { ...loaded, haproxyDirs: [], haproxySocket: undefined };
  if (haproxyOnly && config.haproxyDirs.length === 0 && config.haproxySocket === undefined) {
    process.stderr.write('staplewarm export haproxy: give --socket and/or --dir (or STAPLEWARM_HAPROXY_SOCKET / STAPLEWARM_HAPROXY_DIR)\n');
    process.exitCode = 2;
    return;
  }
  const log = createLogger(config);
  const redis = await connectRedis(config.redisUrl, connectionOptions(config));
  try {
    const runs = await runExport(redis, { certs, config, log });
    process.stdout.write(json ? `${jsonForTerminal(runs)}\n` : `${formatExportRuns(runs).split('\n').map(safeLine).join('\n')}\n`);
    process.exitCode = exportSucceeded(runs) ? 0 : 1;
  } finally {
    redis.disconnect();
  }
}
