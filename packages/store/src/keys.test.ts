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
  });

  it('uses a custom prefix verbatim and escapes it in the SCAN pattern', () => {
    const keys = stapleKeys('t[1]*:');
    expect(keys.staple('00')).toBe('t[1]*:staple:00');
    expect(keys.metaPattern()).toBe('t\\[1\\]\\*:meta:*');
    expect(keys.fingerprintOfMeta(keys.meta('ff'))).toBe('ff');
  });
});
