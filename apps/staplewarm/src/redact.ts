/**
 * Secrets out of everything staplewarm shows: error messages, logs, the process title. The Redis
 * password is the secret (DESIGN.md, trust boundaries), but any URL with userinfo is treated the same
 * way, since a customer's OCSP URL may carry credentials of its own.
 *
 * It lives in the CLI because every place that shows text to a person or a log is here (the pino
 * logger, warm's summary, status, get, main's error line); the packages hand their errors to the
 * caller's logger and never print. Text from a package that embeds a URL (a FetchError's message
 * names the responder URL as the certificate gave it) is redacted at these edges.
 */

/** What stands in for a password, a user-only userinfo or a sensitive query value. */
export const REDACTED = '***';

/**
 * What stands in for a URL that does not parse, or whose userinfo the URL parser could not tell
 * apart from its path (an unencoded `/`, `?` or `#` in a password): echoing any of it could echo
 * part of the secret.
 */
export const REDACTED_URL = '[redacted URL]';

/** Query parameters whose value is a credential (ioredis takes `?password=` as an option). */
const SENSITIVE_PARAM = /pass|secret|token|auth|key|sig|credential/i;

/**
 * A URL as it may be shown: the password replaced by `***` (`redis://:***@host:6379/0`,
 * `rediss://alice:***@host`), a user-only userinfo replaced whole (`redis://***@host`: some clients
 * take it as the password), sensitive query values masked, the fragment dropped. Parsed with the
 * WHATWG URL parser (as ioredis and undici parse it), never matched with a pattern over the text.
 */
export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(typeof input === 'string' ? input : input.href);
  } catch {
    return REDACTED_URL;
  }
  // `redis://u:12/w@h` parses as host `u`, port 12, path `/w@h`: the password's tail would show.
  // No path, query or fragment of a Redis or OCSP URL needs an `@`.
  if (`${url.pathname}${url.search}${url.hash}`.includes('@')) return REDACTED_URL;
  if (url.password !== '') url.password = REDACTED;
  else if (url.username !== '') url.username = REDACTED;
  for (const key of new Set(url.searchParams.keys())) {
    if (SENSITIVE_PARAM.test(key)) url.searchParams.set(key, REDACTED);
  }
  url.hash = '';
  return url.href;
}

/** A URL inside free text: scheme, `://`, then up to the next blank or quote. */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
/** Punctuation that ends a sentence rather than the URL (`at redis://h:6379: refused`). */
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;

/**
 * Free text with every URL that holds userinfo (an `@`) passed through `redactUrl`. URLs without
 * userinfo are left as they are. The search for URLs is a pattern (there is no parser for prose);
 * each one found is then redacted by the URL parser.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (found) => {
    if (!found.includes('@')) return found;
    const trailing = TRAILING_PUNCTUATION.exec(found)?.[0] ?? '';
    return `${redactUrl(found.slice(0, found.length - trailing.length))}${trailing}`;
  });
}

/**
 * Known secrets (the Redis password), as given, percent-encoded and JSON-escaped, in one place, so
 * that text that quotes one anywhere (not only inside a URL) can be cleaned.
 */
export class Secrets {
  private readonly values: string[];

  /** Secrets shorter than `MIN_LENGTH` are not searched for: replacing every `a` would garble every message. */
  static readonly MIN_LENGTH = 4;

  constructor(secrets: Iterable<string | undefined>) {
    const values = new Set<string>();
    for (const secret of secrets) {
      if (secret === undefined || secret.length < Secrets.MIN_LENGTH) continue;
      values.add(secret);
      values.add(encodeURIComponent(secret));
      // As a JSON log line writes it (a `"` or `\` in the password is escaped there).
      values.add(JSON.stringify(secret).slice(1, -1));
    }
    // Longest first: a secret that contains another is replaced whole.
    this.values = [...values].sort((a, b) => b.length - a.length);
  }

  /** The Redis password from the URL (decoded, as ioredis sends it) and from the password file. */
  static ofRedis(redisUrl: string | undefined, redisPassword: string | undefined): Secrets {
    return new Secrets([...credentialsOf(redisUrl), redisPassword]);
  }

  /** The credentials of every URL found in these texts (REDIS_URL, `--redis=redis://...` arguments). */
  static ofUrlsIn(texts: Iterable<string | undefined>): Secrets {
    const found: string[] = [];
    for (const text of texts) for (const [url] of (text ?? '').matchAll(URL_IN_TEXT)) found.push(...credentialsOf(url));
    return new Secrets(found);
  }

  /** `text` with every known secret, then every URL's userinfo, replaced. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return redactUrlsIn(out);
  }
}

/** The password and user-only userinfo of a URL, decoded; nothing when it does not parse. */
function credentialsOf(url: string | undefined): string[] {
  if (url === undefined) return [];
  try {
    const parsed = new URL(url);
    const found = [parsed.password, parsed.password === '' ? parsed.username : ''].filter((value) => value !== '');
    for (const [key, value] of parsed.searchParams) if (SENSITIVE_PARAM.test(key) && value !== '') found.push(value);
    return found.map(decodeComponent);
  } catch {
    return [];
  }
}

/** Percent-decoded, as ioredis decodes userinfo; a malformed escape (`%zz`) is kept as written. */
export function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
