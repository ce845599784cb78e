/**
 * Just enough of npm's semver ranges to read an `engines.node` field: comparator sets of `^`, `~`,
 * `>=`, `>`, `<=`, `<`, `=` or a bare version, joined by `||`. Anything else throws, so a range this
 * reader does not understand fails the test instead of passing unread.
 */

/** A version as one number, so ranges become intervals: major, minor and patch each below 1e6. */
function version(major: number, minor: number, patch: number): number {
  return major * 1e12 + minor * 1e6 + patch;
}

/** The versions one comparator accepts, as the half-open interval [low, high). */
function comparator(text: string): [number, number] {
  const match = /^(\^|~|>=|<=|>|<|=)?v?(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!match) throw new Error(`unsupported engines comparator "${text}" (extend test/deploy/node-range.ts)`);
  const [, op = '', ...parts] = match;
  const [major, minor, patch] = parts.map(Number) as [number, number, number];
  const at = version(major, minor, patch);
  switch (op) {
    case '>=':
      return [at, Infinity];
    case '>':
      return [at + 1, Infinity];
    case '<=':
      return [0, at + 1];
    case '<':
      return [0, at];
    case '~':
      return [at, version(major, minor + 1, 0)];
    case '^':
      if (major > 0) return [at, version(major + 1, 0, 0)];
      return minor > 0 ? [at, version(0, minor + 1, 0)] : [at, at + 1];
    default:
      return [at, at + 1];
  }
}

/** Does `range` accept every release of the major line `major` (`node:24-slim` may pull any 24.x)? */
export function rangeCoversMajor(range: string, major: number): boolean {
  const sets = range.split('||').map((set) =>
    set
      .trim()
      .split(/\s+/)
      .map(comparator)
      .reduce(([low, high], [l, h]) => [Math.max(low, l), Math.min(high, h)], [0, Infinity]),
  );
  let covered = version(major, 0, 0);
  const end = version(major + 1, 0, 0);
  for (const [low, high] of sets.sort((a, b) => a[0] - b[0])) {
    if (low > covered) break;
    covered = Math.max(covered, high);
  }
  return covered >= end;
}
