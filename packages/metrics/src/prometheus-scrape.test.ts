// A real Prometheus scrapes the /metrics endpoint, loads the alert rules and answers every
// dashboard query: the endpoint, the rules and the dashboard fit together.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsServer, type MetricsServer } from './server.js';
import { StaplewarmMetrics } from './staplewarm-metrics.js';
import { PROMETHEUS_DIR, dashboardQueries, withoutGrafanaVariables } from './testing/deploy-files.js';
import { missingOutsideCi } from './testing/prometheus-tools.js';
import { startPrometheus, type PrometheusUnderTest } from './testing/prometheus-server.js';

describe.skipIf(missingOutsideCi('prometheus'))('Prometheus scraping /metrics', () => {
  let server: MetricsServer | undefined;
  let prometheus: PrometheusUnderTest | undefined;

  beforeAll(async () => {
    const metrics = new StaplewarmMetrics();
    metrics.coldStart.start(Date.now());
    metrics.coldStart.progress(10, 40, Date.now());
    metrics.fetchObserved('ocsp.ca-one.test', 'ok', 0.03);
    metrics.fetchObserved('ocsp.ca-one.test', 'http_429', 0.01);
    metrics.rateLimited('ocsp.ca-one.test', 1);
    metrics.setCertificateStates({ stapled_good: 10, missing: 30 });
    metrics.setQueueJobs({ waiting: 30 });
    metrics.setStapleNextUpdates([Date.now() + 3 * 86_400_000]);
    server = await startMetricsServer(metrics, { port: 0 });
    prometheus = await startPrometheus(`127.0.0.1:${server.port}`, [`${PROMETHEUS_DIR}alerts.yml`]);
    // rate() and increase() need two samples: wait for the second scrape.
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const samples = await prometheus.query('count_over_time(up{job="staplewarm"}[1m])');
      const count = Number((samples[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
      if (count >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
  });

  it('scrapes the endpoint successfully', async () => {
    const up = (await prometheus!.query('up{job="staplewarm"}')) as { value: [number, string] }[];
    expect(up.map((s) => s.value[1])).toEqual(['1']);
    const ratio = (await prometheus!.query('staplewarm_coldstart_progress_ratio')) as { value: [number, string] }[];
    expect(ratio.map((s) => s.value[1])).toEqual(['0.25']);
  });

  it('answers every dashboard query with data', async () => {
    const empty: string[] = [];
    for (const { panel, expr } of dashboardQueries()) {
      const result = await prometheus!.query(withoutGrafanaVariables(expr));
      if (result.length === 0) empty.push(`${panel}: ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('loads every alert rule and evaluates it without error', async () => {
    let rules: { name: string; health: string; lastError?: string }[] = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      const body = await prometheus!.api('/api/v1/rules');
      const groups = (body.data as { groups: { rules: typeof rules }[] }).groups;
      rules = groups.flatMap((g) => g.rules);
      if (rules.length > 0 && rules.every((r) => r.health !== 'unknown')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(rules.length).toBeGreaterThanOrEqual(6);
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
  });
});
