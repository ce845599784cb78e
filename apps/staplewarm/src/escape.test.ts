import { describe, expect, it } from 'vitest';
import { escapeControl, jsonForTerminal, safeLine } from './escape.js';

/** Any character a terminal could act on: C0, DEL and C1 (Cc), format characters (Cf), line and paragraph separators. */
const ACTIVE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

describe('escapeControl', () => {
  it.each([
    ['site\u001b[31m.example', 'site\\x1b[31m.example'], // CSI: colour
    ['\u001b]0;pwned\u0007x', '\\x1b]0;pwned\\x07x'], // OSC: window title, BEL-terminated
    ['\u001b]8;;http://evil.test\u001b\\link', '\\x1b]8;;http://evil.test\\x1b\\link'], // OSC 8 hyperlink, ST-terminated
    ['a\nresult: ok', 'a\\x0aresult: ok'], // a forged summary line
    ['tab\there\r', 'tab\\x09here\\x0d'],
    ['nul\u0000del\u007f', 'nul\\x00del\\x7f'],
    ['c1\u009b31m', 'c1\\x9b31m'], // 8-bit CSI
    ['evil\u202egnp.exe', 'evil\\u202egnp.exe'], // right-to-left override
    ['\u2066iso\u2069 \u200bzw \ufeffbom', '\\u2066iso\\u2069 \\u200bzw \\ufeffbom'],
    ['line\u2028sep\u2029', 'line\\u2028sep\\u2029'],
    ['tag\u{e0001}', 'tag\\u{e0001}'],
    ['lone \ud800', 'lone \\ud800'],
  ])('escapes %j', (input, shown) => {
    expect(escapeControl(input)).toBe(shown);
    expect(escapeControl(input)).not.toMatch(ACTIVE);
  });

  it('keeps printable text, accents, CJK and emoji', () => {
    const text = 'www.exämple.test 例え.テスト 🔒 /etc/letsencrypt/live/a b/fullchain.pem \\x1b';
    expect(escapeControl(text)).toBe(text);
  });
});

describe('safeLine', () => {
  it('redacts userinfo and escapes controls in one line', () => {
    expect(safeLine('connect: http://u:pw@ocsp.test/: \u001b[2J refused')).toBe('connect: http://u:***@ocsp.test/: \\x1b[2J refused');
    // Inside a URL, the URL parser has percent-encoded it already.
    expect(safeLine('http://u:pw@ocsp.test/\u001b[2J')).toBe('http://u:***@ocsp.test/%1B[2J');
  });
});

describe('jsonForTerminal', () => {
  const value = { names: ['a\u001b[31m', 'b\u009b', 'c\u202e', 'd\u2028', 'e\u{e0001}', 'f\u007f'], reason: 'http://u:pw@h/ 500' };

  it('leaves no character a terminal acts on, not even those JSON.stringify writes raw', () => {
    expect(JSON.stringify(value)).toMatch(ACTIVE); // the reason this helper exists
    expect(jsonForTerminal(value, 0)).not.toMatch(ACTIVE); // compact: no newlines of its own
    expect(jsonForTerminal(value)).not.toMatch(/[\u{e0000}-\u{e007f}]/u);
  });

  it('is the same JSON value, with URLs redacted', () => {
    expect(JSON.parse(jsonForTerminal(value))).toEqual({ ...value, reason: 'http://u:***@h/ 500' });
  });

  it('indents like JSON.stringify(value, null, 2)', () => {
    expect(jsonForTerminal({ a: [1] })).toBe(JSON.stringify({ a: [1] }, null, 2));
  });
});
