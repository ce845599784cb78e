/**
 * A client of HAProxy's runtime API (the `stats socket ... level admin` CLI), as spoken by 2.6.
 *
 * Non-interactive mode only: one connection per command. We write the command line ending in "\n"
 * and read until HAProxy closes the connection: the close is the only end-of-answer marker this mode
 * has (answers usually end in an empty line, but not all: `show ssl ocsp-response` with no OCSP slot
 * answers a bare "\n"). HAProxy runs every complete line it has read, even in this mode (and `;`
 * chains commands on one line), so a command must not carry a line break of its own.
 */
import { isIP, connect, type Socket } from 'node:net';

/**
 * Why a HaproxyCliError was thrown:
 * - `bad-address`: the socket address is neither a path (starting with `/` or `.`) nor `host:port`.
 * - `bad-command`: a command line holding a line break, or an empty OCSP response to push.
 * - `bad-option`: a client option out of range.
 * - `connect-failed`: no connection (no socket file, nothing listening, permission denied, DNS).
 * - `connection-lost`: the connection failed after it was made (a reset mid-answer; HAProxy resets a
 *   unix socket connection whose command is longer than its buffer, which setOcspResponse reports as `refused`).
 * - `timeout`: no complete answer within `timeoutMs` of starting to connect.
 * - `answer-too-large`: the answer passed `maxAnswerBytes`.
 * - `refused`: HAProxy answered with an error (`answer` holds its first line).
 * - `unexpected-answer`: an answer this client cannot read (`answer` holds its first line).
 */
export type HaproxyCliErrorCode =
  | 'bad-address'
  | 'bad-command'
  | 'bad-option'
  | 'connect-failed'
  | 'connection-lost'
  | 'timeout'
  | 'answer-too-large'
  | 'refused'
  | 'unexpected-answer';

/** Every failure of this module; messages name the socket address, never a payload. */
export class HaproxyCliError extends Error {
  override readonly name = 'HaproxyCliError';
  readonly code: HaproxyCliErrorCode;
  /** For `refused` and `unexpected-answer`: HAProxy's first non-empty answer line, control characters escaped, at most 200 characters. */
  readonly answer: string | undefined;

