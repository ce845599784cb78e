/**
 * How many responder hosts a process keeps state for. Certificates choose their OCSP hosts, so the
 * number of hosts has no natural bound: a host nobody asked for a while is forgotten (its 429
 * history stays in Redis while it lasts, HOST_STATE_TTL_MS), and past `maxHosts` the least recently
 * used are. A host whose state still matters (requests in flight or queued, a pause or an open
 * circuit breaker not over yet) is never forgotten, so the cap can be exceeded while they all are.
 */
export interface HostBounds {
  /** A host unused for this long is forgotten. @defaultValue 600000 (10 minutes) */
  idleMs: number;
  /** Hosts kept at most (when they can be forgotten). @defaultValue 1000 */
  maxHosts: number;
}

export const DEFAULT_HOST_BOUNDS: HostBounds = { idleMs: 10 * 60_000, maxHosts: 1_000 };

export interface HostUse {
  host: string;
  /** Last use, epoch ms. */
  lastUsed: number;
  /** Its state still matters: requests in flight or queued, a pause or an open breaker. */
  busy: boolean;
}

/** The hosts to forget now: the idle ones, then the least recently used while over `maxHosts`. Pure. */
export function hostsToEvict(hosts: readonly HostUse[], now: number, bounds: HostBounds): string[] {
  const evictable = hosts.filter((use) => !use.busy);
  const idle = evictable.filter((use) => now - use.lastUsed >= bounds.idleMs);
  const excess = hosts.length - idle.length - bounds.maxHosts;
  if (excess <= 0) return idle.map((use) => use.host);
  const recent = evictable.filter((use) => now - use.lastUsed < bounds.idleMs).sort((a, b) => a.lastUsed - b.lastUsed);
  return [...idle, ...recent.slice(0, excess)].map((use) => use.host);
}
