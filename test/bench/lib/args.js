// Command line of `npm run bench`.
export const USAGE = `usage: npm run bench [-- options]

  --scenario a,b,c,d,relay   which scenarios to run (default: all)
  --count N            certificates for scenarios a, b and c (default 50000)
  --peer-count N       certificates for scenario d (default 2000)
  --quick              scaled-down run: 5000 certificates for a-c, 500 for d
  --profile            write a CPU profile of the worker (node --cpu-prof) per scenario
  --out DIR            where results, profiles and the PKI cache go (default /tmp/staplewarm-bench)
  --nice N             relay scenario: run the relay and wrk at this nice level (-20..19; below 0 needs
                       root): on a machine others use, what the relay does when it gets its core
`;

export class UsageError extends Error {
  code = 'usage';
}

export function parseArgs(argv) {
  const options = {
    scenarios: ['a', 'b', 'c', 'd', 'relay'],
    count: 50_000,
    peerCount: 2_000,
    profile: false,
    out: '/tmp/staplewarm-bench',
    quick: false,
    nice: 0,
  };
  let count;
  let peerCount;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--scenario')
      options.scenarios = value()
        .split(',')
        .map((s) => s.trim().toLowerCase());
    else if (arg === '--count') count = positive(arg, value());
    else if (arg === '--peer-count') peerCount = positive(arg, value());
    else if (arg === '--quick') options.quick = true;
    else if (arg === '--profile') options.profile = true;
    else if (arg === '--out') options.out = value();
    else if (arg === '--nice') options.nice = niceLevel(value());
    else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else throw new UsageError(`unknown option ${arg}`);
  }
  if (options.scenarios.some((s) => !['a', 'b', 'c', 'd', 'relay'].includes(s))) throw new UsageError(`scenarios are a, b, c, d, relay`);
  options.count = count ?? (options.quick ? 5_000 : 50_000);
  options.peerCount = peerCount ?? (options.quick ? 500 : 2_000);
  return options;
}

function niceLevel(raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -20 || n > 19) throw new UsageError(`--nice expects a whole number from -20 to 19, got ${raw}`);
  return n;
}

function positive(flag, raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a positive whole number, got ${raw}`);
  return n;
}
