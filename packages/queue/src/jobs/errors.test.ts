import { describe, expect, it } from 'vitest';
import { StapleJobError, failureCode } from './errors.js';

describe('StapleJobError', () => {
  it('leads its message with the code, which failureCode reads back', () => {
    const err = new StapleJobError('unsuccessful:tryLater', 'http://ocsp.test: try later', { retryable: true });
    expect(err.message).toBe('unsuccessful:tryLater: http://ocsp.test: try later');
    expect(failureCode(err.message)).toBe('unsuccessful:tryLater');
  });

  it('reads an unknown reason as a generic error', () => {
    expect(failureCode('something broke')).toBe('error');
    expect(failureCode(undefined)).toBe('error');
  });
});
