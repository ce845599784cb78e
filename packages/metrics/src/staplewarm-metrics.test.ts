import { describe, expect, it } from 'vitest';
import { isMetricsError } from './errors.js';
import { FETCH_OUTCOMES, METRIC_NAMES } from './names.js';
import { StaplewarmMetrics } from './staplewarm-metrics.js';
import { parseExposition, sampleValue } from './testing/exposition.js';
import { promtool, requirePromtool } from './testing/prometheus-tools.js';

const HOUR = 3_600_000;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isMetricsError(err) ? err.code : 'not a MetricsError';
  }
  return undefined;
}

describe('StaplewarmMetrics', () => {
  it('counts a 429 for its responder host only, and records the fetch duration', async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    metrics.fetchObserved('ocsp.ca-one.test', 'http_429', 0.02);
    metrics.fetchObserved('ocsp.ca-one.test', 'http_429', 0.03);
    metrics.fetchObserved('ocsp.ca-one.test', 'ok', 0.2);
    metrics.fetchObserved('ocsp.ca-two.test', 'ok', 0.04);
    const text = await metrics.text();
    const fetches = METRIC_NAMES.fetchesTotal;
    expect(sampleValue(text, fetches, { responder: 'ocsp.ca-one.test', outcome: 'http_429' })).toBe(2);
    expect(sampleValue(text, fetches, { responder: 'ocsp.ca-one.test', outcome: 'ok' })).toBe(1);
    expect(sampleValue(text, fetches, { responder: 'ocsp.ca-two.test', outcome: 'http_429' })).toBeUndefined();
    const duration = METRIC_NAMES.fetchDurationSeconds;
    expect(sampleValue(text, `${duration}_count`, { responder: 'ocsp.ca-one.test' })).toBe(3);
    expect(sampleValue(text, `${duration}_sum`, { responder: 'ocsp.ca-one.test' })).toBeCloseTo(0.25);
    expect(sampleValue(text, `${duration}_bucket`, { responder: 'ocsp.ca-one.test', le: '0.025' })).toBe(1);
    expect(sampleValue(text, `${duration}_bucket`, { responder: 'ocsp.ca-one.test', le: '0.05' })).toBe(2);
  });

  it('adds up time paused by 429s per responder', async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    metrics.rateLimited('ocsp.ca-one.test', 2);
    metrics.rateLimited('ocsp.ca-one.test', 0.5);
    const text = await metrics.text();
    expect(sampleValue(text, METRIC_NAMES.rateLimitedSecondsTotal, { responder: 'ocsp.ca-one.test' })).toBe(2.5);
  });

  it('refuses labels that would blow up cardinality and impossible values', () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    expect(codeOf(() => metrics.fetchObserved('http://ocsp.ca-one.test/abc', 'ok', 0.1))).toBe('invalid-label');
    expect(codeOf(() => metrics.fetchObserved('ocsp.ca-one.test', 'ok', -1))).toBe('invalid-value');
    expect(codeOf(() => metrics.rateLimited('ocsp.ca-one.test', Number.NaN))).toBe('invalid-value');
    expect(codeOf(() => metrics.setQueueJobs({ waiting: -3 }))).toBe('invalid-value');
  });

  it('counts revocations', async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    expect(sampleValue(await metrics.text(), METRIC_NAMES.revokedTotal)).toBe(0);
    metrics.revocationSeen();
    metrics.revocationSeen(2);
    expect(sampleValue(await metrics.text(), METRIC_NAMES.revokedTotal)).toBe(3);
  });

  it('exports every certificate and queue state from the start, and snapshots replace them', async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    let text = await metrics.text();
    expect(parseExposition(text).filter((s) => s.name === METRIC_NAMES.certificates)).toHaveLength(5);
    expect(parseExposition(text).filter((s) => s.name === METRIC_NAMES.queueJobs)).toHaveLength(4);
    metrics.setCertificateStates({ stapled_good: 49_000, failing: 12, no_ocsp_url: 900 });
    metrics.setQueueJobs({ waiting: 40, delayed: 7 });
    metrics.setQueueJobs({ waiting: 3, active: 5 });
    text = await metrics.text();
    expect(sampleValue(text, METRIC_NAMES.certificates, { state: 'stapled_good' })).toBe(49_000);
    expect(sampleValue(text, METRIC_NAMES.certificates, { state: 'failing' })).toBe(12);
    expect(sampleValue(text, METRIC_NAMES.certificates, { state: 'missing' })).toBe(0);
    expect(sampleValue(text, METRIC_NAMES.queueJobs, { state: 'waiting' })).toBe(3);
    expect(sampleValue(text, METRIC_NAMES.queueJobs, { state: 'active' })).toBe(5);
    expect(sampleValue(text, METRIC_NAMES.queueJobs, { state: 'delayed' })).toBe(0);
  });

  it("counts the exporters' changes and failures from the first scrape, and the reloads by result", async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    let text = await metrics.text();
    for (const exporter of ['nginx', 'haproxy-dir', 'haproxy-socket']) {
      expect(sampleValue(text, METRIC_NAMES.exportChangesTotal, { exporter })).toBe(0);
      expect(sampleValue(text, METRIC_NAMES.exportFailuresTotal, { exporter })).toBe(0);
    }
    expect(sampleValue(text, METRIC_NAMES.exportReloadsTotal, { result: 'failed' })).toBe(0);
    metrics.exportObserved('nginx', 3, 0);
    metrics.exportObserved('nginx', 2, 1);
    metrics.exportObserved('haproxy-socket', 0, 1);
    metrics.exportReloaded(true);
    metrics.exportReloaded(false);
    metrics.exportReloaded(false);
    text = await metrics.text();
    expect(sampleValue(text, METRIC_NAMES.exportChangesTotal, { exporter: 'nginx' })).toBe(5);
    expect(sampleValue(text, METRIC_NAMES.exportFailuresTotal, { exporter: 'nginx' })).toBe(1);
    expect(sampleValue(text, METRIC_NAMES.exportFailuresTotal, { exporter: 'haproxy-socket' })).toBe(1);
    expect(sampleValue(text, METRIC_NAMES.exportReloadsTotal, { result: 'ok' })).toBe(1);
    expect(sampleValue(text, METRIC_NAMES.exportReloadsTotal, { result: 'failed' })).toBe(2);
    expect(codeOf(() => metrics.exportObserved('nginx', -1, 0))).toBe('invalid-value');
  });

  it('exports the certificates serve holds back by reason, and counts suspected shrinks', async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    let text = await metrics.text();
    expect(sampleValue(text, METRIC_NAMES.scanHeldCertificates, { reason: 'suspected_shrink' })).toBe(0);
    expect(sampleValue(text, METRIC_NAMES.scanHeldCertificates, { reason: 'unreadable_store' })).toBe(0);
    expect(sampleValue(text, METRIC_NAMES.scanSuspectedShrinksTotal)).toBe(0);
    metrics.setHeldCertificates({ suspected_shrink: 50_000, unreadable_store: 12 });
    metrics.shrinkSuspected();
    text = await metrics.text();
    expect(sampleValue(text, METRIC_NAMES.scanHeldCertificates, { reason: 'suspected_shrink' })).toBe(50_000);
    expect(sampleValue(text, METRIC_NAMES.scanHeldCertificates, { reason: 'unreadable_store' })).toBe(12);
    expect(sampleValue(text, METRIC_NAMES.scanSuspectedShrinksTotal)).toBe(1);
    // A snapshot: the reasons left out go back to 0.
    metrics.setHeldCertificates({ unreadable_store: 3 });
    text = await metrics.text();
    expect(sampleValue(text, METRIC_NAMES.scanHeldCertificates, { reason: 'suspected_shrink' })).toBe(0);
    expect(codeOf(() => metrics.setHeldCertificates({ suspected_shrink: -1 }))).toBe('invalid-value');
  });

  it('drives the cold-start gauges: in progress, ratio, then the duration once', async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    const read = async (): Promise<(number | undefined)[]> => {
      const text = await metrics.text();
      return [
        sampleValue(text, METRIC_NAMES.coldStartInProgress),
        sampleValue(text, METRIC_NAMES.coldStartProgressRatio),
        sampleValue(text, METRIC_NAMES.coldStartSeconds),
      ];
    };
    expect(await read()).toEqual([0, 0, 0]);
    metrics.coldStart.start(1_000_000);
    metrics.coldStart.progress(250, 1_000, 1_010_000);
    expect(await read()).toEqual([1, 0.25, 0]);
    metrics.coldStart.progress(1_000, 1_000, 1_100_000);
    expect(await read()).toEqual([0, 1, 100]);
    metrics.coldStart.finish(1_900_000);
    metrics.coldStart.progress(1_000, 1_000, 1_900_000);
    expect(await read()).toEqual([0, 1, 100]);
  });

  it('computes the soonest expiry and lifetime buckets at scrape time from the clock', async () => {
    let now = Date.UTC(2026, 0, 10);
    const metrics = new StaplewarmMetrics({ defaultMetrics: false, now: () => now });
    expect(sampleValue(await metrics.text(), METRIC_NAMES.stapleExpirySeconds)).toBe(Infinity);
    metrics.setStapleNextUpdates([now + 30 * HOUR, new Date(now + 3 * HOUR), now + 100 * HOUR]);
    let text = await metrics.text();
    const buckets = METRIC_NAMES.staplesByRemainingLifetime;
    expect(sampleValue(text, METRIC_NAMES.stapleExpirySeconds)).toBe(3 * 3_600);
    expect(sampleValue(text, buckets, { within: '1h' })).toBe(0);
    expect(sampleValue(text, buckets, { within: '6h' })).toBe(1);
    expect(sampleValue(text, buckets, { within: '2d' })).toBe(2);
    expect(sampleValue(text, buckets, { within: '7d' })).toBe(3);
    expect(sampleValue(text, buckets, { within: 'any' })).toBe(3);
    now += 2.5 * HOUR;
    text = await metrics.text();
    expect(sampleValue(text, METRIC_NAMES.stapleExpirySeconds)).toBe(0.5 * 3_600);
    expect(sampleValue(text, buckets, { within: '1h' })).toBe(1);
  });

  it('includes default Node.js metrics on /metrics but keeps them out of the textfile', async () => {
    const metrics = new StaplewarmMetrics();
    const names = (text: string): Set<string> => new Set(parseExposition(text).map((s) => s.name));
    expect(names(await metrics.text())).toContain('process_cpu_user_seconds_total');
    const own = [...names(await metrics.textfileText())];
    expect(own.length).toBeGreaterThan(0);
    expect(own.filter((name) => !name.startsWith('staplewarm_'))).toEqual([]);
  });

  it('produces an exposition that promtool accepts', async (ctx) => {
    requirePromtool(ctx);
    const metrics = new StaplewarmMetrics();
    for (const outcome of FETCH_OUTCOMES) metrics.fetchObserved('ocsp.ca-one.test', outcome, 0.1);
    metrics.rateLimited('ocsp.ca-one.test', 1);
    metrics.setStapleNextUpdates([Date.now() + HOUR]);
    metrics.coldStart.start(Date.now());
    const own = promtool(['check', 'metrics'], { input: await metrics.textfileText() });
    expect(own.output).toBe('');
    expect(own.status).toBe(0);
    // prom-client's own default metrics break a naming lint (nodejs_active_handles_total is a
    // gauge); parse errors would fail differently, and nothing of ours may be reported.
    const all = promtool(['check', 'metrics'], { input: await metrics.text() });
    expect([0, 3]).toContain(all.status);
    const reported = all.output.split('\n').filter((line) => line !== '');
    expect(reported.filter((line) => !line.startsWith('nodejs_'))).toEqual([]);
  });
});
