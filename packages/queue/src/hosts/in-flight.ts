/**
 * At most `max` requests in flight to one host from this process. A request over the limit waits a
 * little for one to end (a healthy host ends one every few milliseconds) rather than being turned
 * away; a host whose requests do not end (it hangs) keeps the others out, so they can go back to
 * the queue instead of holding worker slots.
 *
 * The job runner also counts with one the certificates a process works at once per host queue
 * (`enterWhenFree`: a place is waited for as long as it takes, batches of a host queue in turn).
 */
export class InFlightGate {
  private count = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly max: number) {}

  get inFlight(): number {
    return this.count;
  }

  /** Takes a place, waiting up to `waitMs` for one; false when none was freed in time. */
  async enter(waitMs: number): Promise<boolean> {
    if (this.count < this.max) {
      this.count++;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(false);
      }, waitMs);
      this.waiters.push(waiter);
    });
  }

  /** Takes a place, waiting as long as it takes (the places are held by work that ends on its own). */
  enterWhenFree(): Promise<void> {
    if (this.count < this.max) {
      this.count++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiters.push(() => resolve()));
  }

  /** A request ended: its place goes straight to the oldest waiter (the count stays), else is freed. */
  leave(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.count = Math.max(0, this.count - 1);
  }
}
