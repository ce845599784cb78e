/**
 * Runs a scan now, then every `intervalMs`, and at once when asked (SIGHUP). Scans never overlap:
 * a request during a scan runs one more right after it. A failed scan is reported and the loop
 * goes on (the certificates tracked so far stay scheduled).
 */
export class ScanLoop {
  private stopped = false;
  private requested = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly scan: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Starts the loop; resolves once the first scan has finished. */
  async start(): Promise<void> {
    let firstDone: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (firstDone = resolve));
    this.running = this.loop(firstDone);
    await first;
  }

  /** Scan as soon as possible (after the scan in progress, if any). */
  request(): void {
    this.requested = true;
    this.wake?.();
  }

  /** Stops after the scan in progress, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async loop(firstDone: () => void): Promise<void> {
    while (!this.stopped) {
      this.requested = false;
      try {
        await this.scan();
      } catch (err) {
        this.onError(err);
      }
      firstDone();
      if (!this.requested && !this.stopped) await this.sleep();
    }
    firstDone();
  }

  private sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.intervalMs);
      this.wake = done;
    });
  }
}
