import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AddressPolicy,
  AddressPolicyError,
  classifyAddress,
  parseIpAddress,
  parseResponderAllow,
  type AddressCategory,
} from './address-policy.js';

/** Every range of the default policy, its edges, and the IPv6 forms of IPv4 addresses. */
const TABLE: [string, AddressCategory][] = [
  // IPv4
  ['0.0.0.0', 'unspecified'],
  ['0.255.255.255', 'unspecified'],
  ['1.0.0.0', 'public'],
  ['8.8.8.8', 'public'],
  ['9.255.255.255', 'public'],
  ['10.0.0.0', 'private'],
  ['10.255.255.255', 'private'],
  ['11.0.0.0', 'public'],
  ['100.63.255.255', 'public'],
  ['100.64.0.0', 'shared'],
  ['100.100.100.200', 'shared'],
  ['100.127.255.255', 'shared'],
  ['100.128.0.0', 'public'],
  ['126.255.255.255', 'public'],
  ['127.0.0.1', 'loopback'],
  ['127.0.0.0', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['128.0.0.0', 'public'],
  ['169.253.255.255', 'public'],
  ['169.254.0.0', 'link-local'],
  ['169.254.169.254', 'link-local'],
  ['169.254.255.255', 'link-local'],
  ['169.255.0.0', 'public'],
  ['172.15.255.255', 'public'],
  ['172.16.0.0', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', 'public'],
  ['192.167.255.255', 'public'],
  ['192.168.0.0', 'private'],
  ['192.168.255.255', 'private'],
  ['192.169.0.0', 'public'],
  ['223.255.255.255', 'public'],
  ['224.0.0.0', 'multicast'],
  ['239.255.255.255', 'multicast'],
  ['240.0.0.0', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv6
  ['::', 'unspecified'],
  ['0:0:0:0:0:0:0:0', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::2', 'reserved'],
  ['::127.0.0.1', 'reserved'],
  ['fe80::', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf:ffff::1', 'link-local'],
  ['fec0::1', 'private'],
  ['fd00:ec2::254', 'link-local'],
  ['fd00:ec2::253', 'unique-local'],
  ['fc00::', 'unique-local'],
  ['fdff:ffff::1', 'unique-local'],
  ['fe00::', 'public'],
  ['fbff:ffff::1', 'public'],
  ['ff00::', 'multicast'],
  ['ff02::1', 'multicast'],
  ['2001:4860:4860::8888', 'public'],
  ['2606:4700::1111', 'public'],
  // IPv4-mapped forms (::ffff:0:0/96) are judged as their IPv4 address.
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['0:0:0:0:0:ffff:127.0.0.1', 'loopback'],
  ['::ffff:169.254.169.254', 'link-local'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:172.16.0.1', 'private'],
  ['::ffff:192.168.1.1', 'private'],
  ['::ffff:100.64.0.1', 'shared'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::ffff:224.0.0.1', 'multicast'],
  ['::ffff:255.255.255.255', 'broadcast'],
  ['::ffff:8.8.8.8', 'public'],
  // NAT64 and 6to4 addresses reach their embedded IPv4 address through a gateway.
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['64:ff9b::a9fe:a9fe', 'link-local'],
  ['64:ff9b::8.8.8.8', 'public'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:c0a8:101::1', 'private'],
  ['2002:808:808::1', 'public'],
];

describe('classifyAddress', () => {
  it.each(TABLE)('%s is %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });

  it('reads nothing but IP addresses (fails closed as invalid)', () => {
    for (const text of [
      '',
      'localhost',
      '127.1',
      '0x7f.0.0.1',
      '2130706433',
      '127.0.0.01',
      '256.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      '1.2.3.4::',
      'g::1',
      '[::1]',
    ]) {
      expect(classifyAddress(text), text).toBe('invalid');
    }
  });

  it('parses what node:net calls an address the same way', () => {
    for (const [address] of TABLE) expect(isIP(address), address).not.toBe(0);
    expect(parseIpAddress('1:2:3:4:5:6:7::')).toEqual(parseIpAddress('1:2:3:4:5:6:7:0'));
    expect(parseIpAddress('::ffff:1.2.3.4')).toEqual(parseIpAddress('1.2.3.4'));
  });
});

describe('AddressPolicy', () => {
  it('by default allows public addresses only', () => {
    const policy = new AddressPolicy();
    for (const [address, category] of TABLE) {
      expect(policy.check(address), address).toEqual(category === 'public' ? { allowed: true } : { allowed: false, address, category });
    }
  });

  it('allows what an allow-list CIDR covers, in its IPv4-mapped and NAT64 forms too, and nothing else', () => {
    const policy = new AddressPolicy(['127.0.0.0/8', '10.1.0.0/16', 'fd12:3456::/32']);
    expect(policy.check('127.0.0.1').allowed).toBe(true);
    expect(policy.check('127.255.0.9').allowed).toBe(true);
    expect(policy.check('::ffff:127.0.0.1').allowed).toBe(true);
    expect(policy.check('64:ff9b::7f00:1').allowed).toBe(true);
    expect(policy.check('10.1.200.3').allowed).toBe(true);
    expect(policy.check('fd12:3456:1::1').allowed).toBe(true);
    expect(policy.check('::1')).toEqual({ allowed: false, address: '::1', category: 'loopback' });
    expect(policy.check('10.2.0.1')).toMatchObject({ allowed: false, category: 'private' });
    expect(policy.check('169.254.169.254')).toMatchObject({ allowed: false, category: 'link-local' });
    expect(policy.check('fd12:3457::1')).toMatchObject({ allowed: false, category: 'unique-local' });
  });

  it('takes a single address as /32 or /128, and 0.0.0.0/0 as all of IPv4', () => {
    const single = new AddressPolicy(['169.254.169.254', '::1']);
    expect(single.check('169.254.169.254').allowed).toBe(true);
    expect(single.check('169.254.169.253').allowed).toBe(false);
    expect(single.check('::1').allowed).toBe(true);
    const open = new AddressPolicy(['0.0.0.0/0']);
    expect(open.check('127.0.0.1').allowed).toBe(true);
    expect(open.check('::1').allowed).toBe(false);
    expect(new AddressPolicy(['::/0']).check('::1').allowed).toBe(true);
  });

  it('matches host names exactly or under a *. entry, case and trailing dot aside', () => {
    const policy = new AddressPolicy(['OCSP.Internal.Example', '*.pki.corp']);
    expect(policy.allowsHostName('ocsp.internal.example')).toBe(true);
    expect(policy.allowsHostName('ocsp.internal.example.')).toBe(true);
    expect(policy.allowsHostName('other.internal.example')).toBe(false);
    expect(policy.allowsHostName('a.pki.corp')).toBe(true);
    expect(policy.allowsHostName('a.b.pki.corp')).toBe(true);
    expect(policy.allowsHostName('pki.corp')).toBe(false);
    expect(policy.allowsHostName('evilpki.corp')).toBe(false);
    // A host name entry never allows addresses.
    expect(policy.check('127.0.0.1').allowed).toBe(false);
  });
});

describe('parseResponderAllow', () => {
  it('normalizes CIDRs, addresses and names', () => {
    expect(
      parseResponderAllow(['10.1.2.3/8', '127.0.0.1', 'FD00:0:0::/8', '[::1]', 'Ocsp.Example.', '*.PKI.corp', ' 192.168.0.0/16 ']),
    ).toEqual(['10.0.0.0/8', '127.0.0.1/32', 'fd00::/8', '::1/128', 'ocsp.example', '*.pki.corp', '192.168.0.0/16']);
  });

  it('refuses anything else with invalid-allow-entry, naming the entry', () => {
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
      '10.0.0.0/-1',
      '10.0.0',
      '300.1.1.1',
      'a..b',
      'http://ocsp.example',
      'ocsp.example/path',
      '*',
      '*.',
      '-bad.example',
      'fe80::1%eth0/64',
      'x'.repeat(64),
    ]) {
      let error: unknown;
      try {
        parseResponderAllow([bad]);
      } catch (err) {
        error = err;
      }
      expect(error, bad).toBeInstanceOf(AddressPolicyError);
      expect((error as AddressPolicyError).code).toBe('invalid-allow-entry');
      expect((error as Error).message).toContain(JSON.stringify(bad.slice(0, 80)));
    }
  });
});
