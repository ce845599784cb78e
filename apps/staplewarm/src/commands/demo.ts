import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StapleStore } from '@staplewarm/store';
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { loadConfig, settingSuffix, type ConfigFlags } from '../config.js';
import { startPrivateRedis, type PrivateRedis } from '../demo/private-redis.js';
import { createLogger } from '../log.js';
import { createProgress } from '../progress.js';
import { connectionOptions, connectRedis, RedisUnavailableError } from '../redis.js';
import { formatSummary } from '../warm/summary.js';
import { describeStaple } from './get.js';
import { withCommonOptions } from './common.js';

interface DemoFlags extends ConfigFlags {
  count: string;
  dir?: string;
}

export function registerDemo(program: Command): void {
  withCommonOptions(
    program
      .command('demo')
      .description('make a test PKI, serve it from a local OCSP responder, warm every staple into Redis, show one')
      .option('--count <n>', 'certificates to generate', '1000')
      .option('--dir <dir>', 'where to write the test PKI (default: a new temporary directory)')
      .option('--rate <n>', `global OCSP requests per second ${settingSuffix('rate')}`),
  ).action(async (flags: DemoFlags) => {
    const [{ findFreePort, generatePki, startResponder }, { runWarm }] = await Promise.all([
      import('@staplewarm/responder-sim'),
      import('../warm/run-warm.js'),
    ]);
    // The demo never writes under the production prefix unless told to. Its responder is the local
    // simulator on 127.0.0.1, which the responder address policy refuses unless allowed.
    const loaded = loadConfig({ ...flags, prefix: flags.prefix ?? 'staplewarm-demo:' });
    const config = { ...loaded, responderAllow: [...loaded.responderAllow, '127.0.0.1/32'] };
    // Revocations and failures show in the summary; JSON logs only when asked for.
    const log = createLogger({ logLevel: process.env.STAPLEWARM_LOG_LEVEL ? config.logLevel : 'silent' });
    const count = Number(flags.count);
    const dir = flags.dir ?? mkdtempSync(join(tmpdir(), 'staplewarm-demo-'));

    let privateRedis: PrivateRedis | undefined;
    let redis: Redis;
    try {
      redis = await connectRedis(config.redisUrl, connectionOptions(config));
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
      process.stderr.write(`demo: ${err.message}; starting a private redis-server\n`);
      privateRedis = await startPrivateRedis();
      redis = await connectRedis(privateRedis.url);
    }

    const port = await findFreePort();
    process.stderr.write(`demo: generating ${count} certificates in ${dir}\n`);
    const manifest = await generatePki({
      dir,
      count,
      ocspUrls: [`http://127.0.0.1:${port}/`],
      revoked: (i) => i % 100 === 50,
      noOcspEvery: 250,
    });
    const responder = await startResponder({ pkiDir: dir, port });
    process.stderr.write(`demo: OCSP responder simulator at ${responder.url}\n`);
    try {
      const summary = await runWarm(redis, {
        certs: [join(dir, 'live')],
        force: true,
        work: true,
        config,
        log,
        progress: createProgress(),
      });
      process.stdout.write(`${formatSummary(summary)}\n\n`);
      const first = manifest.leaves.find((leaf) => leaf.ocsp);
      if (first) {
        process.stdout.write(`one staple, as \`staplewarm get ${first.name}\` shows it:\n`);
        process.stdout.write(`${await describeStaple(new StapleStore(redis, { prefix: config.prefix }), first.name)}\n\n`);
      }
      process.stdout.write(
        privateRedis
          ? 'the private Redis stops with the demo; run Redis at 127.0.0.1:6379 to keep the staples and inspect them\n'
          : `look at a staple: npx staplewarm get ${first?.name ?? '<host>'} --prefix ${config.prefix}\n` +
              `totals:          npx staplewarm status --prefix ${config.prefix}\n`,
      );
      process.stdout.write(`test PKI and certificates: ${dir}\n`);
      process.exitCode = summary.complete ? 0 : 1;
    } finally {
      await responder.close();
      redis.disconnect();
      privateRedis?.stop();
    }
  });
}
