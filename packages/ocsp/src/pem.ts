/** PEM (RFC 7468) helpers: find certificate blocks, recognise private keys. */

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const ANY_BEGIN = /-----BEGIN [A-Z0-9 ]+-----/;
const PRIVATE_KEY_BEGIN = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const BASE64_BODY = /^[A-Za-z0-9+/=]*$/;

/** True when the text holds any PEM block, certificate or not. */
export function looksLikePem(text: string): boolean {
  return ANY_BEGIN.test(text);
}

/**
 * True when the text holds a private key block of any kind (`PRIVATE KEY`, `RSA PRIVATE KEY`,
 * `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`): the scanner skips such files without parsing them.
 */
export function isPrivateKeyPem(text: string): boolean {
  return PRIVATE_KEY_BEGIN.test(text);
}

/**
 * The DER bytes of every `CERTIFICATE` block, in order. Other blocks (keys, CRLs, parameters) are
 * ignored; CRLF line endings and stray whitespace are tolerated. A block whose body is not base64
 * yields an empty Buffer so the caller can report it as malformed.
 */
export function certificateBlocks(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const match of text.matchAll(CERTIFICATE_BLOCK)) {
    const body = (match[1] ?? '').replace(/\s+/g, '');
    out.push(BASE64_BODY.test(body) ? Buffer.from(body, 'base64') : Buffer.alloc(0));
  }
  return out;
}
