/**
 * The `openssl ca` database format (`index.txt`), so `openssl ocsp -index` can serve the same PKI as
 * an independent responder. One line per certificate, tab-separated:
 * `V|R`, expiry `YYMMDDHHMMSSZ`, revocation `YYMMDDHHMMSSZ[,reason]` (empty when valid),
 * serial (uppercase hex, as BN_bn2hex prints it), file name (`unknown`), subject (`/CN=...`).
 */

export interface IndexEntry {
  serialHex: string;
  notAfter: Date;
  revokedAt?: Date;
  subject: string;
}

function opensslTime(date: Date): string {
  const iso = date.toISOString(); // 2026-01-27T10:11:12.000Z
  return `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

export function indexLine(entry: IndexEntry): string {
  const { revokedAt } = entry;
  return (
    [
      revokedAt ? 'R' : 'V',
      opensslTime(entry.notAfter),
      revokedAt ? `${opensslTime(revokedAt)},keyCompromise` : '',
      entry.serialHex.toUpperCase(),
      'unknown',
      entry.subject,
    ].join('\t') + '\n'
  );
}

/** `index.txt.attr`: lets several certificates share a subject, as `openssl ca` would need. */
export const INDEX_ATTR = 'unique_subject = no\n';
