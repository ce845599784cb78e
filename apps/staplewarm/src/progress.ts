import cliProgress from 'cli-progress';

/** Progress of a warm run: a bar on a TTY, a plain line every few seconds otherwise (logs, CI). */
export interface Progress {
  start(total: number): void;
  update(done: number, failed: number): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, intervalMs = 5_000): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: 'warm [{bar}] {percentage}% {value}/{total} | {rate}/s | failed {failed} | eta {eta_formatted}', hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let startedAt = 0;
    return {
      start(total) {
        startedAt = Date.now();
        bar.start(total, 0, { rate: 0, failed: 0 });
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
  let lastLine = 0;
  let startedAt = 0;
  return {
    start(n) {
      total = n;
      startedAt = lastLine = Date.now();
      stream.write(`warm: fetching ${n} staples\n`);
    },
    update(done, failed) {
      const now = Date.now();
      if (now - lastLine < intervalMs && done < total) return;
      lastLine = now;
      const rate = Math.round(done / Math.max(0.001, (now - startedAt) / 1000));
      stream.write(`warm: ${done}/${total} done, ${failed} failed, ${rate}/s\n`);
    },
    stop() {},
  };
}
