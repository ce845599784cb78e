import { describe, expect, it } from 'vitest';
import { OVERFLOW_HOST } from './host-queues.js';
import type { StapleJobData } from './job.js';
import { batchJobId, planJobs } from './plan.js';

const target = (fingerprint: string) => ({ fingerprint }) as StapleJobData;

describe('planJobs', () => {
  const targets = ['a1', 'b1', 'a2', 'a3', 'b2', 'a4', 'a5'].map(target);
  const routes = new Map(targets.map((t) => [t.fingerprint, t.fingerprint.startsWith('a') ? 'ca-a.test' : 'ca-b.test']));

  it('makes jobs of at most the batch size, each of one host queue, in the order given', () => {
    const jobs = planJobs(targets, routes, 2);
    expect(jobs.map((job) => [job.host, job.targets.map((t) => t.fingerprint)])).toEqual([
      ['ca-a.test', ['a1', 'a2']],
      ['ca-b.test', ['b1', 'b2']],
      ['ca-a.test', ['a3', 'a4']],
      ['ca-a.test', ['a5']],
    ]);
    // Every certificate in exactly one job.
    expect(jobs.flatMap((job) => job.targets.map((t) => t.fingerprint)).sort()).toEqual(targets.map((t) => t.fingerprint).sort());
  });

  it('gives a job of one certificate its fingerprint as id, a batch an id of its certificates', () => {
    const jobs = planJobs(targets, routes, 2);
    expect(jobs[3]!.id).toBe('a5');
    expect(jobs[0]!.id).toBe(batchJobId([target('a1'), target('a2')]));
    expect(jobs[0]!.id).toMatch(/^batch-[0-9a-f]{32}$/);
    // The same certificates make the same batch (a second warm adds nothing); others another.
    expect(planJobs(targets, routes, 2)[0]!.id).toBe(jobs[0]!.id);
    expect(batchJobId([target('a1'), target('a3')])).not.toBe(jobs[0]!.id);
  });

  it('makes one job per certificate with a batch size of 1, and sends unrouted ones to the overflow queue', () => {
    const jobs = planJobs(targets, new Map(), 1);
    expect(jobs).toHaveLength(targets.length);
    expect(jobs.every((job, i) => job.id === targets[i]!.fingerprint && job.host === OVERFLOW_HOST)).toBe(true);
  });
});
