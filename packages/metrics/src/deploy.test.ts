// Checks deploy/prometheus and deploy/grafana against this package: valid configs and rules
// (promtool), alert unit tests, and only metric names and label values that the package defines.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALL_STAPLES_BUCKET,
  CERTIFICATE_STATES,
  FETCH_OUTCOMES,
  HELD_REASONS,
  HISTOGRAM_NAMES,
  METRIC_NAMES,
  QUEUE_JOB_STATES,
  REMAINING_LIFETIME_BUCKETS,
} from './names.js';
import { DASHBOARD_FILE, PROMETHEUS_DIR, dashboardQueries, withoutGrafanaVariables } from './testing/deploy-files.js';
import { promtool, requirePromtool } from './testing/prometheus-tools.js';

const DEFINED = new Set<string>([
  ...Object.values(METRIC_NAMES),
  ...HISTOGRAM_NAMES.flatMap((name) => ['_bucket', '_sum', '_count'].map((suffix) => `${name}${suffix}`)),
]);

const KNOWN_LABEL_VALUES: Record<string, ReadonlySet<string>> = {
  state: new Set<string>([...CERTIFICATE_STATES, ...QUEUE_JOB_STATES]),
  outcome: new Set<string>(FETCH_OUTCOMES),
  within: new Set<string>([...REMAINING_LIFETIME_BUCKETS.map((b) => b.within), ALL_STAPLES_BUCKET]),
  reason: new Set<string>(HELD_REASONS),
};

/** staplewarm_* names used in a text that the package does not define. */
function undefinedNames(text: string): string[] {
  return [...new Set(text.match(/\bstaplewarm_[a-z0-9_]+/g) ?? [])].filter((name) => !DEFINED.has(name));
}

/** `label="value"` matchers on our labels whose value the package never exports. */
function unknownLabelValues(expr: string): string[] {
  return [...expr.matchAll(/\b(state|outcome|within|reason)\s*=~?\s*"([^"]*)"/g)]
    .filter(([, label = '', value = '']) => !value.split('|').every((v) => KNOWN_LABEL_VALUES[label]?.has(v)))
    .map(([matcher = '']) => matcher);
}

describe('deploy/prometheus', () => {
  it('prometheus.yml and prometheus.local.yml are valid and load the alert rules', (ctx) => {
    requirePromtool(ctx);
    for (const file of ['prometheus.yml', 'prometheus.local.yml']) {
      const result = promtool(['check', 'config', file], { cwd: PROMETHEUS_DIR });
      expect(result.output).toContain('SUCCESS: 1 rule files found');
      expect(result.status, result.output).toBe(0);
    }
  });

  it('alerts.yml is valid and every rule has a summary and a runbook', async (ctx) => {
    requirePromtool(ctx);
    const result = promtool(['check', 'rules', 'alerts.yml'], { cwd: PROMETHEUS_DIR });
    expect(result.status, result.output).toBe(0);
    const text = await readFile(`${PROMETHEUS_DIR}alerts.yml`, 'utf8');
    const alerts = text.match(/^\s*- alert: /gm) ?? [];
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    expect(text.match(/^\s+summary: /gm)).toHaveLength(alerts.length);
    expect(text.match(/^\s+runbook: /gm)).toHaveLength(alerts.length);
  });

  it('alert unit tests pass (promtool test rules alerts.test.yml)', (ctx) => {
    requirePromtool(ctx);
    const result = promtool(['test', 'rules', 'alerts.test.yml'], { cwd: PROMETHEUS_DIR });
    expect(result.status, result.output).toBe(0);
  });

  it('the rules use only metric names and label values the package defines', async () => {
    const text = await readFile(`${PROMETHEUS_DIR}alerts.yml`, 'utf8');
    expect(undefinedNames(text)).toEqual([]);
    expect(unknownLabelValues(text)).toEqual([]);
  });
});

describe('deploy/grafana staplewarm-overview.json', () => {
  const queries = dashboardQueries();

  it('queries the provisioned Prometheus datasource (uid "prometheus") in every panel', () => {
    expect(queries.length).toBeGreaterThan(10);
    expect(queries.filter((q) => q.datasourceUid !== 'prometheus')).toEqual([]);
  });

  it('uses only metric names and label values that the package defines', () => {
    const offending = queries.flatMap((q) => [...undefinedNames(q.expr), ...unknownLabelValues(q.expr)].map((bad) => `${q.panel}: ${bad}`));
    expect(offending).toEqual([]);
  });

  it('shows every metric the package defines somewhere', () => {
    const used = queries.map((q) => q.expr).join('\n');
    const unused = Object.values(METRIC_NAMES).filter((name) => !new RegExp(`\\b${name}(_bucket)?\\b`).test(used));
    expect(unused).toEqual([]);
  });

  it('has PromQL that parses (each query checked as a recording rule by promtool)', async (ctx) => {
    requirePromtool(ctx);
    const dir = await mkdtemp(join(tmpdir(), 'staplewarm-dashboard-'));
    try {
      const rules = {
        groups: [
          {
            name: 'dashboard',
            rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: withoutGrafanaVariables(q.expr) })),
          },
        ],
      };
      // YAML is a superset of JSON, so promtool reads this as a rules file.
      await writeFile(join(dir, 'dashboard-rules.yml'), JSON.stringify(rules));
      const result = promtool(['check', 'rules', 'dashboard-rules.yml'], { cwd: dir });
      expect(result.status, `${DASHBOARD_FILE}\n${result.output}`).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
