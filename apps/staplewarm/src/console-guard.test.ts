import { describe, expect, it } from 'vitest';
import { formatScrubbed } from './console-guard.js';
import { Secrets } from './redact.js';

/** What ioredis hands to an `error` listener when a re-authentication is refused (DataHandler.returnError). */
const authError = (password: string): Error =>
  Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), {
    name: 'ReplyError',
    command: { name: 'auth', args: [password] },
  });

describe('formatScrubbed (what console.error prints once guarded)', () => {
  it("prints an ioredis error as BullMQ's fallback console.error(err) would, without the AUTH arguments", () => {
    const text = formatScrubbed(new Secrets([]), [authError('unknown-to-us-9f3a')]);
    expect(text).toContain('WRONGPASS');
    expect(text).toContain("name: 'auth'");
    expect(text).not.toContain('unknown-to-us-9f3a');
  });

  it('keeps a format string and scrubs what it substitutes', () => {
    const secrets = Secrets.ofRedis('redis://:known-pass-77@h', undefined);
    const text = formatScrubbed(secrets, ['%s: %s (%j)', 'reconnect', 'redis://:known-pass-77@h:6379', { password: 'p4ss-field' }]);
    expect(text).toBe('reconnect: redis://:***@h:6379 ({"password":"[Redacted]"})');
  });

  it('takes known secrets out of plain text too', () => {
    expect(formatScrubbed(Secrets.ofRedis(undefined, 'file-secret-1'), ['auth with', 'file-secret-1'])).toBe('auth with ***');
  });
});
