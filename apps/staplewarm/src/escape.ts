/**
 * Certificate-derived text (subject, SAN names, file paths, a responder's words inside a failure
 * reason) is written by customers (DESIGN.md, trust boundaries): it must not drive the terminal that
 * shows it. Escape sequences (ESC [ 31 m, OSC 0 ; title BEL) could recolour, retitle or rewrite the
 * screen; a newline could forge a summary line; bidi controls (U+202E) could show a name reversed.
 */
import { redactUrlsIn } from './redact.js';

/**
 * C0 controls, DEL and C1 controls (\p{Cc}), format characters such as the bidi overrides and
 * isolates, zero-width joiners and BOM (\p{Cf}), the Unicode line and paragraph separators, and lone
 * surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/**
 * `text` with every control and format character in a visible, unambiguous-enough form:
 * `\x1b`, `\x0a`, `\x9b`, `\u202e`, `\u{e0001}`. Everything else (accents, CJK, emoji) is kept.
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
    if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
    return `\\u{${code.toString(16)}}`;
  });
}

/**
 * One line of human output (warm's summary, status, get) built from untrusted text: URLs' userinfo
 * redacted (a failure reason names the responder URL the certificate gave), then controls escaped.
 */
export function safeLine(line: string): string {
  return escapeControl(redactUrlsIn(line));
}

/** Inside JSON strings: what JSON.stringify leaves raw (it escapes only U+0000-U+001F and lone surrogates). */
const JSON_UNSAFE = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * JSON for `--json`: strings with URLs' userinfo redacted, and DEL, C1 and format characters written
 * as `\uXXXX` escapes besides the C0 controls JSON.stringify escapes. A parser reads back the same
 * strings, but nothing in the text acts on a terminal. JSON's syntax is ASCII, so every such
 * character found is inside a string.
 */
export function jsonForTerminal(value: unknown, space: number = 2): string {
  const redacted = (_key: string, item: unknown): unknown => (typeof item === 'string' ? redactUrlsIn(item) : item);
  return JSON.stringify(value, redacted, space).replace(JSON_UNSAFE, (char) =>
    // An astral character (U+E0001 LANGUAGE TAG) becomes its two UTF-16 escapes, as JSON requires.
    [...Array(char.length).keys()].map((i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );
}
