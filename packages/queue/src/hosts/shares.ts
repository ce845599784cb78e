/**
 * The global ceiling (`--rate`) shared out over the responder hosts that have work. Pure.
 *
 * Each host has its own budget (its `--host-rate`, else the default host rate). When the budgets of
 * the hosts with work add up to more than the ceiling, each gets an equal share, and what a host
 * cannot use (its budget is below the share) goes to the others ("water-filling"): the ceiling is
 * never passed, and never left unused while a host could take more. Every process computes the same
 * shares from the same inputs, so the hosts' budgets, kept in Redis, stay consistent.
 *
 * @param budgets - each host with work → its own budget, requests/s (Infinity: unlimited)
 * @param ceiling - requests/s over all of them; 0 or Infinity: no ceiling
 * @returns each host → the rate it may use
 */
export function hostShares(budgets: ReadonlyMap<string, number>, ceiling: number): Map<string, number> {
  const shares = new Map(budgets);
  if (!(ceiling > 0) || ceiling === Infinity || budgets.size === 0) return shares;
  let left = ceiling;
  // Smallest budgets first: each either fits in an equal share of what is left, or sets the level.
  const byBudget = [...budgets].sort((a, b) => a[1] - b[1]);
  for (let i = 0; i < byBudget.length; i++) {
    const [host, budget] = byBudget[i]!;
    const level = left / (byBudget.length - i);
    const share = Math.min(budget, level);
    shares.set(host, share);
    left -= share;
  }
  return shares;
}
