import { describe, expect, it } from 'vitest';
import { hostsToEvict, type HostUse } from './host-eviction.js';

const bounds = { idleMs: 60_000, maxHosts: 3 };
const use = (host: string, lastUsed: number, busy = false): HostUse => ({ host, lastUsed, busy });

describe('hostsToEvict', () => {
  it('forgets hosts unused for idleMs, and no others while under maxHosts', () => {
    const now = 100_000;
    expect(hostsToEvict([use('a', now - 60_000), use('b', now - 59_999), use('c', now)], now, bounds)).toEqual(['a']);
    expect(hostsToEvict([use('b', now - 59_999), use('c', now)], now, bounds)).toEqual([]);
  });

  it('never forgets a busy host, however idle', () => {
    expect(hostsToEvict([use('a', 0, true), use('b', 0)], 1_000_000, bounds)).toEqual(['b']);
  });

  it('past maxHosts, forgets the least recently used until at maxHosts', () => {
    const hosts = [use('e', 50), use('a', 10), use('d', 40), use('b', 20), use('c', 30)];
    expect(hostsToEvict(hosts, 100, bounds)).toEqual(['a', 'b']);
  });

  it('counts idle hosts towards the excess, and skips busy ones among the least recently used', () => {
    const now = 200_000;
    const hosts = [use('old', 0), use('a', now - 10, true), use('b', now - 9), use('c', now - 8), use('d', now - 7)];
    // 'old' goes for idleness; one more must go to reach 3: 'a' is busy, so 'b'.
    expect(hostsToEvict(hosts, now, bounds)).toEqual(['old', 'b']);
  });

  it('exceeds maxHosts rather than forgetting busy hosts', () => {
    const hosts = [use('a', 1, true), use('b', 2, true), use('c', 3, true), use('d', 4, true), use('e', 5)];
    expect(hostsToEvict(hosts, 10, bounds)).toEqual(['e']);
  });
});
