/** What the store knows about a certificate's current staple, for scheduling decisions. */
export interface StapleState {
  hasStaple: boolean;
  thisUpdate?: Date;
  nextUpdate?: Date;
}

/**
 * When a stored staple is due for refresh: halfway through its validity window (as certmagic and
 * HAProxy do), so a responder outage of up to half the window never leaves a site without a staple.
 */
export function refreshDueAt(state: StapleState): number | undefined {
  if (!state.hasStaple || !state.thisUpdate || !state.nextUpdate) return undefined;
  const start = state.thisUpdate.getTime();
  return start + (state.nextUpdate.getTime() - start) / 2;
}

/** Pure: does this certificate need a fetch now? Missing, unreadable or half-life-old staples do. */
export function needsFetch(state: StapleState | undefined, now: number): boolean {
  if (!state) return true;
  const due = refreshDueAt(state);
  return due === undefined || now >= due;
}
