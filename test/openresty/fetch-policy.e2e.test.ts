// fetch_on_miss and hostile responder URLs: a customer's certificate names the URL, so nginx must
// refuse URLs outside a strict grammar and addresses outside the policy *before connecting*. A
// counting listener stands in for the responder, so "refused" means zero connections seen.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from './dns-server.js';
import { REDIS_PORT, requireAll, skipSuite } from './environment.js';
import { startNginx, type LuaValue, type NginxOptions, type RunningNginx } from './nginx.js';
import { createTestPki, opensslResponse, type TestPki, type TestSite } from './pki.js';
import { httpReply, startScriptedResponder, type ScriptedResponder } from './scripted-responder.js';
import { handshake } from './tls-client.js';

const NAME = 'ocsp.policy.test';

/** Probes run inside nginx: the module's own URL parser and address policy, on inputs sent hex-encoded. */
const PROBES = {
  '/url': `
        local url = require "resty.staple.url"
        ngx.req.read_body()
        for hex in ngx.req.get_body_data():gmatch("[^\\n]+") do
            local input = hex:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)
            local t, err = url.parse(input)
            ngx.say(t and table.concat({ "ok", t.host, t.port, t.path, t.host_header }, " ") or "error " .. err)
        end`,
  '/address': `
        local ip = require "resty.staple.ip"
        local policy = assert(require("resty.staple.address_policy").new({
            "10.1.0.0/16", "fd12::/16", "ocsp.exact.test", "*.pki.test" }))
        ngx.req.read_body()
        for text in ngx.req.get_body_data():gmatch("[^\\n]+") do
            local name = text:match("^name:(.*)$")
            if name then
                ngx.say(policy:allows_name(name) and "allowed" or "not listed")
            else
                local bin = ip.parse(text)
                local ok, why
                if bin then ok, why = policy:check(bin) end
                ngx.say(not bin and "unparsable" or ok and "allowed" or "refused " .. why)
            end
        end`,
};

async function probe(nginx: RunningNginx, where: keyof typeof PROBES, inputs: readonly string[]): Promise<string[]> {
  const body = where === '/url' ? inputs.map((i) => Buffer.from(i, 'latin1').toString('hex')).join('\n') : inputs.join('\n');
  const response = await fetch(`http://127.0.0.1:${nginx.probePort}${where}`, { method: 'POST', body });
  expect(response.status).toBe(200);
  return (await response.text()).trimEnd().split('\n');
}

