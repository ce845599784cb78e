/**
 * The shrink guard of `serve`: a rescan that suddenly finds far fewer certificates than the last
 * accepted one (an empty mount point, an unreadable certbot `archive/`, a store half restored from
 * a backup) is much more likely an accident than a fleet retiring most of its sites. Dropping them
 * would remove every scheduled refresh, and the staples would expire days later with nobody
 * noticing; so such a scan is *held*: the missing certificates stay tracked until the operator
 * confirms (`staplewarm accept-shrink`) or `confirmScans` consecutive scans agree.
 *
 * The decision is pure (the clock and the confirmation are inputs); `run-serve.ts` applies it.
 */

export interface ShrinkPolicy {
  /**
   * A scan that finds fewer than `ratio` × the certificates of the last accepted scan is a
   * suspected shrink. 0 turns the guard off.
   */
  ratio: number;
  /** Consecutive suspected scans (the first included) that accept the shrink without a confirmation; 1 = at once. */
  confirmScans: number;
}

/** A suspected shrink being held back. */
export interface ShrinkHold {
  /** Names this hold: a confirmation names the hold it was given for, so it never approves a later one. */
  id: string;
  /** Consecutive suspected scans so far, the latest included. */
  scans: number;
  /** When the first of them ran, epoch ms. */
  since: number;
}

export interface ShrinkInput {
  /** Certificates tracked after the last accepted scan. */
  known: number;
  /** Certificates this scan found (those carried over from unreadable stores included). */
  found: number;
  /** The hold in progress, if any. */
  hold: ShrinkHold | undefined;
  /** The operator confirmed `hold` (a confirmation naming its id was found). */
  confirmed: boolean;
  /** This scan's start, epoch ms. */
  now: number;
  /** The id a hold beginning with this scan gets. */
  newHoldId: string;
}

export type ShrinkDecision =
  /** Not a suspected shrink: track what the scan found. `ended`: a hold this scan ends (the stores came back). */
  | { action: 'accept'; reason: 'no-shrink'; ended: ShrinkHold | undefined }
  /** A suspected shrink, accepted: the operator confirmed it, or `confirmScans` scans agreed. */
  | { action: 'accept'; reason: 'confirmed' | 'agreed'; ended: ShrinkHold }
  /** A suspected shrink, held: keep tracking the certificates the scan did not find. */
  | { action: 'hold'; hold: ShrinkHold; scansLeft: number };

/** Is a scan finding `found` of `known` certificates a suspected shrink? (Never the first scan: nothing is known.) */
export function isSuspectedShrink(known: number, found: number, ratio: number): boolean {
  return found < known * ratio;
}

/** What to do with one scan's result. */
export function decideShrink(input: ShrinkInput, policy: ShrinkPolicy): ShrinkDecision {
  if (!isSuspectedShrink(input.known, input.found, policy.ratio)) return { action: 'accept', reason: 'no-shrink', ended: input.hold };
  const hold: ShrinkHold = input.hold
    ? { ...input.hold, scans: input.hold.scans + 1 }
    : { id: input.newHoldId, scans: 1, since: input.now };
  // Only a hold that existed before this scan can have been confirmed: the operator saw it.
  if (input.hold && input.confirmed) return { action: 'accept', reason: 'confirmed', ended: hold };
  if (hold.scans >= policy.confirmScans) return { action: 'accept', reason: 'agreed', ended: hold };
  return { action: 'hold', hold, scansLeft: policy.confirmScans - hold.scans };
}

/** The accepted certificates a scan did not find: what a hold keeps tracking. */
export function missingFrom<T extends { fingerprint: string }>(accepted: ReadonlyMap<string, T>, found: readonly T[]): T[] {
  const seen = new Set(found.map((t) => t.fingerprint));
  return [...accepted.values()].filter((t) => !seen.has(t.fingerprint));
}
