import { describe, expect, it } from 'vitest';
import { isMetricsError } from './errors.js';
import { METRIC_NAMES } from './names.js';
import { DEFAULT_MAX_RESPONDERS, OTHER_RESPONDER, ResponderLabels } from './responder.js';
import { StaplewarmMetrics } from './staplewarm-metrics.js';
import { parseExposition, sampleValue } from './testing/exposition.js';

describe('ResponderLabels', () => {
  it('keeps the first max distinct hosts as they are and reports later ones as other', () => {
    const labels = new ResponderLabels(2);
    expect(labels.label('a.test')).toBe('a.test');
    expect(labels.label('b.test:8080')).toBe('b.test:8080');
    expect(labels.label('c.test')).toBe(OTHER_RESPONDER);
    // Hosts seen before the cap keep their label for good.
    expect(labels.label('a.test')).toBe('a.test');
    expect(labels.label('d.test')).toBe(OTHER_RESPONDER);
  });

  it('refuses what is not a host, without spending a place', () => {
    const labels = new ResponderLabels(1);
    let code: string | undefined;
    try {
      labels.label('http://a.test/');
    } catch (err) {
      code = isMetricsError(err) ? err.code : 'other error';
    }
    expect(code).toBe('invalid-label');
    expect(labels.label('a.test')).toBe('a.test');
  });
});

describe('StaplewarmMetrics responder cardinality', () => {
  it(`uses at most ${DEFAULT_MAX_RESPONDERS} responder label values by default, then other`, async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false });
    for (let i = 0; i < 150; i++) metrics.fetchObserved(`ocsp${i}.ca.test`, 'ok', 0.01);
    metrics.rateLimited('ocsp149.ca.test', 2);
    metrics.rateLimited('ocsp3.ca.test', 1);
    const text = await metrics.text();
    const responders = new Set(
      parseExposition(text)
        .filter((s) => s.name === METRIC_NAMES.fetchesTotal)
        .map((s) => s.labels.responder),
    );
    expect(responders.size).toBe(DEFAULT_MAX_RESPONDERS + 1);
    expect(responders.has('ocsp99.ca.test')).toBe(true);
    expect(responders.has('ocsp100.ca.test')).toBe(false);
    expect(sampleValue(text, METRIC_NAMES.fetchesTotal, { responder: OTHER_RESPONDER, outcome: 'ok' })).toBe(50);
    expect(sampleValue(text, METRIC_NAMES.rateLimitedSecondsTotal, { responder: OTHER_RESPONDER })).toBe(2);
    expect(sampleValue(text, METRIC_NAMES.rateLimitedSecondsTotal, { responder: 'ocsp3.ca.test' })).toBe(1);
  });

  it('takes the cap as an option', async () => {
    const metrics = new StaplewarmMetrics({ defaultMetrics: false, maxResponders: 1 });
    metrics.fetchObserved('a.test', 'timeout', 1);
    metrics.fetchObserved('b.test', 'timeout', 1);
    const text = await metrics.text();
    expect(sampleValue(text, METRIC_NAMES.fetchesTotal, { responder: 'a.test', outcome: 'timeout' })).toBe(1);
    expect(sampleValue(text, METRIC_NAMES.fetchesTotal, { responder: OTHER_RESPONDER, outcome: 'timeout' })).toBe(1);
  });
});