  constructor(code: HaproxyCliErrorCode, message: string, options?: { cause?: unknown; answer?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.answer = options?.answer;
  }
}

export function isHaproxyCliError(err: unknown): err is HaproxyCliError {
  return err instanceof HaproxyCliError;
}

/** Where the runtime API listens: a unix socket, or TCP (`host` without brackets for IPv6). */
export type HaproxySocketAddress = { path: string } | { host: string; port: number };

export interface HaproxyCliOptions {
  /** Budget of one command, connect and whole answer, ms. @defaultValue 5000 */
  timeoutMs?: number;
  /**
   * Largest answer read, bytes. `show ssl ocsp-response` prints about 350 bytes per slot (SHA-1
   * CertID, 12-byte serial; 370 with a Let's Encrypt 18-byte serial): 50,000 certificates need
   * 17-19 MB, so the default leaves room for about 90,000. @defaultValue 32 MiB
   */
  maxAnswerBytes?: number;
}

export const DEFAULT_HAPROXY_CLI_OPTIONS: Readonly<Required<HaproxyCliOptions>> = {
  timeoutMs: 5_000,
  maxAnswerBytes: 32 * 1024 * 1024,
};

/** One OCSP slot of `show ssl ocsp-response`: a certificate HAProxy staples for, by CertID (RFC 6960 section 4.1.1). */
export interface HaproxyOcspEntry {
  /** Lowercase hex of the DER CertID, as HAProxy prints after "Certificate ID key : ". */
  certIdHex: string;
  /** HAProxy 2.6 makes its CertIDs with SHA-1 and matches pushed responses byte for byte, so expect 'sha1'. */
  hashAlgorithm: 'sha1' | 'sha256' | 'unknown';
  /** Lowercase hex. */
  issuerNameHash: string;
  /** Lowercase hex. */
  issuerKeyHash: string;
  /** Lowercase hex of the INTEGER's content octets as encoded (a leading 00 kept). */
  serial: string;
}

/** `show ssl ocsp-response`, read: the slots, and how many "Certificate ID key" lines did not decode (skipped). */
export interface HaproxyOcspList {
  entries: HaproxyOcspEntry[];
  malformed: number;
}

/** From `show info`. */
export interface HaproxyInfo {
  pid: number;
  /** Unix time the process started; null when the line is missing. */
  startTimeSec: number | null;
  /** null when the line is missing. */
  uptimeSec: number | null;
  /** e.g. `2.6.12-1+deb12u4`. */
  version: string;
}

const MAX_SHOWN_CHARS = 200;
/** A CertID with SHA-512 hashes and a 40-byte serial is under 200 bytes: 512 is generous, and bounds the work per line. */
const MAX_CERT_ID_BYTES = 512;
const MAX_KEY_LINE_CHARS = 2 * MAX_CERT_ID_BYTES + 64;
/** HAProxy's tune.bufsize default: the longest command (payload included) its CLI reads. */
const HAPROXY_DEFAULT_BUFSIZE = 16_384;
const OCSP_UPDATED = 'OCSP Response updated!';

/**
 * Parses a runtime API address: a unix socket path (starts with `/` or `.`), or `host:port` with an
 * IPv4 address, a host name, or an IPv6 address in brackets (`[::1]:9999`).
 * @throws HaproxyCliError `bad-address`
 */
export function parseHaproxySocketAddress(text: string): HaproxySocketAddress {
  if (text.startsWith('/') || text.startsWith('.')) {
    // A NUL would make connect() throw instead of failing; a line break has no place in a path we print.
    if (/[\0\r\n]/.test(text)) throw badAddress(text, 'a socket path without NUL or line breaks');
    return { path: text };
  }
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)):([0-9]{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (match === null || host === undefined || port < 1 || port > 65_535) {
    throw badAddress(text, 'a socket path (starting with / or .) or HOST:PORT ([IPv6]:PORT)');
  }
  if (match[1] !== undefined && isIP(host) !== 6) throw badAddress(text, 'an IPv6 address between the brackets');
  return { host, port };
}

/** The address as text for messages: the path, or `host:port` (brackets around IPv6). */
export function formatHaproxySocketAddress(address: HaproxySocketAddress): string {
  if ('path' in address) return address.path;
  return `${isIP(address.host) === 6 ? `[${address.host}]` : address.host}:${address.port}`;
}

function badAddress(text: string, expected: string): HaproxyCliError {
  return new HaproxyCliError('bad-address', `bad HAProxy runtime API address ${JSON.stringify(shown(text))}: expected ${expected}`);
}

/** Control characters escaped (\xNN), cut to MAX_SHOWN_CHARS: answers and addresses go into log lines. */
function shown(text: string): string {
  let out = '';
  let cut = 0; // the longest prefix of whole pieces that leaves room for the ellipsis
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    out += code < 0x20 || (code >= 0x7f && code < 0xa0) ? `\\x${code.toString(16).padStart(2, '0')}` : char;
    if (out.length > MAX_SHOWN_CHARS) return `${out.slice(0, cut)}…`;
    if (out.length < MAX_SHOWN_CHARS) cut = out.length;
  }
  return out;
}

/** First non-empty line of an answer, made printable, or a note that there was none. */
function firstLine(answer: string): string {
  const line = answer.split('\n', 50).find((l) => l.trim() !== '');
  return line === undefined ? '(empty answer)' : shown(line.trim());
}

/**
 * One runtime API endpoint. Stateless: every method opens its own connection, so calls may run
 * concurrently (HAProxy serves each connection on its own).
 */
export class HaproxyCli {
  /** The address, for messages: the path, or host:port (brackets around IPv6). */
  readonly address: string;
  private readonly target: HaproxySocketAddress;
  private readonly options: Readonly<Required<HaproxyCliOptions>>;

  /** @throws HaproxyCliError `bad-address`, `bad-option` */
  constructor(address: string | HaproxySocketAddress, options: HaproxyCliOptions = {}) {
    this.target = typeof address === 'string' ? parseHaproxySocketAddress(address) : address;
    this.address = formatHaproxySocketAddress(this.target);
    this.options = { ...DEFAULT_HAPROXY_CLI_OPTIONS, ...definedOnly(options) };
    for (const name of ['timeoutMs', 'maxAnswerBytes'] as const) {
      const value = this.options[name];
      // setTimeout treats delays above 2^31-1 ms as 1 ms.
      if (!Number.isSafeInteger(value) || value < 1 || (name === 'timeoutMs' && value > 2_147_483_647)) {
        throw new HaproxyCliError('bad-option', `HaproxyCli ${name} must be a positive integer, got ${String(value)}`);
      }
    }
  }

