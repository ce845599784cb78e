import { describe, expect, it } from 'vitest';
import { REDACTED_URL, Secrets, redactUrl, redactUrlsIn } from './redact.js';

describe('redactUrl', () => {
  it.each([
    // [input, shown, the secret that must not show]
    ['redis://:p%2Fw@h', 'redis://:***@h', 'p%2Fw'],
    ['redis://u:p/w@h:1/0', REDACTED_URL, 'p/w'], // unencoded `/`: does not parse (port "p")
    ['redis://u:12/w@h:1/0', REDACTED_URL, '12/w'], // parses as host u, port 12, path /w@h: ambiguous
    ['rediss://:p@ss@h', 'rediss://:***@h', 'p@ss'], // the last `@` ends the userinfo
    ['rediss://:p%40ss@h:6380', 'rediss://:***@h:6380', 'p%40ss'],
    ['redis://:p:ss@h', 'redis://:***@h', 'ss'], // a second `:` belongs to the password
    ['redis://:p%3Ass@h/2', 'redis://:***@h/2', 'p%3Ass'],
    ['redis://alice:s3cret@10.0.0.1:6379/0', 'redis://alice:***@10.0.0.1:6379/0', 's3cret'],
    ['redis://s3cret@h:6379', 'redis://***@h:6379', 's3cret'], // user only: some clients take it as the password
    ['redis://s3cret:@h', 'redis://***@h', 's3cret'],
    ['redis://h:6379/0?password=s3cret&family=6', 'redis://h:6379/0?password=***&family=6', 's3cret'],
    ['redis://[::1]:6379/0', 'redis://[::1]:6379/0', ''],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379', ''],
    ['http://u:s3cret@ocsp.example.test/ocsp', 'http://u:***@ocsp.example.test/ocsp', 's3cret'],
    ['http://ocsp.example.test/#s3cret', 'http://ocsp.example.test/', 's3cret'],
    ['redis:s3cret@h', REDACTED_URL, 's3cret'], // no `//`: the secret would be the "path"
    ['redis://:s3cret@', REDACTED_URL, 's3cret'], // does not parse: never echoed
    ['not a url :s3cret@h', REDACTED_URL, 's3cret'],
    ['', REDACTED_URL, ''],
  ])('%s -> %s', (input, shown, secret) => {
    const out = redactUrl(input);
    expect(out).toBe(shown);
    if (secret) expect(out).not.toContain(secret);
  });

  it('takes URL objects', () => {
    expect(redactUrl(new URL('redis://:pw@h:1'))).toBe('redis://:***@h:1');
  });
});

describe('redactUrlsIn', () => {
  it('redacts every URL with userinfo inside a sentence and keeps the punctuation after it', () => {
    expect(redactUrlsIn('cannot reach Redis at redis://:p@ss@h:6379: Connection is closed.')).toBe(
      'cannot reach Redis at redis://:***@h:6379: Connection is closed.',
    );
    expect(redactUrlsIn('http://u:pw@a.test/x: HTTP 500 (then http://b.test/ok)')).toBe(
      'http://u:***@a.test/x: HTTP 500 (then http://b.test/ok)',
    );
  });

  it('leaves text without userinfo as it is', () => {
    const text = 'fetch http://ocsp.example.test/ failed; mail root@example.test';
    expect(redactUrlsIn(text)).toBe(text);
  });

  it('redacts URLs inside arguments such as --redis=redis://...', () => {
    expect(redactUrlsIn('--redis=redis://:pw@h:1/0')).toBe('--redis=redis://:***@h:1/0');
  });
});

describe('Secrets', () => {
  it('replaces the Redis password as given, percent-encoded and JSON-escaped, anywhere in a text', () => {
    const secrets = Secrets.ofRedis('redis://:p%2F%22w0rd@h', undefined);
    expect(secrets.redact('AUTH p/"w0rd failed')).toBe('AUTH *** failed');
    expect(secrets.redact('url p%2F%22w0rd')).toBe('url ***');
    expect(secrets.redact(JSON.stringify({ args: ['p/"w0rd'] }))).toBe('{"args":["***"]}');
  });

  it('takes the password file, a user-only userinfo and ?password=', () => {
    expect(Secrets.ofRedis('redis://h', 'from-file!').redact('x from-file! y')).toBe('x *** y');
    expect(Secrets.ofRedis('redis://lonely-user@h', undefined).redact('user lonely-user')).toBe('user ***');
    expect(Secrets.ofRedis('redis://h?password=q-secret', undefined).redact('q-secret')).toBe('***');
  });

  it('also redacts URLs with userinfo it does not know', () => {
    expect(new Secrets([]).redact('at http://x:y@h/')).toBe('at http://x:***@h/');
  });

  it('does not search for secrets too short to tell from ordinary text', () => {
    expect(new Secrets(['abc']).redact('abc')).toBe('abc');
  });
});
