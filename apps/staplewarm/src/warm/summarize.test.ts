import { describe, expect, it } from 'vitest';
import { TIMEOUT_CODE, summarize, type FetchedCertificate, type SettledJob, type WarmRun } from './summary.js';

const target = (i: number): FetchedCertificate => ({ names: [`site${i}.test`], path: `/certs/site${i}/fullchain.pem` });
const fp = (i: number) => i.toString(16).padStart(64, '0');
const stored = (i: number, status: 'good' | 'revoked' = 'good'): SettledJob => ({
  id: fp(i),
  state: 'completed',
  result: { outcome: 'stored', status, responder: 'http://ocsp.test/' },
});
const failed = (i: number, code: string): SettledJob => ({ id: fp(i), state: 'failed', code, reason: `${code}: why` });

function run(overrides: Partial<WarmRun>): WarmRun {
  const toFetch = new Map([1, 2, 3, 4, 5, 6].map((i) => [fp(i), target(i)]));
  return {
    report: { filesRead: 12, keyFilesSkipped: 6, leaves: 8, targetCount: toFetch.size, noOcspUrl: [], problems: [] },
    toFetch,
    ended: [],
    unfinished: [],
    timeoutReason: 'not finished within --timeout 5 s',
    fresh: 2,
    scanSeconds: 1,
    fetchSeconds: 4,
    elapsedSeconds: 5,
    ...overrides,
  };
}

describe('summarize', () => {
  it('puts each certificate in exactly one place: stored, kept, unknown, failed by reason, or timed out', () => {
    const summary = summarize(
      run({
        ended: [
          stored(1),
          stored(2, 'revoked'),
          { id: fp(3), state: 'completed', result: { outcome: 'kept', status: 'good', responder: 'x', reason: 'older' } },
          failed(4, 'status-unknown'),
          failed(5, 'http-500'),
        ],
        unfinished: [fp(6)],
      }),
    );
    expect(summary.stored).toEqual({ good: 1, revoked: 1 });
    expect(summary.kept).toBe(1);
    expect(summary.unknown).toBe(1);
    expect(summary.failed).toEqual({ 'http-500': 1, [TIMEOUT_CODE]: 1 });
    expect(summary.failures.map((f) => [f.code, f.path, f.names])).toEqual([
      ['http-500', '/certs/site5/fullchain.pem', ['site5.test']],
      [TIMEOUT_CODE, '/certs/site6/fullchain.pem', ['site6.test']],
    ]);
    expect(summary.failures[1]!.reason).toBe('not finished within --timeout 5 s');
    expect(summary.complete).toBe(false);
    expect(summary.fetched).toBe(6);
    expect(summary.rate).toBe(1.5);
  });

  it('is complete only when every fetched certificate has a staple and every input was usable', () => {
    const all = [1, 2, 3, 4, 5, 6].map((i) => stored(i));
    expect(summarize(run({ ended: all })).complete).toBe(true);
    const withProblem = run({ ended: all });
    withProblem.report = { ...withProblem.report, problems: [{ path: '/certs/bad.pem', code: 'not-a-certificate', detail: 'x' }] };
    const summary = summarize(withProblem);
    expect(summary.complete).toBe(false);
    expect(summary.problemCounts).toEqual({ 'not-a-certificate': 1 });
  });

  it('counts a certificate once, and ignores settlements of jobs this run did not enqueue', () => {
    const summary = summarize(run({ ended: [stored(1), stored(1), stored(99)], unfinished: [fp(1)] }));
    expect(summary.stored.good).toBe(1);
    expect(summary.failures).toEqual([]);
  });
});
