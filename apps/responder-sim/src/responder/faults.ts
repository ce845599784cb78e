/**
 * Fault switches: misbehaviours of real responders and CDNs, each fired by a probability per request
 * or on every Nth request it sees. Settable at run time (library `setFaults`, HTTP `POST /_sim/faults`).
 */
import { SimError } from '../errors.js';

export const FAULT_NAMES = [
  /** 405 on GET, so clients must fall back to POST (only GET requests count towards it). */
  'rejectGet',
  /** HTTP 429 whatever the rate. */
  'only429',
  /** Never answer (the connection stays open until the client gives up or the responder closes). */
  'hang',
  /** HTTP 500. */
  'http5xx',
  /** 200 with random bytes and the OCSP content type. */
  'garbage',
  /** OCSP responseStatus tryLater (3). */
  'tryLater',
  /** A response signed by a key that is neither the issuer nor its delegated responder. */
  'wrongSigner',
  /** nextUpdate in the past. */
  'expired',
  /** thisUpdate older than the response served before (a stale CDN node). */
  'olderThisUpdate',
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];

/** `true`: every request; a number: probability in [0, 1]; or `{ probability }` / `{ every: N }`. */
export type FaultTrigger = boolean | number | { probability: number } | { every: number };

export type Faults = Partial<Record<FaultName, FaultTrigger>>;

/** Faults decided before the request is read: they do not depend on which certificate is asked for. */
export const TRANSPORT_FAULTS = ['rejectGet', 'only429', 'hang', 'http5xx', 'garbage', 'tryLater'] as const;
/** Faults that change the signed response for a known certificate. */
export const RESPONSE_FAULTS = ['wrongSigner', 'expired', 'olderThisUpdate'] as const;

interface ArmedFault {
  name: FaultName;
  probability: number;
  every: number;
  seen: number;
}

function arm(name: string, trigger: unknown): ArmedFault {
  if (!(FAULT_NAMES as readonly string[]).includes(name)) {
    throw new SimError('bad-option', `unknown fault ${name}; known: ${FAULT_NAMES.join(', ')}`);
  }
  const fault = { name: name as FaultName, probability: 0, every: 0, seen: 0 };
  if (typeof trigger === 'boolean') return { ...fault, probability: trigger ? 1 : 0 };
  const probability =
    typeof trigger === 'number'
      ? trigger
      : typeof trigger === 'object' && trigger !== null && 'probability' in trigger
        ? trigger.probability
        : undefined;
  if (probability !== undefined) {
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      throw new SimError('bad-option', `fault ${name}: probability must be in [0, 1]`);
    }
    return { ...fault, probability };
  }
  const every = typeof trigger === 'object' && trigger !== null && 'every' in trigger ? trigger.every : undefined;
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1) {
    throw new SimError('bad-option', `fault ${name}: expected true/false, a probability, { probability } or { every: N >= 1 }`);
  }
  return { ...fault, every };
}

/** The armed faults and their "every Nth" counters. */
export class FaultPlan {
  private armed: ArmedFault[] = [];
  private spec: Faults = {};

  constructor(private readonly random: () => number = Math.random) {}

  /** Replaces every fault (`{}` clears them); counters restart. Validates input from JSON too. */
  set(faults: unknown): void {
    if (typeof faults !== 'object' || faults === null || Array.isArray(faults)) {
      throw new SimError('bad-option', 'faults must be an object such as { "http5xx": 0.1, "hang": { "every": 10 } }');
    }
    const armed = Object.entries(faults).map(([name, trigger]) => arm(name, trigger));
    this.armed = armed.filter((fault) => fault.probability > 0 || fault.every > 0);
    this.spec = { ...(faults as Faults) };
  }

  get(): Faults {
    return { ...this.spec };
  }

  /**
   * The first of `candidates` (in that order) that fires for this request. Every armed candidate
   * counts the request, whether or not an earlier one fired, so "every Nth" stays predictable.
   */
  pick<Name extends FaultName>(candidates: readonly Name[]): Name | undefined {
    if (this.armed.length === 0) return undefined;
    let fired: Name | undefined;
    for (const name of candidates) {
      const fault = this.armed.find((armed) => armed.name === name);
      if (!fault) continue;
      fault.seen++;
      const fires = fault.every > 0 ? fault.seen % fault.every === 0 : this.random() < fault.probability;
      if (fires && fired === undefined) fired = name;
    }
    return fired;
  }
}
