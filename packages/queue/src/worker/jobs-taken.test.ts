import { describe, expect, it } from 'vitest';
import { JobsTaken } from './jobs-taken.js';

describe('JobsTaken', () => {
  it('takes room for twice the certificates in flight, in jobs of the size expected before any is seen', () => {
    expect(new JobsTaken(128, 16).jobs).toBe(16);
    expect(new JobsTaken(128, 1).jobs).toBe(128); // never more jobs than certificates in flight
    expect(new JobsTaken(4, 16).jobs).toBe(1);
  });

  it('follows the size of the jobs taken: plain jobs after batches, batches after plain jobs', () => {
    const taken = new JobsTaken(128, 16);
    let jobs = taken.jobs;
    for (let i = 0; i < 30; i++) jobs = taken.taken(1);
    expect(jobs).toBe(128);
    for (let i = 0; i < 30; i++) jobs = taken.taken(16);
    expect(jobs).toBeGreaterThanOrEqual(16);
    expect(jobs).toBeLessThanOrEqual(17);
  });
});
