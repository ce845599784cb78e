/**
 * The human outputs made from certificate text (warm's summary, status, get): one line per line
 * they mean to print, nothing a terminal acts on, no URL userinfo.
 */
import { describe, expect, it } from 'vitest';
import type { StapleMeta } from '@staplewarm/store';
import { formatStaple } from './commands/get.js';
import { formatStatus, type StatusReport } from './commands/status.js';
import { formatSummary, type WarmSummary } from './warm/summary.js';

/** What a terminal acts on: C0 other than the newlines between lines, DEL, C1, bidi and other format characters. */
const ACTIVE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const HOSTILE_NAME = 'a\u001b[31m.example\u001b]0;pwned\u0007\u202egnp\nresult: every certificate with an OCSP URL has a staple';
const HOSTILE_REASON = 'http://cust:hunter22@ocsp.test/: HTTP 500 \u009b2J';

function summary(): WarmSummary {
  return {
    filesRead: 2,
    keyFilesSkipped: 0,
    certificates: 2,
    targets: 1,
    fresh: 0,
    fetched: 1,
    stored: { good: 0, revoked: 0 },
    kept: 0,
    unknown: 0,
    failed: { 'http-status': 1 },
    failures: [
      {
        fingerprint: 'ab'.repeat(32),
        names: [HOSTILE_NAME],
        path: `/certs/${HOSTILE_NAME}/fullchain.pem`,
        code: 'http-status',
        reason: HOSTILE_REASON,
      },
    ],
    noOcspUrl: 0,
    problemCounts: { 'not-a-certificate': 1 },
    problems: [
      { path: '/certs/x\u001b[2J.pem', code: 'not-a-certificate', detail: 'no PEM block \u2028 here' } as WarmSummary['problems'][number],
    ],
    elapsedSeconds: 1,
    scanSeconds: 0.5,
    fetchSeconds: 0.5,
    rate: 2,
    complete: false,
  };
}

function expectSafe(text: string, lines: number): void {
  expect(text).not.toMatch(ACTIVE);
  expect(text).not.toContain('hunter22');
  expect(text.split('\n')).toHaveLength(lines);
}

describe('human outputs of certificate text', () => {
  it("warm's summary: names, paths, details and reasons escaped, the responder URL's userinfo redacted", () => {
    const text = formatSummary(summary());
    expectSafe(text, 12);
    expect(text).toContain('a\\x1b[31m.example\\x1b]0;pwned\\x07\\u202egnp\\x0aresult: every');
    expect(text).toContain('/certs/x\\x1b[2J.pem: no PEM block \\u2028 here');
    expect(text).toContain('http://cust:***@ocsp.test/: HTTP 500 \\x9b2J');
    expect(text.split('\n').at(-1)).toBe('result: NOT every certificate was warmed');
  });

  it('status: names and last errors escaped', () => {
    const report: StatusReport = {
      certificates: 1,
      stapled: { good: 1, revoked: 0 },
      missing: 0,
      failing: 1,
      soonest: [
        {
          fingerprint: 'ab'.repeat(32),
          names: [HOSTILE_NAME],
          status: 'good',
          expiresAt: '2030-01-01T00:00:00.000Z',
          lastError: HOSTILE_REASON,
        },
      ],
    };
    const text = formatStatus(report);
    expectSafe(text, 7);
    expect(text).toContain('a\\x1b[31m.example');
  });

  it('get: names, responder, revocation reason and last error escaped', () => {
    const meta: StapleMeta = {
      fingerprint: 'ab'.repeat(32),
      names: [HOSTILE_NAME],
      mustStaple: false,
      status: 'revoked',
      revocationTime: new Date(0),
      revocationReason: 'keyCompromise\u001b[8m',
      responder: 'http://cust:hunter22@ocsp.test/',
      lastError: HOSTILE_REASON,
      lastErrorAt: new Date(0),
    };
    const text = formatStaple({ fingerprint: meta.fingerprint, der: null, meta });
    expectSafe(text, 11);
    expect(text).toContain('keyCompromise\\x1b[8m');
    expect(text).toContain('responder    http://cust:***@ocsp.test/');
  });
});
