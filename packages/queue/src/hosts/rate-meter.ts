/** Events per second over the last second, in ten 100 ms buckets. Pure: time is an argument. */
export class RateMeter {
  private readonly counts = new Array<number>(10).fill(0);
  private readonly slots = new Array<number>(10).fill(-Infinity);

  record(now: number): void {
    const slot = Math.floor(now / 100);
    const i = slot % 10;
    if (this.slots[i] !== slot) {
      this.slots[i] = slot;
      this.counts[i] = 0;
    }
    this.counts[i]!++;
  }

  perSecond(now: number): number {
    const current = Math.floor(now / 100);
    let total = 0;
    for (let i = 0; i < 10; i++) if (current - this.slots[i]! < 10) total += this.counts[i]!;
    return total;
  }
}
