/**
 * PEM (RFC 7468) helpers: split out blocks, recognise private keys.
 *
 * Certificate files are customers' input, so everything here runs in time linear in the text
 * (`indexOf` and single forward passes, no backtracking regex). The regex this replaces,
 * `/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g`, retried from every BEGIN line
 * that has no END after it and rescanned the rest of the text each time: a 2 MB file of 75,000
 * BEGIN lines held the event loop for minutes (10,000 lines: 4.5 s).
 */

const BEGIN = '-----BEGIN ';
const DASHES = '-----';
/** What the old regex stripped from a body (`\s`) and what it accepted afterwards. */
const WHITESPACE = /\s+/g;
const BASE64_BODY = /^[A-Za-z0-9+/=]*$/;

/** One PEM block, as found in the text. */
export interface PemBlock {
  /** The whole block, from `-----BEGIN <label>-----` to the last dash of `-----END <label>-----`. */
  text: string;
  /** What lies between the two markers: base64 and line breaks in a well-formed block. */
  body: string;
}

/**
 * Every `<label>` block of the text, in order (`CERTIFICATE` by default). A block runs from a BEGIN
 * marker to the first END marker after it, exactly as the former lazy regex matched; blocks of
 * other labels, text between blocks, and a final BEGIN without an END are ignored.
 */
export function pemBlocks(text: string, label = 'CERTIFICATE'): PemBlock[] {
  const begin = `${BEGIN}${label}${DASHES}`;
  const end = `-----END ${label}${DASHES}`;
  const blocks: PemBlock[] = [];
  let from = text.indexOf(begin);
  while (from !== -1) {
    const bodyStart = from + begin.length;
    const bodyEnd = text.indexOf(end, bodyStart);
    // No END after this BEGIN means none after any later BEGIN either: stop here instead of
    // searching again from each of them (where the regex went quadratic).
    if (bodyEnd === -1) break;
    const blockEnd = bodyEnd + end.length;
    blocks.push({ text: text.slice(from, blockEnd), body: text.slice(bodyStart, bodyEnd) });
    from = text.indexOf(begin, blockEnd);
  }
  return blocks;
}

/**
 * The bytes of a block body: whitespace (CRLF, indentation) removed, then base64-decoded. A body
 * that is not base64 yields an empty Buffer, which the caller reports as malformed.
 */
export function decodePemBody(body: string): Buffer {
  const compact = body.replace(WHITESPACE, '');
  return BASE64_BODY.test(compact) ? Buffer.from(compact, 'base64') : Buffer.alloc(0);
}

/**
 * Visits the label of each BEGIN line (`-----BEGIN <label>-----`, the label made of A-Z, 0-9 and
 * spaces) as offsets into the text, in order; stops early when `visit` returns true. One forward
 * pass: a label's characters cannot start another BEGIN, so each character is looked at a bounded
 * number of times. Offsets rather than slices: 75,000 BEGIN lines need no 75,000 strings.
 */
function someBeginLabel(text: string, visit: (start: number, end: number) => boolean): boolean {
  for (let at = text.indexOf(BEGIN); at !== -1;) {
    const start = at + BEGIN.length;
    let end = start;
    while (end < text.length && isLabelChar(text.charCodeAt(end))) end++;
    if (end > start && text.startsWith(DASHES, end) && visit(start, end)) return true;
    at = text.indexOf(BEGIN, end);
  }
  return false;
}

function isLabelChar(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x20; // A-Z 0-9 space
}

/**
 * The distinct labels of the text's BEGIN lines, in order of first appearance: for messages.
 * `maxLines` bounds the BEGIN lines looked at, so that a message about a hostile file costs little.
 */
export function pemLabels(text: string, maxLines = Infinity): string[] {
  const labels = new Set<string>();
  let lines = 0;
  someBeginLabel(text, (start, end) => {
    labels.add(text.slice(start, end));
    return ++lines >= maxLines;
  });
  return [...labels];
}

/** True when the text holds any PEM block, certificate or not. */
export function looksLikePem(text: string): boolean {
  return someBeginLabel(text, () => true);
}

const KEY_LABEL_END = 'PRIVATE KEY-----';

/**
 * True when the text holds a private key block of any kind (`PRIVATE KEY`, `RSA PRIVATE KEY`,
 * `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`): the scanner skips such files without parsing them.
 * Searches for the label's end, then looks back over the label for `-----BEGIN `: a certificate
 * file costs one `indexOf`, however many blocks it holds.
 */
export function isPrivateKeyPem(text: string): boolean {
  for (let at = text.indexOf(KEY_LABEL_END); at !== -1; at = text.indexOf(KEY_LABEL_END, at + KEY_LABEL_END.length)) {
    // The label runs back to the first character that cannot be in one. `BEGIN ` can, `-----`
    // cannot, so a BEGIN line's label run starts right after its dashes, at its `BEGIN `. Two
    // label ends are at least 16 characters apart with dashes between: the runs never overlap.
    let run = at;
    while (run > 0 && isLabelChar(text.charCodeAt(run - 1))) run--;
    if (at - run >= 'BEGIN '.length && run >= DASHES.length && text.startsWith(BEGIN, run - DASHES.length)) return true;
  }
  return false;
}

/**
 * The DER bytes of every `CERTIFICATE` block, in order. Other blocks (keys, CRLs, parameters) are
 * ignored; CRLF line endings and stray whitespace are tolerated. A block whose body is not base64
 * yields an empty Buffer so the caller can report it as malformed.
 */
export function certificateBlocks(text: string): Buffer[] {
  return pemBlocks(text).map((block) => decodePemBody(block.body));
}
