/**
 * The responder address policy: which IP addresses an OCSP request may connect to.
 *
 * A certificate's OCSP URL is written by whoever made the certificate (on a hosting platform, a
 * customer), and the worker connects wherever it points. So by default nothing that is not publicly
 * routable is reached: loopback, private, shared (CGNAT), link-local (cloud metadata), unique-local,
 * unspecified, multicast, broadcast and reserved addresses are refused, IPv4-mapped and
 * NAT64-embedded IPv6 forms included. An allow-list of CIDRs and host names opens what a private
 * PKI needs. The check runs on the resolved address when connecting (see connector.ts), so a name
 * that resolves to something else later (DNS rebinding) cannot pass it.
 *
 * Pure and light: no I/O and no imports, so the CLI's config validation loads it (through
 * `@staplewarm/fetch/address-policy`) without undici.
 */

/**
 * Why an address is refused by default. `public` is everything else (allowed).
 * - `unspecified`: 0.0.0.0/8, `::` (0.0.0.0 reaches the local host on Linux).
 * - `loopback`: 127.0.0.0/8, `::1`.
 * - `private`: RFC 1918 (10/8, 172.16/12, 192.168/16) and the deprecated IPv6 site-local fec0::/10.
 * - `shared`: 100.64.0.0/10 (RFC 6598, carrier-grade NAT; some clouds put internal services there).
 * - `link-local`: 169.254.0.0/16 (incl. the cloud metadata service 169.254.169.254), fe80::/10, and
 *   AWS's IPv6 metadata address fd00:ec2::254.
 * - `unique-local`: fc00::/7.
 * - `multicast`: 224.0.0.0/4, ff00::/8.
 * - `broadcast`: 255.255.255.255.
 * - `reserved`: 240.0.0.0/4 and the deprecated IPv4-compatible IPv6 addresses ::/96.
 * - `invalid`: not an IP address this module can read (refused: fail closed).
 */
export type AddressCategory =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'invalid';

/** The setting that opens the policy, named in every refusal (the CLI's flag and variable). */
export const RESPONDER_ALLOW_SETTING = '--responder-allow / STAPLEWARM_RESPONDER_ALLOW';

/** Stable codes: `invalid-allow-entry` (an allow-list entry that is neither a CIDR nor a host name). */
export class AddressPolicyError extends Error {
  override readonly name = 'AddressPolicyError';
  readonly code = 'invalid-allow-entry';
}

/** An IP address as 16 bytes (IPv4 as its IPv4-mapped IPv6 form, ::ffff:a.b.c.d) and a prefix length. */
interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

/** Where an IPv6 prefix embeds an IPv4 address that the traffic ends up reaching. */
interface Embedding {
  cidr: Cidr;
  /** Byte offset of the IPv4 address. */
  at: number;
}

