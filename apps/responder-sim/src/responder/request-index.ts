/**
 * Maps the exact form of a request (the GET path, the POST body bytes) to what it asks for, so a
 * repeated request costs one Map lookup and no ASN.1. Unseen forms are decoded once and remembered.
 */
import { readFirstCertId } from './ocsp-request.js';
import type { ResponseBook, Target } from './response-book.js';

export type Resolution = Target | 'unauthorized' | 'malformed';

/** RFC 6960 A.1 / RFC 5019 5: GET `{url}/{url-encoding of base64 encoding of the DER OCSPRequest}`. */
function decodeGetPath(path: string): Buffer[] {
  const query = path.indexOf('?');
  const bare = query === -1 ? path : path.slice(0, query);
  let decoded: string;
  try {
    decoded = decodeURIComponent(bare);
  } catch {
    return [];
  }
  // The request may sit under any prefix (`/ocsp/MFQw...`), and unescaped base64 may itself contain
  // '/': try every suffix that follows a '/', longest first; only a complete OCSPRequest will parse.
  const candidates: Buffer[] = [];
  for (let slash = decoded.indexOf('/'); slash !== -1; slash = decoded.indexOf('/', slash + 1)) {
    const encoded = decoded.slice(slash + 1);
    if (encoded.length > 0) candidates.push(Buffer.from(encoded, 'base64'));
  }
  return candidates;
}

export class RequestIndex {
  private readonly byForm = new Map<string, Target | 'unauthorized'>();

  /** @param limit forms remembered before the map is cleared (clients sending nonces make every form new). */
  constructor(
    private readonly book: ResponseBook,
    private readonly limit: number,
  ) {}

  fromGetPath(path: string): Resolution {
    const key = `G${path}`;
    const known = this.byForm.get(key);
    if (known) return known;
    for (const der of decodeGetPath(path)) {
      const resolution = this.decode(der);
      if (resolution !== 'malformed') return this.remember(key, resolution);
    }
    return 'malformed';
  }

  fromPostBody(body: Buffer): Resolution {
    const key = `P${body.toString('latin1')}`;
    const known = this.byForm.get(key);
    if (known) return known;
    const resolution = this.decode(body);
    return resolution === 'malformed' ? resolution : this.remember(key, resolution);
  }

  private decode(der: Buffer): Resolution {
    const certId = readFirstCertId(der);
    if (!certId) return 'malformed';
    return this.book.resolve(certId) ?? 'unauthorized';
  }

  private remember(key: string, resolution: Target | 'unauthorized'): Target | 'unauthorized' {
    if (this.byForm.size >= this.limit) this.byForm.clear();
    this.byForm.set(key, resolution);
    return resolution;
  }
}
