import { RESPONDER_ALLOW_SETTING } from '@staplewarm/fetch/address-policy';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, SETTINGS, loadConfig, queuePrefix, type ConfigFlags } from './config.js';

// The defaults against the README's table and every command's --help: settings-docs.test.ts.
describe('loadConfig', () => {
  it('takes flags over env over defaults', () => {
    const env = { REDIS_URL: 'redis://10.0.0.1:6379/2', STAPLEWARM_RATE: '800', STAPLEWARM_PREFIX: 'x:' };
    expect(loadConfig({}, env)).toMatchObject({ redisUrl: 'redis://10.0.0.1:6379/2', rate: 800, prefix: 'x:' });
    expect(loadConfig({ rate: '100', redis: 'rediss://u:p@h:6380' }, env)).toMatchObject({ rate: 100, redisUrl: 'rediss://u:p@h:6380' });
  });

  it('names the setting that is wrong', () => {
    expect(() => loadConfig({ rate: 'fast' }, {})).toThrow(/--rate: expected a whole number/);
    expect(() => loadConfig({}, { STAPLEWARM_CONCURRENCY: '0' })).toThrow(/STAPLEWARM_CONCURRENCY/);
    expect(() => loadConfig({}, { REDIS_URL: 'localhost:6379' })).toThrow(ConfigError);
    expect(() => loadConfig({}, { STAPLEWARM_CERTID_HASH: 'md5' })).toThrow(/STAPLEWARM_CERTID_HASH/);
  });

  it('derives the BullMQ prefix from the contract prefix', () => {
    expect(queuePrefix('ocsp:')).toBe('ocsp:bull');
  });
});

describe('responder allow-list', () => {
  it('reads CIDRs, addresses and host names from repeated flags or comma-separated env, normalized', () => {
    expect(loadConfig({ responderAllow: ['127.0.0.0/8', 'OCSP.pki.internal'] }, {}).responderAllow).toEqual([
      '127.0.0.0/8',
      'ocsp.pki.internal',
    ]);
    expect(loadConfig({}, { STAPLEWARM_RESPONDER_ALLOW: '10.1.2.3/8, fd00::/8 ,*.pki.corp' }).responderAllow).toEqual([
      '10.0.0.0/8',
      'fd00::/8',
      '*.pki.corp',
    ]);
    expect(loadConfig({}, { STAPLEWARM_RESPONDER_ALLOW: '' }).responderAllow).toEqual([]);
    expect(DEFAULTS.responderAllow).toEqual([]);
  });

  it('refuses a bad entry as a ConfigError naming the setting and the entry', () => {
    const cases: [ConfigFlags, Record<string, string>, string][] = [
      [{ responderAllow: ['10.0.0.0/33'] }, {}, '--responder-allow'],
      [{}, { STAPLEWARM_RESPONDER_ALLOW: '127.0.0.0/8,http://ocsp.test/' }, 'STAPLEWARM_RESPONDER_ALLOW'],
    ];
    for (const [flags, env, setting] of cases) {
      let error: unknown;
      try {
        loadConfig(flags, env);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).setting).toBe(setting);
      expect((error as Error).message).toMatch(
        new RegExp(`^${setting}: expected a CIDR .*, got "(10\\.0\\.0\\.0/33|http://ocsp\\.test/)"$`),
      );
    }
  });

  it('is the setting every address refusal names', () => {
    expect(RESPONDER_ALLOW_SETTING).toBe(`${SETTINGS.responderAllow.flag?.split(' ')[0]} / ${SETTINGS.responderAllow.env}`);
  });
});

describe('per-host rates and service settings', () => {
  it('reads host=rate pairs from flags or env', () => {
    expect(loadConfig({ hostRate: ['ocsp.a.test=200', 'OCSP.B.test:8080=50'] }, {}).hostRates).toEqual({
      'ocsp.a.test': 200,
      'ocsp.b.test:8080': 50,
    });
    expect(loadConfig({}, { STAPLEWARM_HOST_RATE: 'x.test=10, y.test=2.5' }).hostRates).toEqual({ 'x.test': 10, 'y.test': 2.5 });
    expect(() => loadConfig({ hostRate: ['x.test'] }, {})).toThrow(/--host-rate: expected host=requests-per-second/);
  });

  it('validates metrics and scan settings', () => {
    expect(loadConfig({ metricsPort: '0', metricsHost: '0.0.0.0', scanInterval: '60' }, {})).toMatchObject({
      metricsPort: 0,
      metricsHost: '0.0.0.0',
      scanIntervalSeconds: 60,
    });
    expect(() => loadConfig({}, { STAPLEWARM_SCAN_INTERVAL: '0' })).toThrow(/STAPLEWARM_SCAN_INTERVAL/);
  });
});

describe('relay listen address', () => {
  it('defaults to 127.0.0.1:8080 and reads HOST:PORT or [IPv6]:PORT from --listen or STAPLEWARM_RELAY_LISTEN', () => {
    expect(DEFAULTS.relayListen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(loadConfig({ listen: '0.0.0.0:8888' }, {}).relayListen).toEqual({ host: '0.0.0.0', port: 8888 });
    expect(loadConfig({}, { STAPLEWARM_RELAY_LISTEN: '[::1]:9000' }).relayListen).toEqual({ host: '::1', port: 9000 });
  });

  it('refuses anything else as a ConfigError naming the setting', () => {
    expect(() => loadConfig({ listen: '8080' }, {})).toThrow(/^--listen: expected HOST:PORT/);
    expect(() => loadConfig({}, { STAPLEWARM_RELAY_LISTEN: 'http://relay:80/' })).toThrow(/^STAPLEWARM_RELAY_LISTEN: expected HOST:PORT/);
  });
});
