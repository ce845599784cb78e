import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { FETCH_DURATION_BUCKETS, METRIC_NAMES } from './names.js';

/** The prom-client objects behind StaplewarmMetrics; callers never see them. */
export interface Instruments {
  coldStartSeconds: Gauge;
  coldStartProgressRatio: Gauge;
  coldStartInProgress: Gauge;
  certificates: Gauge<'state'>;
  fetchesTotal: Counter<'responder' | 'outcome'>;
  fetchDurationSeconds: Histogram<'responder'>;
  stapleExpirySeconds: Gauge;
  staplesByRemainingLifetime: Gauge<'within'>;
  rateLimitedSecondsTotal: Counter<'responder'>;
  queueJobs: Gauge<'state'>;
  revokedTotal: Counter;
  scanHeldCertificates: Gauge<'reason'>;
  scanSuspectedShrinksTotal: Counter;
  exportChangesTotal: Counter<'exporter'>;
  exportFailuresTotal: Counter<'exporter'>;
  exportReloadsTotal: Counter<'result'>;
}

/**
 * Creates every staplewarm metric in `registers`. The two gauges computed from the clock take a
 * `collect` hook, called by prom-client just before each exposition.
 */
export function createInstruments(
  registers: Registry[],
  collect: { stapleExpiry: (gauge: Gauge) => void; remainingLifetime: (gauge: Gauge<'within'>) => void },
): Instruments {
  const stapleExpirySeconds: Gauge = new Gauge({
    name: METRIC_NAMES.stapleExpirySeconds,
    help: 'Seconds until the soonest nextUpdate among stored staples (+Inf when none is stored).',
    registers,
    collect: () => collect.stapleExpiry(stapleExpirySeconds),
  });
  const staplesByRemainingLifetime: Gauge<'within'> = new Gauge({
    name: METRIC_NAMES.staplesByRemainingLifetime,
    help: 'Stored staples whose remaining lifetime (until nextUpdate) is at most `within` (1h, 6h, 1d, 2d, 4d, 7d; `any`: all of them).',
    labelNames: ['within'],
    registers,
    collect: () => collect.remainingLifetime(staplesByRemainingLifetime),
  });
  return {
    coldStartSeconds: new Gauge({
      name: METRIC_NAMES.coldStartSeconds,
      help: 'Duration of the last finished cold start: until every certificate with an OCSP URL had a staple (0 before one finishes).',
      registers,
    }),
    coldStartProgressRatio: new Gauge({
      name: METRIC_NAMES.coldStartProgressRatio,
      help: 'Fraction of certificates with an OCSP URL stapled during the current cold start (1 once finished).',
      registers,
    }),
    coldStartInProgress: new Gauge({
      name: METRIC_NAMES.coldStartInProgress,
      help: '1 while a cold start is running, else 0.',
      registers,
    }),
    certificates: new Gauge({
      name: METRIC_NAMES.certificates,
      help: 'Known certificates by state (stapled_good, stapled_revoked, missing, no_ocsp_url, failing).',
      labelNames: ['state'],
      registers,
    }),
    fetchesTotal: new Counter({
      name: METRIC_NAMES.fetchesTotal,
      help: 'OCSP fetch attempts by responder host and outcome.',
      labelNames: ['responder', 'outcome'],
      registers,
    }),
    fetchDurationSeconds: new Histogram({
      name: METRIC_NAMES.fetchDurationSeconds,
      help: 'Duration of OCSP fetch attempts by responder host, whatever their outcome.',
      labelNames: ['responder'],
      buckets: [...FETCH_DURATION_BUCKETS],
      registers,
    }),
    stapleExpirySeconds,
    staplesByRemainingLifetime,
    rateLimitedSecondsTotal: new Counter({
      name: METRIC_NAMES.rateLimitedSecondsTotal,
      help: 'Seconds spent paused after 429 responses, by responder host.',
      labelNames: ['responder'],
      registers,
    }),
    queueJobs: new Gauge({
      name: METRIC_NAMES.queueJobs,
      help: 'Jobs in the staple queues by state (waiting, active, delayed, failed); a warm job holds up to --batch-size certificates.',
      labelNames: ['state'],
      registers,
    }),
    revokedTotal: new Counter({
      name: METRIC_NAMES.revokedTotal,
      help: 'Revocations seen: certificates found revoked by their responder.',
      registers,
    }),
    scanHeldCertificates: new Gauge({
      name: METRIC_NAMES.scanHeldCertificates,
      help: 'Certificates serve keeps refreshing although its latest scan did not find them, by reason (suspected_shrink: held until confirmed with `staplewarm accept-shrink` or enough scans agree; unreadable_store).',
      labelNames: ['reason'],
      registers,
    }),
    scanSuspectedShrinksTotal: new Counter({
      name: METRIC_NAMES.scanSuspectedShrinksTotal,
      help: 'Suspected shrinks: rescans that suddenly found far fewer certificates than the last accepted scan (counted once per episode).',
      registers,
    }),
    exportChangesTotal: new Counter({
      name: METRIC_NAMES.exportChangesTotal,
      help: 'Exported staples handed over or withdrawn: nginx/HAProxy files written or removed, responses pushed to HAProxy, by exporter.',
      labelNames: ['exporter'],
      registers,
    }),
    exportFailuresTotal: new Counter({
      name: METRIC_NAMES.exportFailuresTotal,
      help: 'Export failures, by exporter: a certificate whose file could not be written or whose push HAProxy refused, or a whole pass that failed (socket down, Redis down).',
      labelNames: ['exporter'],
      registers,
    }),
    exportReloadsTotal: new Counter({
      name: METRIC_NAMES.exportReloadsTotal,
      help: 'Runs of the nginx reload command after exported changes, by result (ok, failed).',
      labelNames: ['result'],
      registers,
    }),
  };
}
