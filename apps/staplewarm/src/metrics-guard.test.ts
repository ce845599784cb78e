import { describe, expect, it } from 'vitest';
import { metricsGuard } from './metrics-guard.js';

describe('metricsGuard', () => {
  it('runs each report, and a report that throws is logged once, never thrown', () => {
    const warnings: unknown[] = [];
    const guard = metricsGuard({ warn: ({ err }) => void warnings.push(err) });
    let reported = 0;
    guard(() => void reported++);
    const refused = new Error('Added label "responder" is not included in initial labelset');
    expect(() =>
      guard(() => {
        throw refused;
      }),
    ).not.toThrow();
    expect(() =>
      guard(() => {
        throw new Error('again');
      }),
    ).not.toThrow();
    guard(() => void reported++);
    expect(reported).toBe(2);
    expect(warnings).toEqual([refused]);
  });
});
