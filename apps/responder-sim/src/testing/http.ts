/** Test helpers: OCSP over real HTTP on 127.0.0.1 (Node's fetch). */

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function collect(response: Response): Promise<HttpResult> {
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

export async function postOcsp(url: string, der: Buffer, signal?: AbortSignal): Promise<HttpResult> {
  return collect(
    await fetch(url, {
      method: 'POST',
      body: der,
      headers: { 'content-type': 'application/ocsp-request' },
      ...(signal ? { signal } : {}),
    }),
  );
}

/** RFC 5019 GET: `<url><prefix><url-escaped base64>`; `escape: false` leaves '/', '+' and '=' raw. */
export async function getOcsp(
  url: string,
  der: Buffer,
  opts: { prefix?: string; escape?: boolean; signal?: AbortSignal } = {},
): Promise<HttpResult> {
  const base64 = der.toString('base64');
  const path = `${opts.prefix ?? ''}${opts.escape === false ? base64 : encodeURIComponent(base64)}`;
  return collect(await fetch(new URL(path, url), opts.signal ? { signal: opts.signal } : {}));
}

/** This Update / Next Update of the single response, read from `openssl ocsp -resp_text` output. */
export function updateTimes(respText: string): { thisUpdate: Date; nextUpdate: Date } {
  const read = (label: string): Date => new Date(new RegExp(`${label}: (.+ GMT)`).exec(respText)?.[1] ?? 'invalid');
  return { thisUpdate: read('This Update'), nextUpdate: read('Next Update') };
}