  /**
   * Runs one command line (without its "\n") and returns HAProxy's answer as it came. Does not judge
   * the answer: HAProxy reports errors as text. `;` chains commands, as HAProxy defines.
   * @throws HaproxyCliError `bad-command` (a line break in `line`), `connect-failed`, `connection-lost`, `timeout`, `answer-too-large`
   */
  async command(line: string): Promise<string> {
    if (/[\r\n]/.test(line)) {
      throw new HaproxyCliError('bad-command', `${this.where()}: a command line must not hold a line break (HAProxy would run each line)`);
    }
    return this.exchange(`${line}\n`);
  }

  /**
   * The certificate files HAProxy has loaded (`show ssl cert`), committed ones only: the `*name`
   * lines of pending transactions are skipped.
   * @throws HaproxyCliError `refused` (2.6 answers "Can't allocate memory!" below level operator), and command()'s codes
   */
  async showSslCerts(): Promise<string[]> {
    const answer = await this.command('show ssl cert');
    const lines = answer.split('\n');
    const header = lines.find((l) => l !== '');
    if (header !== undefined && header !== '# filename' && header !== '# transaction') throw this.refused('show ssl cert', answer);
    return lines.filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('*'));
  }

  /**
   * The OCSP slots (`show ssl ocsp-response`): one per certificate that had a `.ocsp` file (even an
   * empty one) when HAProxy loaded it. Only such certificates accept setOcspResponse(). Key lines
   * whose CertID does not decode are skipped and counted in `malformed`; the detail lines are ignored.
   * @throws HaproxyCliError `refused`, and command()'s codes
   */
  async showOcspResponses(): Promise<HaproxyOcspList> {
    const answer = await this.command('show ssl ocsp-response');
    const lines = answer.split('\n');
    const header = lines.find((l) => l !== '');
    // No slot at all: HAProxy 2.6 answers "\n", without the header.
    if (header === undefined) return { entries: [], malformed: 0 };
    if (header !== '# Certificate IDs') throw this.refused('show ssl ocsp-response', answer);
    const entries: HaproxyOcspEntry[] = [];
    let malformed = 0;
    for (const line of lines) {
      const text = line.trimStart();
      if (!text.startsWith('Certificate ID key')) continue;
      // Longer than any CertID: skipped before the regular expression even looks at it.
      const entry = text.length > MAX_KEY_LINE_CHARS ? undefined : /^Certificate ID key\s*:\s*([0-9A-Fa-f]+)\s*$/.exec(text)?.[1];
      const decoded = entry === undefined ? undefined : decodeCertIdHex(entry);
      if (decoded === undefined) malformed++;
      else entries.push(decoded);
    }
    return { entries, malformed };
  }

  /**
   * Pushes a DER OCSP response (`set ssl ocsp-response <<` with the base64 as payload). HAProxy picks
   * the slot by the response's CertID, byte for byte: 2.6 only has SHA-1 CertIDs, so a response
   * to a SHA-256 request matches nothing. Resolves once HAProxy says "OCSP Response updated!".
   * A command longer than HAProxy's buffer (tune.bufsize, 16 KiB by default: about 12 KB of DER) gets
   * no answer; past the default size that is reported as `refused` naming tune.bufsize.
   * @throws HaproxyCliError `bad-command` (empty `der`), `refused` with HAProxy's answer (e.g. "OCSP
   * single response: Certificate ID does not match any certificate or issuer."), and command()'s codes
   */
  async setOcspResponse(der: Buffer): Promise<void> {
    // An empty payload would end at once, and the empty line after it would run as a second command.
    if (der.length === 0) throw new HaproxyCliError('bad-command', `${this.where()}: refusing to push an empty OCSP response`);
    // Base64 has no line break, so the payload is one line, and the empty line after it ends it.
    const request = `set ssl ocsp-response <<\n${der.toString('base64')}\n\n`;
    // HAProxy drops a command its buffer cannot hold: a reset on a unix socket, a bare close on TCP.
    const oversized = request.length > HAPROXY_DEFAULT_BUFSIZE;
    let answer: string;
    try {
      answer = await this.exchange(request);
    } catch (err) {
      if (oversized && isHaproxyCliError(err) && err.code === 'connection-lost') throw this.dropped(request.length, err);
      throw err;
    }
    if (answer.includes(OCSP_UPDATED)) return;
    if (answer.trim() === '') {
      if (oversized) throw this.dropped(request.length);
      throw new HaproxyCliError('refused', `${this.where()}: set ssl ocsp-response: HAProxy closed without an answer`, {
        answer: firstLine(answer),
      });
    }
    throw this.refused('set ssl ocsp-response', answer);
  }

  /**
   * `show info`: the process id (changes when HAProxy reloads: a new worker), its start time, uptime and version.
   * @throws HaproxyCliError `unexpected-answer` (no `Pid:` or `Version:` line), and command()'s codes
   */
  async showInfo(): Promise<HaproxyInfo> {
    const answer = await this.command('show info');
    const fields = new Map<string, string>();
    for (const line of answer.split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    const pid = decimal(fields.get('Pid'));
    const version = fields.get('Version');
    if (pid === null || pid < 1 || version === undefined || version === '') {
      const line = firstLine(answer);
      throw new HaproxyCliError(
        'unexpected-answer',
        `${this.where()}: show info: no Pid or Version, answer begins ${JSON.stringify(line)}`,
        {
          answer: line,
        },
      );
    }
    return { pid, startTimeSec: decimal(fields.get('Start_time_sec')), uptimeSec: decimal(fields.get('Uptime_sec')), version };
  }

  private where(): string {
    return `HAProxy runtime API at ${this.address}`;
  }

  private dropped(bytes: number, cause?: unknown): HaproxyCliError {
    return new HaproxyCliError(
      'refused',
      `${this.where()}: set ssl ocsp-response: HAProxy dropped the ${bytes}-byte command without an answer (more than tune.bufsize, ${HAPROXY_DEFAULT_BUFSIZE} by default, holds: about 12 KB of DER)`,
      { cause, answer: firstLine('') },
    );
  }

  private refused(command: string, answer: string): HaproxyCliError {
    const line = firstLine(answer);
    return new HaproxyCliError('refused', `${this.where()}: ${command}: ${line}`, { answer: line });
  }

  /** Writes `text`, reads until HAProxy closes. Every path destroys the socket and clears the timer. */
  private exchange(text: string): Promise<string> {
    const { timeoutMs, maxAnswerBytes } = this.options;
    return new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let connected = false;
      let settled = false;
      let socket: Socket | undefined;
      const finish = (error: HaproxyCliError | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket?.destroy();
        if (error !== undefined) reject(error);
        // Decoded once at the end, so a UTF-8 character split across reads stays whole.
        else resolve(Buffer.concat(chunks, size).toString('utf8'));
      };
      const fail = (code: HaproxyCliErrorCode, message: string, cause?: unknown): void =>
        finish(new HaproxyCliError(code, `${this.where()}: ${message}`, { cause }));
      // One deadline for connect and answer: an idle timeout would let a trickling answer run forever.
      const timer = setTimeout(() => fail('timeout', `no complete answer within ${timeoutMs} ms`), timeoutMs);
      try {
        socket = 'path' in this.target ? connect({ path: this.target.path }) : connect({ host: this.target.host, port: this.target.port });
      } catch (cause) {
        fail('connect-failed', `cannot connect: ${errorText(cause)}`, cause);
        return;
      }
      socket.once('connect', () => {
        connected = true;
        socket?.write(text);
      });
      socket.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxAnswerBytes) fail('answer-too-large', `answer larger than ${maxAnswerBytes} bytes`);
        else chunks.push(chunk);
      });
      // HAProxy closing its side is the end of the answer in non-interactive mode.
      socket.once('end', () => finish(undefined));
      socket.once('error', (cause) =>
        connected
          ? fail('connection-lost', `connection failed mid-command: ${errorText(cause)}`, cause)
          : fail('connect-failed', `cannot connect: ${errorText(cause)}`, cause),
      );
      socket.once('close', () => fail('connection-lost', 'connection closed without an end of answer'));
    });
  }
}

