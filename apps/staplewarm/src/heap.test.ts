import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapGrowingFlag } from './heap.js';

describe('heapGrowingFlag', () => {
  it('sets the heap growing factor unless node was started with one, in either spelling', () => {
    expect(heapGrowingFlag([])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowingFlag(['--enable-source-maps'])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowingFlag(['--heap-growing-percent=50'])).toBeUndefined();
    expect(heapGrowingFlag(['--heap_growing_percent=50'])).toBeUndefined();
    expect(heapGrowingFlag(['--heap-growing-percent', '50'])).toBeUndefined();
    // Another flag that merely starts alike is not the user's choice of this one.
    expect(heapGrowingFlag(['--heap-growing-percentage=50'])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });
});
