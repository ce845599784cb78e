/** A logger that takes a warning with its error (StapleLogger and RelayLogger both are). */
interface WarnLog {
  warn(obj: { err: unknown }, msg: string): void;
}

/**
 * Wraps each report to a metric so that one refusing a value (prom-client throws on a bad label
 * or value) is logged once and never thrown into a job or a request.
 */
export function metricsGuard(log: WarnLog): (report: () => void) => void {
  let warned = false;
  return (report) => {
    try {
      report();
    } catch (err) {
      if (!warned) log.warn({ err }, 'metrics: a value was refused (reported once)');
      warned = true;
    }
  };
}
