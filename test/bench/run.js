// `npm run bench`: the cold-start benchmark of issue 3. Not a test: it prints figures and checks
// them against the targets. See docs/benchmarks.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { USAGE, UsageError, parseArgs } from './lib/args.js';
import { cachedPki } from './lib/pki.js';
import { RELAY_SCENARIO, relayScenarioReport, runRelayScenario } from './lib/relay.js';
import { peerScenarioReport, queueScenarioReport } from './lib/report.js';
import { SCENARIOS, runPeerScenario, runQueueScenario } from './lib/scenarios.js';
import { startRedis } from './lib/services.js';

const log = (line) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main() {
  const options = parseArgs(process.argv.slice(2));
  mkdirSync(options.out, { recursive: true });
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadBefore: loadavg() };
  log(
    `node ${machine.node}, ${machine.cpus} cores (${machine.cpu}), load average ${machine.loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const redis = await startRedis();
  const results = [];
  const report = [];
  try {
    const queueScenarios = options.scenarios.filter((s) => s in SCENARIOS);
    const pki = queueScenarios.length ? await cachedPki(options.out, options.count, log) : undefined;
    for (const key of queueScenarios) {
      const result = await runQueueScenario(key, { redis, pki, out: options.out, profile: options.profile, log });
      results.push(result);
      report.push(queueScenarioReport(result));
    }
    if (options.scenarios.includes('d')) {
      const peerPki = await cachedPki(options.out, options.peerCount, log);
      const result = await runPeerScenario({ redis, pki: peerPki, out: options.out, log });
      results.push(result);
      report.push(peerScenarioReport(result));
    }
    if (options.scenarios.includes('relay')) {
      const relayPki = await cachedPki(options.out, RELAY_SCENARIO.certificates, log);
      const result = await runRelayScenario({ redis, pki: relayPki, out: options.out, log, nice: options.nice });
      results.push(result);
      report.push(relayScenarioReport(result));
    }
  } finally {
    await redis.stop();
  }
  machine.loadAfter = loadavg();
  const file = join(options.out, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, options, results }, null, 2));

  const lines = [
    `staplewarm cold-start benchmark (node ${machine.node}, ${machine.cpus} cores, load average ${machine.loadBefore[0].toFixed(2)} before, ${machine.loadAfter[0].toFixed(2)} after)`,
    '',
  ];
  for (const part of report) lines.push(...part.lines, '');
  const targets = report.flatMap((part) => part.targets);
  lines.push('targets:');
  for (const target of targets) lines.push(`  ${target.ok ? 'PASS' : 'MISS'}  ${target.name}`);
  lines.push('', `results: ${file}`);
  console.log(lines.join('\n'));
}

main().catch((err) => {
  if (err instanceof UsageError) {
    if (err.message) console.error(err.message);
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  console.error(err);
  process.exitCode = 1;
});
