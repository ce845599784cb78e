import { describe, expect, it } from 'vitest';
import { stapleKeys } from './keys.js';

describe('stapleKeys (contract v1 key names)', () => {
  const fp = 'AB'.repeat(32);

  it('builds the default ocsp: names', () => {
    const keys = stapleKeys();
    expect(keys.staple(fp)).toBe(`ocsp:staple:${'ab'.repeat(32)}`);
    expect(keys.meta(fp)).toBe(`ocsp:meta:${'ab'.repeat(32)}`);
    expect(keys.host('WWW.Example.COM')).toBe('ocsp:host:www.example.com');
    expect(keys.host('*.Example.com')).toBe('ocsp:host:*.example.com');
    expect(keys.issuer('sha1', 'AB01', 'CD02')).toBe('ocsp:issuer:sha1:ab01:cd02');
    expect(keys.certId('0123ABCD', '00FF01')).toBe('ocsp:certid:0123abcd:00ff01');
  });

  it('uses a custom prefix verbatim and escapes it in the SCAN pattern', () => {
    const keys = stapleKeys('t[1]*:');
    expect(keys.staple('00')).toBe('t[1]*:staple:00');
    expect(keys.metaPattern()).toBe('t\\[1\\]\\*:meta:*');
    expect(keys.fingerprintOfMeta(keys.meta('ff'))).toBe('ff');
  });
});
