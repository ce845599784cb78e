import { describe, expect, it } from 'vitest';
import { jobDataOf } from './index-writer.js';

describe('jobDataOf', () => {
  it('leaves out the index-only issuer name and nothing else', () => {
    const target = {
      fingerprint: 'ab',
      names: ['a.test'],
      mustStaple: false,
      certNotAfter: 1,
      ocspUrls: ['http://ocsp.test/'],
      certId: { hashAlgorithm: 'sha1' as const, issuerNameHash: 'aa', issuerKeyHash: 'bb', serialNumber: '01' },
      request: 'MA==',
      issuerSpki: 'MA==',
      subject: 'CN=a.test',
      issuerName: 'MA==',
      paths: ['/etc/a.pem'],
    };
    const { issuerName: _dropped, ...rest } = target;
    expect(jobDataOf(target)).toEqual(rest);
    expect(jobDataOf(rest)).toEqual(rest);
  });
});
