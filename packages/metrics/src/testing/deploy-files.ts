// Test support (not built into dist/): where deploy/ lives and what its dashboards query.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DEPLOY_DIR = fileURLToPath(new URL('../../../../deploy/', import.meta.url));
export const PROMETHEUS_DIR = `${DEPLOY_DIR}prometheus/`;
export const DASHBOARD_FILE = `${DEPLOY_DIR}grafana/dashboards/staplewarm-overview.json`;

export interface DashboardQuery {
  panel: string;
  datasourceUid: string | undefined;
  expr: string;
}

interface PanelJson {
  title?: string;
  type?: string;
  datasource?: { uid?: string };
  targets?: { expr?: string; datasource?: { uid?: string } }[];
  panels?: PanelJson[];
}

/** Every PromQL expression of the dashboard, with the panel it belongs to. */
export function dashboardQueries(): DashboardQuery[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels?: PanelJson[] };
  const queries: DashboardQuery[] = [];
  const visit = (panels: PanelJson[] = []): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        queries.push({
          panel: panel.title ?? '(untitled)',
          datasourceUid: target.datasource?.uid ?? panel.datasource?.uid,
          expr: target.expr ?? '',
        });
      }
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return queries;
}

/** Grafana's range variables replaced by durations Prometheus accepts. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$__interval', '15s');
}
