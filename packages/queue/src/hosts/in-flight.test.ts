import { describe, expect, it } from 'vitest';
import { InFlightGate } from './in-flight.js';

describe('InFlightGate', () => {
  it('admits up to the limit, then hands each freed place to the oldest waiter', async () => {
    const gate = new InFlightGate(2);
    expect([await gate.enter(0), await gate.enter(0)]).toEqual([true, true]);
    const order: string[] = [];
    const first = gate.enter(1_000).then((ok) => order.push(`first:${ok}`));
    const second = gate.enter(1_000).then((ok) => order.push(`second:${ok}`));
    gate.leave();
    gate.leave();
    await Promise.all([first, second]);
    expect(order).toEqual(['first:true', 'second:true']);
    expect(gate.inFlight).toBe(2);
  });

  it('gives up after the wait, and forgets the waiter', async () => {
    const gate = new InFlightGate(1);
    await gate.enter(0);
    expect(await gate.enter(10)).toBe(false);
    gate.leave();
    expect(gate.inFlight).toBe(0);
  });
});
