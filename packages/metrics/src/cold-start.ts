import { assertNonNegative } from './errors.js';

/** Where the gauges go; StaplewarmMetrics wires it to prom-client, tests to plain arrays. */
export interface ColdStartSink {
  /** A cold start began (epoch milliseconds). */
  started(startedAt: number): void;
  /** Fraction of certificates with an OCSP URL that have a staple, 0..1. */
  progressed(ratio: number): void;
  /** The cold start is over: every such certificate has a staple. Called once per cold start. */
  finished(seconds: number): void;
}

export type ColdStartState = 'idle' | 'running' | 'finished';

/**
 * Times one cold start: from `start` (process start of `serve`/`worker` with an empty cache, or the
 * beginning of a `warm` run) until every known certificate with an OCSP URL had a staple.
 * Pure: the caller passes the clock (epoch milliseconds) to every call.
 *
 * The duration is reported once per cold start, however often `progress` or `finish` is called
 * afterwards; `start` after a finished cold start begins a new one (e.g. Redis was flushed).
 */
export class ColdStartTracker {
  private readonly sink: ColdStartSink;
  private startedAt: number | null = null;
  private current: ColdStartState = 'idle';
  private lastRatio = 0;
  private lastSeconds: number | null = null;

  constructor(sink: ColdStartSink) {
    this.sink = sink;
  }

  get state(): ColdStartState {
    return this.current;
  }

  /** Seconds the last finished cold start took, or null before the first one finishes. */
  get seconds(): number | null {
    return this.lastSeconds;
  }

  /** Begins a cold start. Returns false (and keeps the first start time) when one is running. */
  start(now: number): boolean {
    assertNonNegative(now, 'cold start time');
    if (this.current === 'running') return false;
    this.current = 'running';
    this.startedAt = now;
    this.lastRatio = 0;
    this.sink.started(now);
    this.sink.progressed(0);
    return true;
  }

  /**
   * Reports `done` of `total` certificates stapled and returns the ratio now shown. Reaching the
   * total (`done >= total`, including 0 of 0) finishes the cold start at `now`. Ignored unless a
   * cold start is running.
   */
  progress(done: number, total: number, now: number): number {
    assertNonNegative(done, 'cold start done count');
    assertNonNegative(total, 'cold start total');
    if (this.current !== 'running') return this.lastRatio;
    if (done >= total) {
      this.finish(now);
      return this.lastRatio;
    }
    this.lastRatio = done / total;
    this.sink.progressed(this.lastRatio);
    return this.lastRatio;
  }

  /**
   * Ends the running cold start at `now` and returns its duration in seconds; returns null (and
   * changes nothing) when none is running, so the duration is reported only once.
   */
  finish(now: number): number | null {
    assertNonNegative(now, 'cold start time');
    if (this.current !== 'running' || this.startedAt === null) return null;
    // A clock stepping backwards must not report a negative duration.
    const seconds = Math.max(0, now - this.startedAt) / 1000;
    this.current = 'finished';
    this.lastRatio = 1;
    this.lastSeconds = seconds;
    this.sink.progressed(1);
    this.sink.finished(seconds);
    return seconds;
  }
}
