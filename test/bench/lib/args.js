// Command line of `npm run bench`.
export const ALL_SCENARIOS = ['a', 'b', 'c', 'd', 'e', 'f', 'relay', 'sizing'];
/** `sizing` generates up to 200,000 certificates and runs for many minutes: only when asked. */
export const DEFAULT_SCENARIOS = ['a', 'b', 'c', 'd', 'e', 'f', 'relay'];

export const USAGE = `usage: npm run bench [-- options]

  --scenario LIST      comma-separated, from: a,b,c,d,e,f,relay,sizing (default: a,b,c,d,e,f,relay)
                         a       worker + warm --no-work, --rate 500 vs a 500 req/s responder (20 ms)
                         b       the same with --rate 1000 --host-rate <responder>=1000: a 429 storm
                         c       one \`warm --rate 0 --default-host-rate 0\` process, no limit, 0 ms: end to end
                         d       warm vs \`openssl ocsp\` run 16 at a time, no limit, 20 ms
                         e       5 CAs, each its own responder at 500 req/s (20 ms), one \`warm --rate 2500\`,
                                 tree grouped by CA (the target), then interleaved (for information)
                         f       2 workers + warm --no-work at 500 req/s (20 ms): a worker SIGKILLed 4 s after
                                 the first request; then (another run) Redis with AOF restarted the same way
                         relay   staplewarm relay answering from its cache, wrk in another process
                         sizing  (opt-in) warm and worker + warm --no-work at 50K, 100K, 200K, no limit;
                                 a table with a linear fit and its value at 1M
  --count N            certificates for a and b (default 50000)
  --c-count N          certificates for c (default 20000)
  --peer-count N       certificates for d (default 2000)
  --e-count N          certificates for e, split over the 5 CAs (default 50000)
  --e-order LIST       trees e warms: grouped,interleaved (default both; grouped is judged)
  --f-count N          certificates for f (default 5000)
  --f-faults LIST      faults f tries: worker-kill,redis-restart (default both)
  --sizing-counts LIST certificates for sizing (default 50000,100000,200000)
  --quick              scaled-down run: a, b, c, e 5000; d 500; f 5000; sizing 5000,10000,20000
  --profile            write a CPU profile of the worker (node --cpu-prof) per scenario a, b
  --out DIR            where results, profiles and the PKI cache go (default /tmp/staplewarm-bench)
  --nice N             relay: run the relay and wrk at this nice level (-20..19; below 0 needs root):
                       on a machine others use, what the relay does when it gets its core
`;

export class UsageError extends Error {
  code = 'usage';
}

export function parseArgs(argv) {
  const options = {
    scenarios: DEFAULT_SCENARIOS,
    eOrders: ['grouped', 'interleaved'],
    fFaults: ['worker-kill', 'redis-restart'],
    profile: false,
    out: '/tmp/staplewarm-bench',
    quick: false,
    nice: 0,
  };
  const counts = {};
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
    else if (arg === '--count') counts.count = positive(arg, value());
    else if (arg === '--c-count') counts.cCount = positive(arg, value());
    else if (arg === '--peer-count') counts.peerCount = positive(arg, value());
    else if (arg === '--e-count') counts.eCount = positive(arg, value(), 5);
    else if (arg === '--e-order') options.eOrders = orders(value());
    else if (arg === '--f-count') counts.fCount = positive(arg, value());
    else if (arg === '--f-faults') options.fFaults = faults(value());
    else if (arg === '--sizing-counts') counts.sizingCounts = sizes(arg, value());
    else if (arg === '--quick') options.quick = true;
    else if (arg === '--profile') options.profile = true;
    else if (arg === '--out') options.out = value();
    else if (arg === '--nice') options.nice = niceLevel(value());
    else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else throw new UsageError(`unknown option ${arg}`);
  }
  if (options.scenarios.some((s) => !ALL_SCENARIOS.includes(s))) throw new UsageError(`scenarios are ${ALL_SCENARIOS.join(', ')}`);
  const quick = options.quick;
  options.count = counts.count ?? (quick ? 5_000 : 50_000);
  options.cCount = counts.cCount ?? (quick ? 5_000 : 20_000);
  options.peerCount = counts.peerCount ?? (quick ? 500 : 2_000);
  options.eCount = counts.eCount ?? (quick ? 5_000 : 50_000);
  options.fCount = counts.fCount ?? 5_000;
  options.sizingCounts = counts.sizingCounts ?? (quick ? [5_000, 10_000, 20_000] : [50_000, 100_000, 200_000]);
  return options;
}

function niceLevel(raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -20 || n > 19) throw new UsageError(`--nice expects a whole number from -20 to 19, got ${raw}`);
  return n;
}

function positive(flag, raw, min = 1) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} expects a whole number >= ${min}, got ${raw}`);
  return n;
}

function sizes(flag, raw) {
  const list = [...new Set(raw.split(',').map((part) => positive(flag, part.trim())))].sort((a, b) => a - b);
  if (list.length < 2) throw new UsageError(`${flag} needs at least two different sizes`);
  return list;
}

function orders(raw) {
  const list = raw.split(',').map((part) => part.trim().toLowerCase());
  if (list.length === 0 || list.some((o) => o !== 'grouped' && o !== 'interleaved')) {
    throw new UsageError('--e-order takes grouped, interleaved or both');
  }
  // grouped first: it is the one judged.
  return ['grouped', 'interleaved'].filter((o) => list.includes(o));
}

function faults(raw) {
  const list = raw.split(',').map((part) => part.trim().toLowerCase());
  if (list.length === 0 || list.some((f) => f !== 'worker-kill' && f !== 'redis-restart')) {
    throw new UsageError('--f-faults takes worker-kill, redis-restart or both');
  }
  return ['worker-kill', 'redis-restart'].filter((f) => list.includes(f));
}
