// HaproxyCli against a fake runtime API on a unix socket (TCP where the test says so): the fake
// reads one request as HAProxy does (a line; with "<<", up to the empty line ending the payload),
// records it, and answers with whatever the test scripts. The real HAProxy is in cli.haproxy.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_HAPROXY_CLI_OPTIONS, HaproxyCli, HaproxyCliError, parseHaproxySocketAddress, type HaproxyCliErrorCode } from './cli.js';

type Answer = (request: string, socket: Socket) => void;

interface FakeHaproxy {
  /** Unix socket path, or 127.0.0.1:port. */
  address: string;
  requests: string[];
  connections: number;
  /** Resolves when the client side of the last connection is gone. */
  lastClosed: Promise<void>;
}

let dir: string;
const servers: Server[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'haproxy-cli-'));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  await rm(dir, { recursive: true, force: true });
});

/** A complete request: one line, or a "<<" line and its payload up to the empty line. */
function completeRequest(text: string): string | undefined {
  const newline = text.indexOf('\n');
  if (newline < 0) return undefined;
  if (!text.slice(0, newline).endsWith('<<')) return text.slice(0, newline + 1);
  const end = text.indexOf('\n\n', newline);
  return end < 0 ? undefined : text.slice(0, end + 2);
}

async function startFake(answer: Answer, transport: 'unix' | 'tcp' = 'unix'): Promise<FakeHaproxy> {
  const fake: FakeHaproxy = { address: '', requests: [], connections: 0, lastClosed: Promise.resolve() };
  const server = createServer((socket) => {
    fake.connections++;
    fake.lastClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined); // resets are part of some tests
    let received = '';
    let answered = false;
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk;
      const request = completeRequest(received);
      if (request === undefined || answered) return;
      answered = true;
      fake.requests.push(request);
      answer(request, socket);
    });
  });
  servers.push(server);
  const path = join(dir, 'admin.sock');
  await new Promise<void>((resolve) => (transport === 'unix' ? server.listen(path, resolve) : server.listen(0, '127.0.0.1', resolve)));
  fake.address = transport === 'unix' ? path : `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

const answering =
  (text: string): Answer =>
  (_request, socket) =>
    socket.end(text);

async function rejection(promise: Promise<unknown>): Promise<HaproxyCliError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof HaproxyCliError)) throw new Error(`expected a HaproxyCliError, got ${String(error)}`);
  return error;
}

async function expectCode(promise: Promise<unknown>, code: HaproxyCliErrorCode): Promise<HaproxyCliError> {
  const error = await rejection(promise);
  expect(error.code).toBe(code);
  return error;
}

/** DER tag-length-value, hex in and out (long form lengths for 128 and up). */
function tlv(tag: string, contentHex: string): string {
  const length = contentHex.length / 2;
  const lengthHex =
    length < 0x80
      ? length.toString(16).padStart(2, '0')
      : length < 0x100
        ? `81${length.toString(16)}`
        : `82${length.toString(16).padStart(4, '0')}`;
  return `${tag}${lengthHex}${contentHex}`;
}

const SHA1_ALG = tlv('30', tlv('06', '2b0e03021a') + '0500');
const SHA256_ALG = tlv('30', tlv('06', '608648016503040201') + '0500');
const certId = (alg: string, nameHash: string, keyHash: string, serial: string): string =>
  tlv('30', alg + tlv('04', nameHash) + tlv('04', keyHash) + tlv('02', serial));

/** `show ssl ocsp-response` of HAProxy 2.6.12 with one slot, byte for byte. */
const HAPROXY_SAMPLE =
  '# Certificate IDs\n' +
  'Certificate ID key : 3045300906052b0e03021a0500041423e1b96400706f270dc3e377f8a5134536607a000414721cec28469df2683a6f6f27a2f847de184d0bfb020c7f1615275abbe98600000001\n' +
  ' Certificate ID:\n' +
  '   Issuer Name Hash: 23E1B96400706F270DC3E377F8A5134536607A00\n' +
  '   Issuer Key Hash: 721CEC28469DF2683A6F6F27A2F847DE184D0BFB\n' +
  '   Serial Number: 7F1615275ABBE98600000001\n' +
  '\n';

const ocspList = (...keys: string[]): string =>
  `# Certificate IDs\n${keys.map((key) => `Certificate ID key : ${key}\n Certificate ID:\n\n`).join('')}`;

