import { describe, expect, it } from 'vitest';
import { needsFetch, refreshDueAt } from './schedule.js';

const day = 86_400_000;
const thisUpdate = new Date(Date.UTC(2026, 10, 23));
const nextUpdate = new Date(thisUpdate.getTime() + 7 * day);

describe('refresh schedule', () => {
  it('is due halfway through the validity window', () => {
    expect(refreshDueAt({ hasStaple: true, thisUpdate, nextUpdate })).toBe(thisUpdate.getTime() + 3.5 * day);
  });

  it('fetches what is missing, and fresh staples only once due', () => {
    expect(needsFetch(undefined, thisUpdate.getTime())).toBe(true);
    expect(needsFetch({ hasStaple: false, thisUpdate, nextUpdate }, thisUpdate.getTime())).toBe(true);
    expect(needsFetch({ hasStaple: true, thisUpdate, nextUpdate }, thisUpdate.getTime() + day)).toBe(false);
    expect(needsFetch({ hasStaple: true, thisUpdate, nextUpdate }, thisUpdate.getTime() + 4 * day)).toBe(true);
  });

  it('fetches when the stored times are unreadable', () => {
    expect(needsFetch({ hasStaple: true }, thisUpdate.getTime())).toBe(true);
  });
});
