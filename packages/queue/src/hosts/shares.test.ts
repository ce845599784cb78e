import { describe, expect, it } from 'vitest';
import { hostShares } from './shares.js';

const sum = (shares: Map<string, number>): number => [...shares.values()].reduce((a, b) => a + b, 0);

describe('hostShares', () => {
  it('gives every host its own budget when they fit under the ceiling', () => {
    const budgets = new Map([
      ['a', 500],
      ['b', 200],
    ]);
    expect(hostShares(budgets, 2_500)).toEqual(budgets);
    expect(hostShares(budgets, 0)).toEqual(budgets); // no ceiling
  });

  it('splits the ceiling equally between hosts whose budgets are above their share', () => {
    const shares = hostShares(
      new Map([
        ['a', 500],
        ['b', 500],
        ['c', 500],
        ['d', 500],
        ['e', 500],
      ]),
      1_000,
    );
    expect([...shares.values()]).toEqual([200, 200, 200, 200, 200]);
  });

  it('hands what a small host cannot use to the others, never passing the ceiling', () => {
    const shares = hostShares(
      new Map([
        ['small', 50],
        ['big', 10_000],
        ['mid', 400],
      ]),
      1_000,
    );
    expect(shares.get('small')).toBe(50);
    expect(shares.get('mid')).toBe(400);
    expect(shares.get('big')).toBe(550);
    expect(sum(shares)).toBe(1_000);
  });

  it('caps unlimited hosts at their share of the ceiling', () => {
    const shares = hostShares(
      new Map([
        ['a', Infinity],
        ['b', Infinity],
      ]),
      900,
    );
    expect([...shares.values()]).toEqual([450, 450]);
  });

  it('never passes the ceiling nor a budget, whatever the budgets (random cases)', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let round = 0; round < 500; round++) {
      const budgets = new Map(Array.from({ length: 1 + Math.floor(random() * 8) }, (_, i) => [`h${i}`, Math.round(random() * 1_000) + 1]));
      const ceiling = Math.round(random() * 3_000) + 1;
      const shares = hostShares(budgets, ceiling);
      expect(sum(shares)).toBeLessThanOrEqual(ceiling + 1e-6);
      for (const [host, share] of shares) expect(share).toBeLessThanOrEqual(budgets.get(host)!);
      // Unused ceiling only when every host has its whole budget.
      if (sum(shares) < ceiling - 1e-6) for (const [host, share] of shares) expect(share).toBe(budgets.get(host));
    }
  });
});
