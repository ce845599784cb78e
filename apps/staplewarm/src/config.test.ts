import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, loadConfig, queuePrefix } from './config.js';

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadConfig({}, {})).toEqual(DEFAULTS);
  });

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
