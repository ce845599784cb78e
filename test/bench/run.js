// `npm run bench`: the cold-start benchmarks of issues 3 and 13 (and the relay's, issue 14). Not a
// test: it prints figures and checks them against the issues' targets. See docs/benchmarks.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { USAGE, UsageError, parseArgs } from './lib/args.js';
import { faultScenarioReport, runFaultScenario } from './lib/faults.js';
import { multiCaScenarioReport, runMultiCaScenario } from './lib/multi-ca.js';
import { cachedMultiPki, cachedPki } from './lib/pki.js';
import { RELAY_SCENARIO, relayScenarioReport, runRelayScenario } from './lib/relay.js';
import { peerScenarioReport, queueScenarioReport, rawScenarioReport } from './lib/report.js';
import { SCENARIOS, runPeerScenario, runQueueScenario, runRawScenario } from './lib/scenarios.js';
import { startRedis } from './lib/services.js';
import { machineSpeed } from './lib/machine.js';
import { runSizingScenario, sizingScenarioReport } from './lib/sizing.js';

const log = (line) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main() {
  const options = parseArgs(process.argv.slice(2));
  mkdirSync(options.out, { recursive: true });
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadBefore: loadavg(), speed: machineSpeed() };
  log(
    `node ${machine.node}, ${machine.cpus} cores (${machine.cpu}), load average ${machine.loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  log(`machine speed: ${speedLine(machine.speed)}`);
  const redis = await startRedis();
  const results = [];
  const report = [];
  const record = (result, part) => {
    results.push(result);
    report.push(part);
  };
  try {
    const queueScenarios = options.scenarios.filter((s) => s in SCENARIOS);
    const pki = queueScenarios.length ? await cachedPki(options.out, options.count, log) : undefined;
    for (const key of queueScenarios) {
      const result = await runQueueScenario(key, { redis, pki, out: options.out, profile: options.profile, log });
      record(result, queueScenarioReport(result));
    }
    if (options.scenarios.includes('c')) {
      const rawPki = await cachedPki(options.out, options.cCount, log);
      const result = await runRawScenario({ redis, pki: rawPki, out: options.out, log });
      record(result, rawScenarioReport(result));
    }
    if (options.scenarios.includes('d')) {
      const peerPki = await cachedPki(options.out, options.peerCount, log);
      const result = await runPeerScenario({ redis, pki: peerPki, out: options.out, log });
      record(result, peerScenarioReport(result));
    }
    if (options.scenarios.includes('e')) {
      const multi = await cachedMultiPki(options.out, options.eCount, log);
      const result = await runMultiCaScenario({ redis, multi, out: options.out, log, orders: options.eOrders });
      record(result, multiCaScenarioReport(result));
    }
    if (options.scenarios.includes('f')) {
      const faultPki = await cachedPki(options.out, options.fCount, log);
      const result = await runFaultScenario({ redis, pki: faultPki, out: options.out, log, faults: options.fFaults });
      record(result, faultScenarioReport(result));
    }
    if (options.scenarios.includes('relay')) {
      const relayPki = await cachedPki(options.out, RELAY_SCENARIO.certificates, log);
      const result = await runRelayScenario({ redis, pki: relayPki, out: options.out, log, nice: options.nice });
      record(result, relayScenarioReport(result));
    }
    if (options.scenarios.includes('sizing')) {
      const pkis = [];
      for (const count of options.sizingCounts) pkis.push(await cachedPki(options.out, count, log));
      const result = await runSizingScenario({ redis, pkis, log });
      record(result, sizingScenarioReport(result));
    }
  } finally {
    await redis.stop();
  }
  machine.loadAfter = loadavg();
  const file = join(options.out, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, options, results }, null, 2));

  const lines = [
    `staplewarm benchmarks (node ${machine.node}, ${machine.cpus} cores, load average ${machine.loadBefore[0].toFixed(2)} before, ${machine.loadAfter[0].toFixed(2)} after)`,
    `machine speed (one core, at the start): ${speedLine(machine.speed)}`,
    '',
  ];
  for (const part of report) lines.push(...part.lines, '');
  const targets = report.flatMap((part) => part.targets);
  lines.push('targets:');
  for (const target of targets) lines.push(`  ${target.ok ? 'PASS' : 'MISS'}  ${target.name}`);
  lines.push('', `results: ${file}`);
  console.log(lines.join('\n'));
}

function speedLine({ p256VerificationsPerSecond, statCallsPerSecond }) {
  const n = (x) => x.toLocaleString('en-US');
  return `${n(p256VerificationsPerSecond)} ECDSA P-256 verifications/s (node:crypto), ${n(statCallsPerSecond)} stat() system calls/s`;
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