/** First match wins: specific ranges (fd00:ec2::254) come before the ranges that contain them. */
const CATEGORIES: readonly [Cidr, AddressCategory][] = (
  [
    ['0.0.0.0/8', 'unspecified'],
    ['10.0.0.0/8', 'private'],
    ['100.64.0.0/10', 'shared'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local'],
    ['172.16.0.0/12', 'private'],
    ['192.168.0.0/16', 'private'],
    ['224.0.0.0/4', 'multicast'],
    ['255.255.255.255/32', 'broadcast'],
    ['240.0.0.0/4', 'reserved'],
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['::/96', 'reserved'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'private'],
    ['fd00:ec2::254/128', 'link-local'],
    ['fc00::/7', 'unique-local'],
    ['ff00::/8', 'multicast'],
  ] as const
).map(([cidr, category]) => [mustParseCidr(cidr), category]);

/**
 * IPv6 prefixes that carry an IPv4 address a gateway forwards to: NAT64 (64:ff9b::/96, RFC 6052)
 * and 6to4 (2002::/16). Such an address is judged (and allowed) as its IPv4 address.
 * IPv4-mapped addresses (::ffff:0:0/96) need no entry: IPv4 is stored in that form already.
 */
const EMBEDDINGS: readonly Embedding[] = [
  { cidr: mustParseCidr('64:ff9b::/96'), at: 12 },
  { cidr: mustParseCidr('2002::/16'), at: 2 },
];

/** A policy's answer for one address. */
export type AddressVerdict = { allowed: true } | { allowed: false; address: string; category: Exclude<AddressCategory, 'public'> };

/**
 * The default policy plus an allow-list. Entries: a CIDR (`10.0.0.0/8`, `fd00::/8`), an address
 * (`10.1.2.3`, a /32 or /128), a host name (`ocsp.internal.example`) or every name under a domain
 * (`*.internal.example`). An allowed host name is connected to whatever it resolves to: the
 * operator trusts that name. `0.0.0.0/0` and `::/0` turn the policy off for their family.
 */
export class AddressPolicy {
  /** The allow-list as given, normalized (lowercase, CIDRs as network/prefix). */
  readonly allow: readonly string[];
  private readonly cidrs: readonly Cidr[];
  private readonly names: ReadonlySet<string>;
  private readonly suffixes: readonly string[];

  /** Throws AddressPolicyError (`invalid-allow-entry`) for an entry that is not a CIDR or host name. */
  constructor(allow: readonly string[] = []) {
    const entries = allow.map(parseAllowEntry);
    this.allow = entries.map((entry) => entry.normalized);
    this.cidrs = entries.flatMap((entry) => (entry.kind === 'cidr' ? [entry.cidr] : []));
    this.names = new Set(entries.flatMap((entry) => (entry.kind === 'name' ? [entry.name] : [])));
    this.suffixes = entries.flatMap((entry) => (entry.kind === 'suffix' ? [entry.suffix] : []));
  }

  /** Is this host name on the allow-list (exactly, or under a `*.` entry)? */
  allowsHostName(hostname: string): boolean {
    const name = normalizeHostName(hostname);
    if (this.names.has(name)) return true;
    return this.suffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
  }

  /** The verdict for one IP address (no brackets; a zone index is ignored). */
  check(address: string): AddressVerdict {
    const bytes = parseIpAddress(address);
    if (bytes === undefined) return { allowed: false, address, category: 'invalid' };
    const embedded = embeddedIpv4(bytes);
    const category = categoryOf(embedded ?? bytes);
    if (category === 'public') return { allowed: true };
    if (this.cidrs.some((cidr) => contains(cidr, bytes) || (embedded !== undefined && contains(cidr, embedded)))) {
      return { allowed: true };
    }
    return { allowed: false, address, category };
  }
}

/** The category of an IP address (`invalid` when it does not parse). Exported for tests and docs. */
export function classifyAddress(address: string): AddressCategory {
  const bytes = parseIpAddress(address);
  if (bytes === undefined) return 'invalid';
  return categoryOf(embeddedIpv4(bytes) ?? bytes);
}

/**
 * Validates and normalizes allow-list entries (the CLI's `--responder-allow`); throws
 * AddressPolicyError naming the first bad entry.
 */
export function parseResponderAllow(entries: readonly string[]): string[] {
  return new AddressPolicy(entries).allow.slice();
}

/** How a refused address reads in errors: `127.0.0.1 (loopback)`. */
export function describeRefusal(verdict: Extract<AddressVerdict, { allowed: false }>): string {
  return `${verdict.address} (${verdict.category})`;
}

type AllowEntry =
  | { kind: 'cidr'; cidr: Cidr; normalized: string }
  | { kind: 'name'; name: string; normalized: string }
  | { kind: 'suffix'; suffix: string; normalized: string };

function parseAllowEntry(raw: string): AllowEntry {
  const entry = raw.trim().toLowerCase();
  const cidr = parseCidr(entry.replace(/^\[([^\]]*)\]/, '$1'));
  if (cidr !== undefined) return { kind: 'cidr', cidr, normalized: formatCidr(cidr) };
  if (entry.startsWith('*.') && isHostName(entry.slice(2))) {
    const domain = normalizeHostName(entry.slice(2));
    return { kind: 'suffix', suffix: `.${domain}`, normalized: `*.${domain}` };
  }
  // A name made of digits and dots only would be read as an IPv4 address by URL parsers: a typo.
  if (isHostName(entry) && !/^[\d.]+$/.test(entry)) {
    const name = normalizeHostName(entry);
    return { kind: 'name', name, normalized: name };
  }
  const shown = raw.length > 80 ? `${raw.slice(0, 80)}...` : raw;
  throw new AddressPolicyError(`expected a CIDR (10.0.0.0/8, fd00::/8), an address, a host name or *.domain, got ${JSON.stringify(shown)}`);
}