describe('parseHaproxySocketAddress', () => {
  it('reads unix socket paths, absolute and relative', () => {
    expect(parseHaproxySocketAddress('/run/haproxy/admin.sock')).toEqual({ path: '/run/haproxy/admin.sock' });
    expect(parseHaproxySocketAddress('./admin.sock')).toEqual({ path: './admin.sock' });
  });

  it('reads host:port and [IPv6]:port', () => {
    expect(parseHaproxySocketAddress('127.0.0.1:9999')).toEqual({ host: '127.0.0.1', port: 9999 });
    expect(parseHaproxySocketAddress('haproxy-1.internal:1')).toEqual({ host: 'haproxy-1.internal', port: 1 });
    expect(parseHaproxySocketAddress('[::1]:65535')).toEqual({ host: '::1', port: 65535 });
  });

  it.each([
    '',
    'admin.sock',
    '127.0.0.1',
    '127.0.0.1:',
    ':9999',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1:99x',
    '::1:9999',
    '[::1]',
    '[not-v6]:9999',
    '[1.2.3.4]:9999',
    '[::1::2]:9999',
    'a b:1',
    ' 127.0.0.1:9999',
    'http://127.0.0.1:9999',
    '/run/admin\0.sock',
    '/run/admin\n.sock',
  ])('rejects %j with code bad-address', (text) => {
    let error: unknown;
    try {
      parseHaproxySocketAddress(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HaproxyCliError);
    expect((error as HaproxyCliError).code).toBe('bad-address');
    expect((error as HaproxyCliError).message).not.toMatch(/[\0\n]/);
  });

  it('the client refuses bad options with code bad-option', () => {
    for (const options of [{ timeoutMs: 0 }, { timeoutMs: 2 ** 31 }, { maxAnswerBytes: 1.5 }, { maxAnswerBytes: Number.NaN }]) {
      expect(() => new HaproxyCli('/x.sock', options)).toThrow(expect.objectContaining({ code: 'bad-option' }));
    }
    expect(() => new HaproxyCli('x.sock')).toThrow(expect.objectContaining({ code: 'bad-address' }));
  });
});

describe('HaproxyCli.command', () => {
  it('writes the line and a newline on a connection of its own, and returns the answer up to the close', async () => {
    const fake = await startFake((request, socket) => socket.end(`answer to ${JSON.stringify(request)}\n\n`));
    const cli = new HaproxyCli(fake.address);
    expect(await cli.command('show version')).toBe('answer to "show version\\n"\n\n');
    expect(await cli.command('show info')).toBe('answer to "show info\\n"\n\n');
    expect(fake.requests).toEqual(['show version\n', 'show info\n']);
    expect(fake.connections).toBe(2);
  });

  it('refuses a line holding \\n or \\r with code bad-command, without connecting', async () => {
    const fake = await startFake(answering('no\n'));
    const cli = new HaproxyCli(fake.address);
    await expectCode(cli.command('show info\nshutdown frontend fe'), 'bad-command');
    await expectCode(cli.command('show info\r'), 'bad-command');
    expect(fake.connections).toBe(0);
  });

  it('speaks TCP to host:port', async () => {
    const fake = await startFake(answering('over tcp\n'), 'tcp');
    expect(await new HaproxyCli(fake.address).command('show version')).toBe('over tcp\n');
  });

  it('keeps a UTF-8 character split across two reads whole', async () => {
    const bytes = Buffer.from('/etc/haproxy/certs/café.pem\n');
    const split = bytes.indexOf(0xa9); // second byte of "é"
    const fake = await startFake((_request, socket) => {
      socket.write(bytes.subarray(0, split));
      setTimeout(() => socket.end(bytes.subarray(split)), 20);
    });
    expect(await new HaproxyCli(fake.address).command('show ssl cert')).toBe('/etc/haproxy/certs/café.pem\n');
  });

  it('connect-failed naming the socket path when nothing is there', async () => {
    const path = join(dir, 'missing.sock');
    const error = await expectCode(new HaproxyCli(path).command('show info'), 'connect-failed');
    expect(error.message).toContain(path);
    expect(error.message).toContain('ENOENT');
  });

  it('connect-failed for a TCP port nobody listens on', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await expectCode(new HaproxyCli(`127.0.0.1:${port}`).command('show info'), 'connect-failed');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it('timeout covers the whole answer (a trickle does not extend it) and destroys the socket', async () => {
    let timer: NodeJS.Timeout | undefined;
    const fake = await startFake((_request, socket) => {
      timer = setInterval(() => socket.write('.'), 20);
      socket.once('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const error = await expectCode(new HaproxyCli(fake.address, { timeoutMs: 300 }).command('show info'), 'timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toContain(fake.address);
    await fake.lastClosed; // the client destroyed its socket: the fake saw the close
  });

  it('answer-too-large past maxAnswerBytes (exactly maxAnswerBytes passes) and destroys the socket', async () => {
    const fake = await startFake((request, socket) => socket.end('x'.repeat(request.startsWith('big') ? 1025 : 1024)));
    const cli = new HaproxyCli(fake.address, { maxAnswerBytes: 1024 });
    expect(await cli.command('fits')).toHaveLength(1024);
    await expectCode(cli.command('big'), 'answer-too-large');
    await fake.lastClosed;
  });

  it('connection-lost when the connection is reset mid-answer', async () => {
    const fake = await startFake((_request, socket) => {
      socket.write('# Certificate IDs\n');
      setTimeout(() => socket.resetAndDestroy(), 20);
    }, 'tcp');
    await expectCode(new HaproxyCli(fake.address).command('show ssl ocsp-response'), 'connection-lost');
  });

  it('defaults: 5 s per command, 32 MiB per answer', () => {
    expect(DEFAULT_HAPROXY_CLI_OPTIONS).toEqual({ timeoutMs: 5_000, maxAnswerBytes: 32 * 1024 * 1024 });
  });
});

describe('HaproxyCli.showSslCerts', () => {
  it('lists the committed certificate files, skipping transactions, comments and empty lines', async () => {
    const fake = await startFake(answering('# transaction\n*/etc/certs/b.pem\n# filename\n/etc/certs/a.pem\n/etc/certs/b.pem\n\n'));
    expect(await new HaproxyCli(fake.address).showSslCerts()).toEqual(['/etc/certs/a.pem', '/etc/certs/b.pem']);
    expect(fake.requests).toEqual(['show ssl cert\n']);
  });

  it('refused with HAProxy\'s answer below level operator (2.6 says "Can\'t allocate memory!")', async () => {
    const fake = await startFake(answering("Can't allocate memory!\n\n"));
    const error = await expectCode(new HaproxyCli(fake.address).showSslCerts(), 'refused');
    expect(error.answer).toBe("Can't allocate memory!");
    expect(error.message).toContain(fake.address);
  });
});

describe('HaproxyCli.showOcspResponses', () => {
  it('decodes the answer of HAProxy 2.6.12, ignoring the detail lines', async () => {
    const fake = await startFake(answering(HAPROXY_SAMPLE));
    expect(await new HaproxyCli(fake.address).showOcspResponses()).toEqual({
      entries: [
        {
          certIdHex:
            '3045300906052b0e03021a0500041423e1b96400706f270dc3e377f8a5134536607a000414721cec28469df2683a6f6f27a2f847de184d0bfb020c7f1615275abbe98600000001',
          hashAlgorithm: 'sha1',
          issuerNameHash: '23e1b96400706f270dc3e377f8a5134536607a00',
          issuerKeyHash: '721cec28469df2683a6f6f27a2f847de184d0bfb',
          serial: '7f1615275abbe98600000001',
        },
      ],
      malformed: 0,
    });
    expect(fake.requests).toEqual(['show ssl ocsp-response\n']);
  });

  it('no OCSP slot: HAProxy 2.6 answers a bare newline, read as an empty list', async () => {
    const fake = await startFake(answering('\n'));
    expect(await new HaproxyCli(fake.address).showOcspResponses()).toEqual({ entries: [], malformed: 0 });
  });

  it('SHA-256 CertIDs, parameters absent, uppercase hex, and a serial with its leading 00 kept', async () => {
    const sha256 = certId(SHA256_ALG, 'aa'.repeat(32), 'bb'.repeat(32), '00ff01');
    const noParameters = certId(tlv('30', tlv('06', '2b0e03021a')), '11'.repeat(20), '22'.repeat(20), '01');
    const other = certId(tlv('30', tlv('06', '2a864886f70d0205')), '33'.repeat(16), '44'.repeat(16), '02'); // MD5
    const fake = await startFake(answering(ocspList(sha256.toUpperCase(), noParameters, other)));
    const { entries, malformed } = await new HaproxyCli(fake.address).showOcspResponses();
    expect(malformed).toBe(0);
    expect(entries.map((e) => [e.hashAlgorithm, e.serial, e.certIdHex.length / 2])).toEqual([
      ['sha256', '00ff01', sha256.length / 2],
      ['sha1', '01', noParameters.length / 2],
      ['unknown', '02', other.length / 2],
    ]);
    expect(entries[0]).toMatchObject({ certIdHex: sha256, issuerNameHash: 'aa'.repeat(32), issuerKeyHash: 'bb'.repeat(32) });
  });

  it('skips and counts key lines that are not a DER CertID, keeping the good ones', async () => {
    const good = certId(SHA1_ALG, '11'.repeat(20), '22'.repeat(20), '0102');
    const inner = good.slice(4); // after "30 xx"
    const bad = [
      '',
      `${good}0`, // odd length
      `${good.slice(0, -1)}g`, // not hex
      good.slice(0, -2), // truncated
      `${good}00`, // trailing byte
      `3080${inner}0000`, // indefinite length
      `3081${good.slice(2)}`, // non-minimal length (long form below 128)
      `3085${'00'.repeat(4)}${good.slice(2, 4)}${inner}`, // five length octets
      `3f${good.slice(2)}`, // high tag number form
      good.replace(`${tlv('04', '22'.repeat(20))}`, `${tlv('03', '22'.repeat(20))}`), // keyHash not an OCTET STRING
      certId(SHA1_ALG, '11'.repeat(32), '22'.repeat(20), '01'), // SHA-1 with a 32-byte issuerNameHash
      certId(SHA1_ALG, '11'.repeat(20), '22'.repeat(19), '01'), // SHA-1 with a 19-byte issuerKeyHash
      certId(tlv('30', tlv('06', '2b0e03021a') + '050100'), '11'.repeat(20), '22'.repeat(20), '01'), // NULL with content
      tlv('30', SHA1_ALG + tlv('04', '11'.repeat(20)) + tlv('04', '22'.repeat(20)) + '0200'), // empty INTEGER
      tlv('30', SHA1_ALG + tlv('04', '11'.repeat(20)) + tlv('04', '22'.repeat(20))), // no serial
      'ab'.repeat(600), // longer than any CertID
    ];
    const fake = await startFake(answering(ocspList(good, ...bad, good) + `Certificate ID key : ${'a'.repeat(100_000)}g\n`));
    const { entries, malformed } = await new HaproxyCli(fake.address).showOcspResponses();
    expect(entries.map((e) => e.certIdHex)).toEqual([good, good]);
    expect(malformed).toBe(bad.length + 1);
  });

  it("refused with HAProxy's answer when it is not the list", async () => {
    const fake = await startFake(answering('Unknown command. Please enter one of the following commands only:\n  help\n'));
    const error = await expectCode(new HaproxyCli(fake.address).showOcspResponses(), 'refused');
    expect(error.answer).toBe('Unknown command. Please enter one of the following commands only:');
  });

  it('50,000 slots with 18-byte serials fit the default answer cap', async () => {
    const count = 50_000;
    const entry = (i: number): string => {
      const serial = `04${i.toString(16).padStart(34, '0')}`;
      const key = certId(SHA1_ALG, 'cd'.repeat(20), 'ea'.repeat(20), serial);
      return `Certificate ID key : ${key}\n Certificate ID:\n   Issuer Name Hash: ${'CD'.repeat(20)}\n   Issuer Key Hash: ${'EA'.repeat(20)}\n   Serial Number: ${serial.toUpperCase()}\n`;
    };
    const body = `# Certificate IDs\n${Array.from({ length: count }, (_, i) => entry(i)).join('')}\n`;
    expect(body.length).toBeGreaterThan(16 * 1024 * 1024); // why the default is not 16 MiB
    const fake = await startFake(answering(body));
    const { entries, malformed } = await new HaproxyCli(fake.address, { timeoutMs: 30_000 }).showOcspResponses();
    expect(malformed).toBe(0);
    expect(entries).toHaveLength(count);
    expect(entries[count - 1]?.serial).toBe(`04${(count - 1).toString(16).padStart(34, '0')}`);
  });
});

describe('HaproxyCli.setOcspResponse', () => {
  const der = Buffer.from('3082000a0a0100a0820003000000', 'hex'); // any bytes: the fake does not parse them

  it('sends the payload form and resolves on "OCSP Response updated!"', async () => {
    const fake = await startFake(answering('OCSP Response updated!\n\n'));
    await new HaproxyCli(fake.address).setOcspResponse(der);
    expect(fake.requests).toEqual([`set ssl ocsp-response <<\n${der.toString('base64')}\n\n`]);
  });

  it("refused with HAProxy's answer when no slot matches the response's CertID", async () => {
    const line = 'OCSP single response: Certificate ID does not match any certificate or issuer.';
    const fake = await startFake(answering(`${line}\n\n`));
    const error = await expectCode(new HaproxyCli(fake.address).setOcspResponse(der), 'refused');
    expect(error.answer).toBe(line);
    expect(error.message).toContain(line);
    expect(error.message).toContain(fake.address);
  });

  it('the answer in the error is its first line, control characters escaped, at most 200 characters', async () => {
    const fake = await startFake(answering(`\n\u001b[31mbad\tthing\u0085 ${'y'.repeat(500)}\nsecond line\n`));
    const error = await expectCode(new HaproxyCli(fake.address).setOcspResponse(der), 'refused');
    expect(error.answer).toMatch(/^\\x1b\[31mbad\\x09thing\\x85 y+…$/);
    expect(error.answer).toHaveLength(200);
    expect(error.message).not.toContain('second line');
    expect(error.message).not.toContain('\u001b');
  });

  it('refused when HAProxy closes without an answer', async () => {
    const fake = await startFake((_request, socket) => socket.end());
    const error = await expectCode(new HaproxyCli(fake.address).setOcspResponse(der), 'refused');
    expect(error.message).toContain('closed without an answer');
    expect(error.message).not.toContain('tune.bufsize');
  });

  it("a command longer than HAProxy's default buffer and dropped (closed or reset) is refused naming tune.bufsize", async () => {
    const large = Buffer.alloc(13_000, 1); // 17,336 bytes of base64
    const closing = await startFake((_request, socket) => socket.end());
    const closed = await expectCode(new HaproxyCli(closing.address).setOcspResponse(large), 'refused');
    expect(closed.message).toContain('tune.bufsize');
    const resetting = await startFake((_request, socket) => socket.resetAndDestroy(), 'tcp');
    const reset = await expectCode(new HaproxyCli(resetting.address).setOcspResponse(large), 'refused');
    expect(reset.message).toContain('tune.bufsize');
    expect(reset.cause).toMatchObject({ code: 'connection-lost' });
  });

  it('refuses an empty response with code bad-command, without connecting', async () => {
    const fake = await startFake(answering('OCSP Response updated!\n'));
    await expectCode(new HaproxyCli(fake.address).setOcspResponse(Buffer.alloc(0)), 'bad-command');
    expect(fake.connections).toBe(0);
  });
});

describe('HaproxyCli.showInfo', () => {
  it('reads Pid, Start_time_sec, Uptime_sec and Version', async () => {
    const fake = await startFake(
      answering('Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nPid: 7354\nUptime: 0d 0h00m12s\nUptime_sec: 12\nStart_time_sec: 1795950124\n\n'),
    );
    expect(await new HaproxyCli(fake.address).showInfo()).toEqual({
      pid: 7354,
      startTimeSec: 1795950124,
      uptimeSec: 12,
      version: '2.6.12-1+deb12u4',
    });
    expect(fake.requests).toEqual(['show info\n']);
  });

  it('null start time and uptime when the lines are missing', async () => {
    const fake = await startFake(answering('Version: 2.4.0\nPid: 1\n'));
    expect(await new HaproxyCli(fake.address).showInfo()).toEqual({ pid: 1, startTimeSec: null, uptimeSec: null, version: '2.4.0' });
  });

  it('unexpected-answer without a Pid line', async () => {
    const fake = await startFake(answering('Unknown command.\n'));
    const error = await expectCode(new HaproxyCli(fake.address).showInfo(), 'unexpected-answer');
    expect(error.answer).toBe('Unknown command.');
  });
});
