import { describe, expect, it } from 'vitest';
import { ColdStartTracker, type ColdStartSink } from './cold-start.js';
import { isMetricsError } from './errors.js';

function recordingSink(): ColdStartSink & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    started: (at) => events.push(`started ${at}`),
    progressed: (ratio) => events.push(`progress ${ratio}`),
    finished: (seconds) => events.push(`finished ${seconds}`),
  };
}

describe('ColdStartTracker', () => {
  it('reports progress as done/total and the duration when done reaches total', () => {
    const sink = recordingSink();
    const tracker = new ColdStartTracker(sink);
    expect(tracker.state).toBe('idle');
    expect(tracker.start(10_000)).toBe(true);
    expect(tracker.progress(1, 4, 11_000)).toBe(0.25);
    expect(tracker.progress(3, 4, 12_000)).toBe(0.75);
    expect(tracker.progress(4, 4, 110_500)).toBe(1);
    expect(tracker.state).toBe('finished');
    expect(tracker.seconds).toBe(100.5);
    expect(sink.events).toEqual(['started 10000', 'progress 0', 'progress 0.25', 'progress 0.75', 'progress 1', 'finished 100.5']);
  });

  it('reports the duration once and only once per cold start', () => {
    const sink = recordingSink();
    const tracker = new ColdStartTracker(sink);
    tracker.start(0);
    expect(tracker.finish(2_000)).toBe(2);
    expect(tracker.finish(9_000)).toBeNull();
    expect(tracker.progress(5, 5, 9_000)).toBe(1);
    expect(tracker.progress(1, 5, 9_000)).toBe(1);
    expect(sink.events.filter((e) => e.startsWith('finished'))).toEqual(['finished 2']);
    expect(tracker.seconds).toBe(2);
  });

  it('keeps the first start time when start is called while running', () => {
    const tracker = new ColdStartTracker(recordingSink());
    expect(tracker.start(1_000)).toBe(true);
    expect(tracker.start(5_000)).toBe(false);
    expect(tracker.finish(7_000)).toBe(6);
  });

  it('begins a new cold start after a finished one (e.g. the cache was flushed)', () => {
    const sink = recordingSink();
    const tracker = new ColdStartTracker(sink);
    tracker.start(0);
    tracker.finish(1_000);
    expect(tracker.start(50_000)).toBe(true);
    expect(tracker.state).toBe('running');
    expect(tracker.progress(0, 10, 50_001)).toBe(0);
    expect(tracker.finish(53_000)).toBe(3);
    expect(sink.events.filter((e) => e.startsWith('finished'))).toEqual(['finished 1', 'finished 3']);
  });

  it('finishes at once when there is nothing to staple (0 of 0)', () => {
    const tracker = new ColdStartTracker(recordingSink());
    tracker.start(1_000);
    expect(tracker.progress(0, 0, 1_250)).toBe(1);
    expect(tracker.seconds).toBe(0.25);
  });

  it('ignores progress and finish before any start', () => {
    const sink = recordingSink();
    const tracker = new ColdStartTracker(sink);
    expect(tracker.progress(3, 4, 1)).toBe(0);
    expect(tracker.finish(1)).toBeNull();
    expect(tracker.seconds).toBeNull();
    expect(sink.events).toEqual([]);
  });

  it('never reports a negative duration when the clock steps back', () => {
    const tracker = new ColdStartTracker(recordingSink());
    tracker.start(10_000);
    expect(tracker.finish(9_000)).toBe(0);
  });

  it('rejects negative counts with a typed error', () => {
    const tracker = new ColdStartTracker(recordingSink());
    tracker.start(0);
    let caught: unknown;
    try {
      tracker.progress(-1, 4, 0);
    } catch (err) {
      caught = err;
    }
    expect(isMetricsError(caught) && caught.code).toBe('invalid-value');
  });
});
