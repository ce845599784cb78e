/**
 * Issue 5, worker side: a real Prometheus scrapes `staplewarm worker --metrics-port P` while
 * `staplewarm warm --no-work` feeds it certificates of two responders, one of which answers only
 * 429. Every dashboard panel's expression and every alert rule must parse and find data, and the
 * 429 alert must fire.
 *
 * The alert rules are loaded from a copy of deploy/prometheus/alerts.yml in which only
 * StaplewarmRateLimited's `for: 15m` is shortened to 5s: fifteen minutes cannot pass in a test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startResponder, type Responder } from '@staplewarm/responder-sim';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_DIR, dashboardQueries, withoutGrafanaVariables } from '../../packages/metrics/src/testing/deploy-files.js';
import { missingOutsideCi } from '../../packages/metrics/src/testing/prometheus-tools.js';
import { startPrometheus, type PrometheusUnderTest } from '../../packages/metrics/src/testing/prometheus-server.js';
import { REDIS_URL, STAPLEWARM_BIN, connectTestRedis, deletePrefix, freePort, testPrefix } from '@staplewarm/testing';
import { fetchesTotal, makePki, startWorkerProcess, waitFor, type TestPki, type WorkerProcess } from './rate-limit-fixtures.js';

interface RuleState {
  name: string;
  query: string;
  health: string;
  state?: string;
  lastError?: string;
}

describe.skipIf(missingOutsideCi('prometheus'))('worker metrics scraped by Prometheus', () => {
  let redis: Redis;
  let goodPki: TestPki;
  let limitedPki: TestPki;
  let good: Responder;
  let limited: Responder;
  let worker: WorkerProcess | undefined;
  let warm: ChildProcess | undefined;
  let prometheus: PrometheusUnderTest | undefined;
  const prefix = testPrefix('metrics');

  beforeAll(async () => {
    redis = await connectTestRedis();
    const [goodPort, limitedPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    [goodPki, limitedPki] = await Promise.all([makePki('good', 60, goodPort), makePki('limited', 20, limitedPort)]);
    good = await startResponder({ pkiDir: goodPki.dir, port: goodPort, latencyMs: 5, presign: true });
    limited = await startResponder({ pkiDir: limitedPki.dir, port: limitedPort, retryAfter: 1, presign: true, faults: { only429: true } });
    worker = await startWorkerProcess(['--redis', REDIS_URL, '--prefix', prefix, '--rate', '50', '--metrics-port', String(metricsPort)]);
    warm = spawn(
      process.execPath,
      [
        STAPLEWARM_BIN,
        'warm',
        '--no-work',
        '--rate',
        '50',
        '--certs',
        goodPki.live,
        limitedPki.live,
        '--redis',
        REDIS_URL,
        '--prefix',
        prefix,
      ],
      {
        env: { ...process.env, STAPLEWARM_LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      },
    );

    const rules = (await readFile(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')).replace(
      /(alert: StaplewarmRateLimited[\s\S]*?\n\s*for: )15m/,
      '$15s',
    );
    expect(rules).toMatch(/alert: StaplewarmRateLimited[\s\S]*?for: 5s/);
    const rulesFile = join(goodPki.dir, 'alerts-short-for.yml');
    await writeFile(rulesFile, rules);
    prometheus = await startPrometheus(`127.0.0.1:${metricsPort}`, [rulesFile]);

    // Wait until every certificate of the healthy responder is stapled and scraped twice after that.
    await waitFor('the healthy certificates fetched', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return fetchesTotal(text, 'ok') === 60;
    });
    // rate() and increase() need two samples of a series: wait for a few scrapes after those fetches.
    const stapled = Date.now();
    await waitFor('three scrapes, the last after the fetches', async () => {
      const scrapes = (await prometheus!.query('count_over_time(up{job="staplewarm"}[1m])')) as { value: [number, string] }[];
      const last = (await prometheus!.query('timestamp(up{job="staplewarm"})')) as { value: [number, string] }[];
      return Number(scrapes[0]?.value[1] ?? 0) >= 3 && Number(last[0]?.value[1] ?? 0) * 1000 > stapled + 1_000;
    });
  });

  afterAll(async () => {
    warm?.kill('SIGTERM');
    await worker?.stop();
    await prometheus?.stop();
    await Promise.all([good?.close(), limited?.close()]);
    await Promise.all([goodPki?.remove(), limitedPki?.remove()]);
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('answers every dashboard panel with data', async () => {
    const empty: string[] = [];
    for (const { panel, expr } of dashboardQueries()) {
      const result = await prometheus!.query(withoutGrafanaVariables(expr));
      if (result.length === 0) empty.push(`${panel}: ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('evaluates every alert rule, over series that exist, and fires the 429 alert', async () => {
    let rules: RuleState[] = [];
    await waitFor(
      'StaplewarmRateLimited firing',
      async () => {
        const body = await prometheus!.api('/api/v1/rules');
        rules = (body.data as { groups: { rules: RuleState[] }[] }).groups.flatMap((g) => g.rules);
        return rules.some((r) => r.name === 'StaplewarmRateLimited' && r.state === 'firing');
      },
      30_000,
    );
    expect(rules.length).toBeGreaterThanOrEqual(6);
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);

    // A rule's result is empty while it does not fire; the series it reads must exist all the same.
    const missing: string[] = [];
    for (const rule of rules) {
      await prometheus!.query(rule.query); // parses (throws on a query error)
      for (const selector of rule.query.match(/\b(?:staplewarm_[a-z_]+|up)(?:\{[^}]*\})?/g) ?? []) {
        if ((await prometheus!.query(selector)).length === 0) missing.push(`${rule.name}: ${selector}`);
      }
    }
    expect(missing).toEqual([]);

    const alerts = (await prometheus!.api('/api/v1/alerts')).data as { alerts: { labels: Record<string, string>; state: string }[] };
    const firing = alerts.alerts.filter((a) => a.labels.alertname === 'StaplewarmRateLimited' && a.state === 'firing');
    expect(firing.map((a) => a.labels.responder)).toEqual([new URL(limited.url).host]);
  });
});
