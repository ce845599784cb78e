/**
 * How many jobs a host queue's BullMQ worker takes at once, from the size of the jobs it takes: room
 * for twice the certificates worked at once (`certificatesInFlight`, so a batch's stragglers never
 * leave places idle), at most `certificatesInFlight` jobs. One certificate per job (serve's refreshes,
 * the relay): 128 jobs; batches of 16 (a cold start): 16. Without it a process would take 128
 * batches, 2,048 certificates of a host, before another process got any, and a process killed
 * would hold them all. Pure: the pool sets `Worker.concurrency` from it as jobs are taken.
 */
export class JobsTaken {
  /** Certificates per job, a moving average over the last ~5 jobs. */
  private average: number;

  constructor(
    private readonly certificatesInFlight: number,
    /** The job size expected before any was seen (the batch size a cold start uses). */
    expected: number,
  ) {
    this.average = Math.max(1, expected);
  }

  /** Jobs to take at once now. */
  get jobs(): number {
    return Math.max(1, Math.min(this.certificatesInFlight, Math.ceil((2 * this.certificatesInFlight) / this.average)));
  }

  /** A job of `certificates` was taken; returns the jobs to take at once from now on. */
  taken(certificates: number): number {
    this.average += (Math.max(1, certificates) - this.average) * 0.2;
    return this.jobs;
  }
}
