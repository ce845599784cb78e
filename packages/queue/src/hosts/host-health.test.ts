import { describe, expect, it } from 'vitest';
import { HostHealth, type HostHealthPolicy } from './host-health.js';

const policy: HostHealthPolicy = { failuresToOpen: 3, coolDown: { baseMs: 1_000, maxMs: 8_000 } };
const T0 = 1_000_000;

describe('HostHealth', () => {
  it('opens after consecutive failures and lets requests through before that', () => {
    const health = new HostHealth(policy, () => 1);
    expect(health.failed(T0)).toBe(0);
    expect(health.failed(T0)).toBe(0);
    expect(health.blockedUntil(T0)).toBeUndefined();
    expect(health.failed(T0)).toBe(T0 + 1_000);
    expect(health.blockedUntil(T0 + 999)).toBe(T0 + 1_000);
  });

  it('forgets failures once the host answers', () => {
    const health = new HostHealth(policy, () => 1);
    health.failed(T0);
    health.failed(T0);
    health.succeeded();
    expect(health.failed(T0)).toBe(0);
    expect(health.blockedUntil(T0)).toBeUndefined();
  });

  it('ignores failures of requests sent before it opened', () => {
    const health = new HostHealth(policy, () => 1);
    for (let i = 0; i < 3; i++) health.failed(T0);
    expect(health.failed(T0 + 10)).toBe(0);
    expect(health.blockedUntil(T0 + 10)).toBe(T0 + 1_000);
  });

  it('after the cool-down, probes with one request: a failure reopens for longer, an answer closes', () => {
    const health = new HostHealth(policy, () => 1);
    for (let i = 0; i < 3; i++) health.failed(T0);
    const later = T0 + 1_000;
    expect(health.blockedUntil(later)).toBeUndefined(); // the probe
    expect(health.blockedUntil(later)).toBe(later + 1_000); // others wait for it
    expect(health.failed(later + 5)).toBe(later + 5 + 2_000);
    const after = later + 5 + 2_000;
    expect(health.blockedUntil(after)).toBeUndefined();
    health.succeeded();
    expect(health.blockedUntil(after)).toBeUndefined();
    expect(health.blockedUntil(after)).toBeUndefined();
  });
});