/**
 * Decodes a CertID (RFC 6960 section 4.1.1) from hex, or undefined when it is not one:
 *   CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                         issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
 * DER only (definite lengths in the fewest octets), nothing after the last field; linear in the input.
 */
function decodeCertIdHex(hex: string): HaproxyOcspEntry | undefined {
  if (hex.length % 2 !== 0 || hex.length > 2 * MAX_CERT_ID_BYTES) return undefined;
  const der = Buffer.from(hex, 'hex');
  const outer = readTlv(der, 0, der.length);
  if (outer?.tag !== 0x30 || outer.end !== der.length) return undefined;
  const algorithm = readTlv(der, outer.valueStart, outer.end);
  if (algorithm?.tag !== 0x30) return undefined;
  const oid = readTlv(der, algorithm.valueStart, algorithm.end);
  if (oid?.tag !== 0x06 || oid.end === oid.valueStart) return undefined;
  if (oid.end !== algorithm.end) {
    // Parameters: absent or NULL for the hash algorithms (RFC 5754 section 2 allows both).
    const parameters = readTlv(der, oid.end, algorithm.end);
    if (parameters?.tag !== 0x05 || parameters.end !== parameters.valueStart || parameters.end !== algorithm.end) return undefined;
  }
  const nameHash = readTlv(der, algorithm.end, outer.end);
  if (nameHash?.tag !== 0x04) return undefined;
  const keyHash = readTlv(der, nameHash.end, outer.end);
  if (keyHash?.tag !== 0x04) return undefined;
  const serial = readTlv(der, keyHash.end, outer.end);
  if (serial?.tag !== 0x02 || serial.end === serial.valueStart || serial.end !== outer.end) return undefined;

  const hashAlgorithm = HASH_OIDS.get(der.toString('hex', oid.valueStart, oid.end)) ?? 'unknown';
  const digestBytes = hashAlgorithm === 'sha1' ? 20 : hashAlgorithm === 'sha256' ? 32 : undefined;
  const nameHashBytes = nameHash.end - nameHash.valueStart;
  const keyHashBytes = keyHash.end - keyHash.valueStart;
  if (
    digestBytes === undefined ? nameHashBytes === 0 || keyHashBytes === 0 : nameHashBytes !== digestBytes || keyHashBytes !== digestBytes
  ) {
    return undefined;
  }
  return {
    certIdHex: der.toString('hex'),
    hashAlgorithm,
    issuerNameHash: der.toString('hex', nameHash.valueStart, nameHash.end),
    issuerKeyHash: der.toString('hex', keyHash.valueStart, keyHash.end),
    serial: der.toString('hex', serial.valueStart, serial.end),
  };
}

