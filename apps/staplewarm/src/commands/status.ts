import { StapleStore, type StapleMeta } from '@staplewarm/store';
import type { Command } from 'commander';
import { loadConfig, type ConfigFlags } from '../config.js';
import { jsonForTerminal, safeLine } from '../escape.js';
import { connectionOptions, connectRedis } from '../redis.js';
import { withCommonOptions } from './common.js';

interface StatusFlags extends ConfigFlags {
  json?: boolean;
  soonest?: string;
}

/** Totals over every certificate the store knows, and the staples closest to expiry. */
export interface StatusReport {
  certificates: number;
  stapled: { good: number; revoked: number };
  /** Known certificates with no usable staple now. */
  missing: number;
  /** Certificates whose last attempt failed (a staple may still be served). */
  failing: number;
  soonest: { fingerprint: string; names: string[]; status?: string; expiresAt?: string; lastError?: string }[];
}

export function registerStatus(program: Command): void {
  withCommonOptions(
    program
      .command('status')
      .description('totals of the staples in Redis and the soonest-expiring ones')
      .option('--soonest <n>', 'how many soonest-expiring staples to list', '10')
      .option('--json', 'print as JSON'),
  ).action(async (flags: StatusFlags) => {
    const config = loadConfig(flags);
    const redis = await connectRedis(config.redisUrl, connectionOptions(config));
    try {
      const report = await collectStatus(new StapleStore(redis, { prefix: config.prefix }), Date.now(), Number(flags.soonest ?? 10));
      process.stdout.write(flags.json ? `${jsonForTerminal(report)}\n` : `${formatStatus(report)}\n`);
    } finally {
      redis.disconnect();
    }
  });
}

export async function collectStatus(store: StapleStore, now: number, listed: number): Promise<StatusReport> {
  const report: StatusReport = { certificates: 0, stapled: { good: 0, revoked: 0 }, missing: 0, failing: 0, soonest: [] };
  const live: StapleMeta[] = [];
  for await (const meta of store.scanMeta()) {
    report.certificates++;
    if (meta.lastError) report.failing++;
    const usable = (meta.status === 'good' || meta.status === 'revoked') && (meta.expiresAt?.getTime() ?? 0) > now;
    if (!usable) {
      report.missing++;
      continue;
    }
    report.stapled[meta.status as 'good' | 'revoked']++;
    live.push(meta);
  }
  live.sort((a, b) => (a.expiresAt?.getTime() ?? 0) - (b.expiresAt?.getTime() ?? 0));
  report.soonest = live.slice(0, listed).map((m) => ({
    fingerprint: m.fingerprint,
    names: m.names,
    status: m.status,
    expiresAt: m.expiresAt?.toISOString(),
    lastError: m.lastError,
  }));
  return report;
}

/** `status`'s text. Names and last errors come from certificates and responders: each line is made safe. */
export function formatStatus(r: StatusReport): string {
  const lines = [
    `certificates   ${r.certificates}`,
    `stapled good   ${r.stapled.good}`,
    `stapled revoked ${r.stapled.revoked}`,
    `missing        ${r.missing}`,
    `failing        ${r.failing}`,
    'soonest-expiring staples:',
  ];
  for (const s of r.soonest)
    lines.push(
      `  ${s.expiresAt ?? '-'}  ${s.status ?? '-'}  ${s.names.join(', ') || s.fingerprint}${s.lastError ? `  (last error: ${s.lastError})` : ''}`,
    );
  return lines.map(safeLine).join('\n');
}
