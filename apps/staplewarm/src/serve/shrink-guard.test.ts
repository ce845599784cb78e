import { describe, expect, it } from 'vitest';
import { decideShrink, isSuspectedShrink, missingFrom, type ShrinkHold, type ShrinkInput } from './shrink-guard.js';

const policy = { ratio: 0.5, confirmScans: 3 };
const T0 = Date.parse('2026-03-01T10:00:00Z');
const scan = (over: Partial<ShrinkInput>): ShrinkInput => ({
  known: 1_000,
  found: 1_000,
  hold: undefined,
  confirmed: false,
  now: T0,
  newHoldId: 'h1',
  ...over,
});

describe('isSuspectedShrink', () => {
  it('is fewer than ratio × known, and never before anything is known', () => {
    expect(isSuspectedShrink(1_000, 499, 0.5)).toBe(true);
    expect(isSuspectedShrink(1_000, 500, 0.5)).toBe(false);
    expect(isSuspectedShrink(1_000, 0, 0.5)).toBe(true);
    expect(isSuspectedShrink(0, 0, 0.5)).toBe(false); // the first scan
    expect(isSuspectedShrink(1_000, 0, 0)).toBe(false); // ratio 0: the guard is off
    expect(isSuspectedShrink(1, 0, 1)).toBe(true);
  });
});

describe('decideShrink', () => {
  it('accepts a scan that is not a suspected shrink, removals and additions alike', () => {
    expect(decideShrink(scan({ found: 600 }), policy)).toEqual({ action: 'accept', reason: 'no-shrink', ended: undefined });
    expect(decideShrink(scan({ known: 0, found: 0 }), policy)).toMatchObject({ action: 'accept', reason: 'no-shrink' });
    expect(decideShrink(scan({ found: 5_000 }), policy)).toMatchObject({ action: 'accept', reason: 'no-shrink' });
  });

  it('holds a sudden drop, counting the scans that agree, and accepts at the confirmScans-th', () => {
    const first = decideShrink(scan({ found: 0 }), policy);
    expect(first).toEqual({ action: 'hold', hold: { id: 'h1', scans: 1, since: T0 }, scansLeft: 2 });
    const hold1 = (first as { hold: ShrinkHold }).hold;
    const second = decideShrink(scan({ found: 10, hold: hold1, now: T0 + 300_000, newHoldId: 'h2' }), policy);
    // The same hold goes on: its id and start stay, so a confirmation given for it still counts.
    expect(second).toEqual({ action: 'hold', hold: { id: 'h1', scans: 2, since: T0 }, scansLeft: 1 });
    const hold2 = (second as { hold: ShrinkHold }).hold;
    expect(decideShrink(scan({ found: 0, hold: hold2, now: T0 + 600_000 }), policy)).toEqual({
      action: 'accept',
      reason: 'agreed',
      ended: { id: 'h1', scans: 3, since: T0 },
    });
  });

  it('accepts a held shrink once the operator confirmed it', () => {
    const hold: ShrinkHold = { id: 'h1', scans: 1, since: T0 };
    expect(decideShrink(scan({ found: 0, hold, confirmed: true }), policy)).toEqual({
      action: 'accept',
      reason: 'confirmed',
      ended: { id: 'h1', scans: 2, since: T0 },
    });
    // Without the confirmation the same scan is held.
    expect(decideShrink(scan({ found: 0, hold, confirmed: false }), policy)).toMatchObject({ action: 'hold' });
  });

  it('never lets a confirmation approve a shrink that was not held when it was given', () => {
    expect(decideShrink(scan({ found: 0, confirmed: true }), policy)).toMatchObject({ action: 'hold', hold: { scans: 1 } });
  });

  it('ends the hold when the stores come back, whatever was confirmed', () => {
    const hold: ShrinkHold = { id: 'h1', scans: 2, since: T0 };
    expect(decideShrink(scan({ found: 990, hold, confirmed: true }), policy)).toEqual({
      action: 'accept',
      reason: 'no-shrink',
      ended: hold,
    });
  });

  it('with confirmScans 1 accepts every shrink at once (the guard only warns)', () => {
    expect(decideShrink(scan({ found: 0 }), { ratio: 0.5, confirmScans: 1 })).toEqual({
      action: 'accept',
      reason: 'agreed',
      ended: { id: 'h1', scans: 1, since: T0 },
    });
  });
});

describe('missingFrom', () => {
  it('lists the accepted certificates the scan did not find', () => {
    const accepted = new Map(['a', 'b', 'c'].map((fp) => [fp, { fingerprint: fp }]));
    expect(missingFrom(accepted, [{ fingerprint: 'b' }, { fingerprint: 'd' }])).toEqual([{ fingerprint: 'a' }, { fingerprint: 'c' }]);
    expect(missingFrom(accepted, [])).toHaveLength(3);
  });
});