function normalizeHostName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** DNS name: labels of letters, digits, `-` and `_` (internal names have them), 1-63 each, 253 in all. */
function isHostName(name: string): boolean {
  const trimmed = name.replace(/\.$/, '');
  if (trimmed.length === 0 || trimmed.length > 253) return false;
  return trimmed.split('.').every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(label));
}

function categoryOf(bytes: Uint8Array): AddressCategory {
  for (const [cidr, category] of CATEGORIES) if (contains(cidr, bytes)) return category;
  return 'public';
}

/** The IPv4 address (in mapped form) inside a NAT64 or 6to4 address, else undefined. */
function embeddedIpv4(bytes: Uint8Array): Uint8Array | undefined {
  for (const { cidr, at } of EMBEDDINGS) {
    if (contains(cidr, bytes)) return mapped(bytes.subarray(at, at + 4));
  }
  return undefined;
}

function contains(cidr: Cidr, bytes: Uint8Array): boolean {
  const whole = cidr.prefix >> 3;
  for (let i = 0; i < whole; i++) if (cidr.bytes[i] !== bytes[i]) return false;
  const bits = cidr.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((cidr.bytes[whole] ?? 0) & mask) === ((bytes[whole] ?? 0) & mask);
}

function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const bytes = parseIpAddress(address);
  if (bytes === undefined || address.includes('%')) return undefined;
  const v4 = !address.includes(':');
  const max = v4 ? 32 : 128;
  const length = slash === -1 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(length) || Number(length) > max) return undefined;
  const prefix = Number(length) + (v4 ? 96 : 0);
  // Host bits are cleared, as ip(8) and Go's ParseCIDR do: 10.1.2.3/8 is 10.0.0.0/8.
  const masked = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    masked[i] = (bytes[i] ?? 0) & ((0xff << (8 - bits)) & 0xff);
  }
  return { bytes: masked, prefix };
}

function mustParseCidr(text: string): Cidr {
  const cidr = parseCidr(text);
  if (cidr === undefined) throw new TypeError(`bad built-in CIDR ${text}`);
  return cidr;
}

function formatCidr(cidr: Cidr): string {
  const v4 = cidr.prefix >= 96 && isMapped(cidr.bytes);
  if (v4) return `${[...cidr.bytes.subarray(12)].join('.')}/${cidr.prefix - 96}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((cidr.bytes[i] ?? 0) << 8) | (cidr.bytes[i + 1] ?? 0)).toString(16));
  return `${compressIpv6(groups)}/${cidr.prefix}`;
}

/** RFC 5952: the longest run (2 or more) of zero groups becomes `::`. */
function compressIpv6(groups: string[]): string {
  let best = { at: -1, length: 1 };
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j;
  }
  if (best.at === -1) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`;
}

function isMapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function mapped(ipv4: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes.set(ipv4, 12);
  return bytes;
}

/**
 * An IP address as 16 bytes (IPv4 in its mapped form), or undefined. IPv4: four decimal octets
 * without leading zeros (URL parsers normalize other forms, and resolvers return this one). IPv6:
 * RFC 4291 text forms, `::` and a trailing dotted quad included; a `%zone` suffix is ignored.
 */
export function parseIpAddress(text: string): Uint8Array | undefined {
  if (!text.includes(':')) {
    const ipv4 = parseIpv4(text);
    return ipv4 && mapped(ipv4);
  }
  return parseIpv6(text.replace(/%[^%]*$/, ''));
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    bytes[i] = Number(part);
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? '';
      if (i === parts.length - 1 && part.includes('.')) {
        const ipv4 = parseIpv4(part);
        if (!ipv4) return undefined;
        out.push(((ipv4[0] ?? 0) << 8) | (ipv4[1] ?? 0), ((ipv4[2] ?? 0) << 8) | (ipv4[3] ?? 0));
      } else if (/^[0-9a-f]{1,4}$/i.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  // A dotted quad only ends the address: in the head of a `::` form it is malformed.
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}