/** OID content octets (hex) of the hash algorithms CertIDs use. */
const HASH_OIDS: ReadonlyMap<string, 'sha1' | 'sha256'> = new Map([
  ['2b0e03021a', 'sha1'], // 1.3.14.3.2.26
  ['608648016503040201', 'sha256'], // 2.16.840.1.101.3.4.2.1
]);

interface Tlv {
  tag: number;
  valueStart: number;
  end: number;
}

/** One DER element inside [offset, limit), or undefined: high tag numbers, indefinite, non-minimal or overlong lengths. */
function readTlv(der: Buffer, offset: number, limit: number): Tlv | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = der[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) return undefined;
  const first = der[offset + 1] ?? 0;
  let length = first;
  let valueStart = offset + 2;
  if (first >= 0x80) {
    const count = first & 0x7f;
    // 0x80 is BER's indefinite length; two length octets already cover any CertID (MAX_CERT_ID_BYTES).
    if (count === 0 || count > 2 || valueStart + count > limit) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[valueStart + i] ?? 0);
    // DER: the long form only for lengths >= 128, in the fewest octets.
    if (length < 0x80 || (count === 2 && length < 0x100)) return undefined;
    valueStart += count;
  }
  const end = valueStart + length;
  return end > limit ? undefined : { tag, valueStart, end };
}

function decimal(text: string | undefined): number | null {
  if (text === undefined || !/^[0-9]{1,15}$/.test(text)) return null;
  return Number(text);
}

function errorText(cause: unknown): string {
  if (cause instanceof Error) return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
  return String(cause);
}

/** Drops `undefined` fields, so `{ timeoutMs: undefined }` keeps the default instead of erasing it. */
function definedOnly(options: HaproxyCliOptions): HaproxyCliOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as HaproxyCliOptions;
}
