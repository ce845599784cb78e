import cliProgress from 'cli-progress';

/**
 * Progress of a warm run: a bar on a TTY, a plain line every few seconds otherwise (logs, CI).
 * Fetching starts while the scan still finds certificates, so the total grows until `scanned()`.
 */
export interface Progress {
  start(): void;
  /** More staples to fetch: the total so far. */
  setTotal(total: number): void;
  /** The scan is over: `setTotal` was given the final total. */
  scanned(): void;
  update(done: number, failed: number): void;
  stop(): void;
}

/** For `--json` runs: nothing on the terminal. */
export const silentProgress: Progress = { start() {}, setTotal() {}, scanned() {}, update() {}, stop() {} };

export function createProgress(stream: NodeJS.WriteStream = process.stderr, intervalMs = 5_000): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'warm [{bar}] {percentage}% {value}/{total}{scanning} | {rate}/s | failed {failed} | eta {eta_formatted}',
        hideCursor: true,
        // The total is 0 until the scan's first batch: an empty bar, not cli-progress's "100 %".
        emptyOnZero: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let startedAt = 0;
    return {
      start() {
        startedAt = Date.now();
        bar.start(0, 0, { rate: 0, failed: 0, scanning: ' (scanning...)' });
      },
      setTotal(total) {
        bar.setTotal(total);
      },
      scanned() {
        bar.update({ scanning: '' });
      },
      update(done, failed) {
        const seconds = (Date.now() - startedAt) / 1000;
        bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0, failed });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let total = 0;
  let scanning = true;
  let lastLine = 0;
  let startedAt = 0;
  return {
    start() {
      startedAt = lastLine = Date.now();
      stream.write('warm: scanning; fetching starts with the first certificates found\n');
    },
    setTotal(n) {
      total = n;
    },
    scanned() {
      scanning = false;
      stream.write(`warm: scan finished, ${total} staples to fetch\n`);
    },
    update(done, failed) {
      const now = Date.now();
      if (now - lastLine < intervalMs && (scanning || done < total)) return;
      lastLine = now;
      const rate = Math.round(done / Math.max(0.001, (now - startedAt) / 1000));
      stream.write(`warm: ${done}/${total}${scanning ? '+' : ''} done, ${failed} failed, ${rate}/s\n`);
    },
    stop() {},
  };
}
