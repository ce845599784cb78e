import { describe, expect, it } from 'vitest';
import { DEFAULT_LISTEN, formatListenAddress, parseListenAddress } from './listen-address.js';

describe('parseListenAddress', () => {
  it('reads HOST:PORT, host names and bracketed IPv6', () => {
    expect(parseListenAddress(DEFAULT_LISTEN)).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListenAddress('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseListenAddress('relay.internal:8888')).toEqual({ host: 'relay.internal', port: 8888 });
    expect(parseListenAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it.each(['8080', '127.0.0.1', ':8080', '::1:8080', '[zz]:80', '127.0.0.1:65536', 'a b:80', 'http://x:80', '[::1]'])(
    'refuses %s',
    (text) => {
      expect(() => parseListenAddress(text)).toThrow(expect.objectContaining({ code: 'invalid-listen' }));
    },
  );

  it('formats IPv6 in brackets', () => {
    expect(formatListenAddress({ host: '::1', port: 1 })).toBe('[::1]:1');
    expect(formatListenAddress({ host: '127.0.0.1', port: 1 })).toBe('127.0.0.1:1');
  });
});