describe.skipIf(skipSuite('resty.staple responder policy tests'))('fetch_on_miss: responder URL and address policy', () => {
  let dir: string;
  let pki: TestPki;
  let stub: ScriptedResponder;
  let dns: DnsServer;
  /** Default policy; the allow-by-CIDR and allow-by-name variants. */
  let strict: RunningNginx;
  let allowLoopback: RunningNginx;
  let allowName: RunningNginx;
  const started: { stop(): Promise<void> }[] = [];
  const prefix = `swtest:policy:${randomBytes(4).toString('hex')}:`; // nothing stored: every handshake misses

  const site = (name: string): TestSite => {
    const found = pki.sites.find((s) => s.names[0] === name);
    if (!found) throw new Error(`no site ${name}`);
    return found;
  };
  const nginxWith = async (subdir: string, fetchOnMiss: { [key: string]: LuaValue }): Promise<RunningNginx> => {
    const options: NginxOptions = {
      dir: path.join(dir, subdir),
      sites: pki.sites,
      defaultSite: site('literal.policy.test'),
      staple: {
        redis: { host: '127.0.0.1', port: REDIS_PORT },
        prefix,
        fetch_on_miss: { inline: true, rate: 1000, timeout_ms: 2000, nameservers: [`127.0.0.1:${dns.port}`], ...fetchOnMiss },
      },
      workers: 1,
      probes: PROBES,
    };
    const nginx = await startNginx(options);
    started.push(nginx);
    return nginx;
  };
  /** One handshake for `name` on `nginx`; returns whether it was stapled. */
  const stapled = async (nginx: RunningNginx, name: string): Promise<boolean> =>
    (await handshake(nginx.ports.auto, name, await readFile(pki.rootCert))).staple !== null;
  /** Scripts the stub to answer with a valid response for `s`. */
  const answerFor = async (s: TestSite): Promise<void> => {
    stub.reply(httpReply(await opensslResponse(pki, [s.serial], path.join(dir, `${s.serial}.der`))));
  };

  beforeAll(async () => {
    requireAll();
    dir = await mkdtemp(path.join(os.tmpdir(), 'staple-policy-'));
    stub = await startScriptedResponder();
    started.push(stub);
    dns = await startDnsServer({ [NAME]: ['127.0.0.1'] });
    started.push(dns);
    const at = `127.0.0.1:${stub.port}`;
    pki = await createTestPki(
      path.join(dir, 'pki'),
      [
        { names: ['literal.policy.test'], responderUrl: `http://${at}/` },
        { names: ['named.policy.test'], responderUrl: `http://${NAME}:${stub.port}/` },
        { names: ['named2.policy.test'], responderUrl: `http://${NAME}:${stub.port}/` },
        { names: ['literal2.policy.test'], responderUrl: `http://${at}/` },
        { names: ['literal3.policy.test'], responderUrl: `http://${at}/` },
        { names: ['mapped.policy.test'], responderUrl: `http://[::ffff:127.0.0.1]:${stub.port}/` },
        { names: ['crlf.policy.test'], responderUrl: `http://${at}/x\r\nX-Injected: 1` },
        { names: ['https.policy.test'], responderUrl: `https://${at}/` },
        { names: ['octal.policy.test'], responderUrl: `http://0177.0.0.1:${stub.port}/` },
      ],
      `http://${at}/`,
    );
    strict = await nginxWith('strict', {});
    allowLoopback = await nginxWith('allow-loopback', { responder_allow: ['127.0.0.0/8'] });
    allowName = await nginxWith('allow-name', { responder_allow: [NAME] });
  });

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a loopback responder by default, without connecting', async () => {
    await answerFor(site('literal.policy.test'));
    const before = stub.connections;
    expect(await stapled(strict, 'literal.policy.test')).toBe(false);
    expect(stub.connections - before).toBe(0);
    expect(await strict.errorLog()).toContain(`http://127.0.0.1:${stub.port}/: refused address 127.0.0.1: loopback (127.0.0.0/8)`);
  });

  it('checks the address a host name resolves to (its own DNS lookup), without connecting', async () => {
    await answerFor(site('named.policy.test'));
    const before = stub.connections;
    expect(await stapled(strict, 'named.policy.test')).toBe(false);
    expect(stub.connections - before).toBe(0);
    expect(dns.queries).toContain(`${NAME} A`);
    expect(await strict.errorLog()).toContain(`${NAME} resolves only to refused addresses (127.0.0.1: loopback (127.0.0.0/8))`);
  });

  it('refuses an IPv4-mapped IPv6 loopback literal, and inet_aton forms of 127.0.0.1', async () => {
    const before = stub.connections;
    expect(await stapled(strict, 'mapped.policy.test')).toBe(false);
    expect(await stapled(allowLoopback, 'octal.policy.test')).toBe(false);
    expect(stub.connections - before).toBe(0);
    expect(await strict.errorLog()).toContain('refused address 0:0:0:0:0:ffff:7f00:1: IPv4-mapped loopback (127.0.0.0/8)');
    expect(await allowLoopback.errorLog()).toContain('refused responder URL http://0177.0.0.1:');
    expect(await allowLoopback.errorLog()).toContain(": bad host '0177.0.0.1'");
  });

  it('connects to a loopback responder the operator allowed by CIDR, and staples its answer', async () => {
    const s = site('literal2.policy.test');
    await answerFor(s);
    const before = stub.connections;
    expect(await stapled(allowLoopback, 'literal2.policy.test')).toBe(true);
    expect(stub.connections - before).toBe(1);
    const request = stub.requests.at(-1)?.toString('latin1') ?? '';
    expect(request).toMatch(new RegExp(`^POST / HTTP/1\\.0\\r\\nHost: 127\\.0\\.0\\.1:${stub.port}\\r\\n`));
  });

  it('connects to a host name the operator allowed, to the address it resolved, with the name as Host', async () => {
    await answerFor(site('named2.policy.test'));
    const before = stub.connections;
    expect(await stapled(allowName, 'named2.policy.test')).toBe(true);
    expect(stub.connections - before).toBe(1);
    expect(stub.requests.at(-1)?.toString('latin1')).toContain(`\r\nHost: ${NAME}:${stub.port}\r\n`);
    // Allowing the name does not allow its address under another name.
    await answerFor(site('literal3.policy.test'));
    expect(await stapled(allowName, 'literal3.policy.test')).toBe(false);
    expect(stub.connections - before).toBe(1);
  });

  it('refuses a URL with CR/LF (header injection) or another scheme, even where the address is allowed', async () => {
    const before = stub.connections;
    expect(await stapled(allowLoopback, 'crlf.policy.test')).toBe(false);
    expect(await stapled(allowLoopback, 'https.policy.test')).toBe(false);
    expect(stub.connections - before).toBe(0);
    const log = await allowLoopback.errorLog();
    // The URL is logged with its control characters escaped: no forged log line either.
    expect(log).toContain(
      `refused responder URL http://127.0.0.1:${stub.port}/x\\x0d\\x0aX-Injected: 1: control character 0x0d at byte ${`http://127.0.0.1:${stub.port}/x`.length + 1}`,
    );
    expect(log).toContain(`refused responder URL https://127.0.0.1:${stub.port}/: unsupported scheme 'https'`);
    expect(log).not.toMatch(/^X-Injected/m);
  });

  it('refuses to start with an allow-list entry that is neither a CIDR range nor a host name', async () => {
    await expect(nginxWith('bad-allow', { responder_allow: ['10.0.0.0/33'] })).rejects.toThrow(
      /fetch_on_miss\.responder_allow\[1\] is neither a CIDR range nor a host name: 10\.0\.0\.0\/33/,
    );
  });

  it('parses responder URLs strictly (the module inside nginx)', async () => {
    const cases: [string, string][] = [
      ['http://ocsp.example.com', 'ok ocsp.example.com 80 / ocsp.example.com'],
      ['HTTP://OCSP.Example.COM:8080/a/b?c=d', 'ok ocsp.example.com 8080 /a/b?c=d ocsp.example.com:8080'],
      ['http://ocsp.example.com?x=1', 'ok ocsp.example.com 80 /?x=1 ocsp.example.com'],
      ['http://[::1]:8080/x', 'ok ::1 8080 /x [::1]:8080'],
      ['http://192.0.2.1/%2Fok', 'ok 192.0.2.1 80 /%2Fok 192.0.2.1'],
      ['http://a.test/x\r\nX: y', 'error control character 0x0d at byte 16'],
      ['http://a.test/x y', 'error space at byte 16'],
      ['http://a.test/\0', 'error control character 0x00 at byte 15'],
      ['http://a.test/\xe9', 'error non-ASCII byte 0xe9 at byte 15'],
      ['https://a.test/', "error unsupported scheme 'https' (only http:// responders are fetched)"],
      ['ldap://a.test/', "error unsupported scheme 'ldap' (only http:// responders are fetched)"],
      ['//a.test/', 'error not an absolute http:// URL'],
      ['http://user:pw@a.test/', "error user info ('@') is not allowed"],
      ['http://a.test:0/', "error bad port '0'"],
      ['http://a.test:65536/', "error bad port '65536'"],
      ['http://a.test:/', "error bad port ''"],
      ['http://a.test:8o/', "error bad port '8o'"],
      ['http://127.1/', "error bad host '127.1'"],
      ['http://2130706433/', "error bad host '2130706433'"],
      ['http://0x7f.0.0.1/', "error bad host '0x7f.0.0.1'"],
      ['http://a_b.test/', 'ok a_b.test 80 / a_b.test'],
      ['http://-a.test/', "error bad host '-a.test'"],
      ['http:///x', "error bad host ''"],
      ['http://[::1%eth0]/', 'error bad IPv6 address in brackets'],
      ['http://[1::2::3]/', 'error bad IPv6 address in brackets'],
      ['http://a.test/#frag', "error fragment ('#') at byte 15"],
      ['http://a.test/<x>', "error character '<' not allowed at byte 15"],
      ['http://a.test/a\\b', "error character '\\' not allowed at byte 16"],
      ['http://a.test/%zz', 'error bad %-escape at byte 15'],
      [`http://a.test/${'a'.repeat(1011)}`, 'error longer than 1024 bytes'],
    ];
    expect(
      await probe(
        strict,
        '/url',
        cases.map(([input]) => input),
      ),
    ).toEqual(cases.map(([, expected]) => expected));
  });

  it('classifies addresses like the worker: loopback, link-local, metadata, private, multicast... refused; allow-list wins', async () => {
    const cases: [string, string][] = [
      ['8.8.8.8', 'allowed'],
      ['172.32.0.1', 'allowed'],
      ['2001:4860:4860::8888', 'allowed'],
      ['127.0.0.1', 'refused loopback (127.0.0.0/8)'],
      ['127.255.255.254', 'refused loopback (127.0.0.0/8)'],
      ['0.0.0.0', 'refused unspecified (0.0.0.0/8)'],
      ['10.0.0.1', 'refused private (10.0.0.0/8)'],
      ['172.16.0.1', 'refused private (172.16.0.0/12)'],
      ['172.31.255.255', 'refused private (172.16.0.0/12)'],
      ['192.168.1.1', 'refused private (192.168.0.0/16)'],
      ['100.64.0.1', 'refused private (shared address space) (100.64.0.0/10)'],
      ['169.254.169.254', 'refused cloud metadata (169.254.169.254)'],
      ['169.254.1.1', 'refused link-local (169.254.0.0/16)'],
      ['224.0.0.1', 'refused multicast (224.0.0.0/4)'],
      ['255.255.255.255', 'refused broadcast (255.255.255.255)'],
      ['240.0.0.1', 'refused reserved (240.0.0.0/4)'],
      ['::1', 'refused loopback (::1)'],
      ['::', 'refused unspecified (::)'],
      ['fe80::1', 'refused link-local (fe80::/10)'],
      ['fd00:ec2::254', 'refused cloud metadata (fd00:ec2::254)'],
      ['fc00::1', 'refused private (unique local) (fc00::/7)'],
      ['fec0::1', 'refused private (site-local) (fec0::/10)'],
      ['ff02::1', 'refused multicast (ff00::/8)'],
      ['::ffff:127.0.0.1', 'refused IPv4-mapped loopback (127.0.0.0/8)'],
      ['::ffff:169.254.169.254', 'refused IPv4-mapped cloud metadata (169.254.169.254)'],
      ['::ffff:8.8.8.8', 'allowed'],
      ['64:ff9b::a9fe:a9fe', 'refused NAT64 cloud metadata (169.254.169.254)'],
      ['2002:7f00:1::', 'refused 6to4 loopback (127.0.0.0/8)'],
      ['::10.0.0.1', 'refused reserved (IPv4-compatible) (::/96)'],
      ['::8.8.8.8', 'refused reserved (IPv4-compatible) (::/96)'],
      // The allow-list opens what it names: addresses in either form, names exactly or under *.domain.
      ['10.1.2.3', 'allowed'],
      ['::ffff:10.1.2.3', 'allowed'],
      ['fd12::1', 'allowed'],
      ['10.2.0.1', 'refused private (10.0.0.0/8)'],
      ['name:ocsp.exact.test', 'allowed'],
      ['name:other.exact.test', 'not listed'],
      ['name:ocsp.pki.test', 'allowed'],
      ['name:a.b.pki.test', 'allowed'],
      ['name:pki.test', 'not listed'],
      ['name:evilpki.test', 'not listed'],
      ['127.1', 'unparsable'],
      ['0177.0.0.1', 'unparsable'],
      ['1.2.3.256', 'unparsable'],
      ['1:2:3:4:5:6:7:8:9', 'unparsable'],
    ];
    expect(
      await probe(
        strict,
        '/address',
        cases.map(([input]) => input),
      ),
    ).toEqual(cases.map(([, expected]) => expected));
  });
});
