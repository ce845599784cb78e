import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import type { AddressPolicy } from './address-policy.js';
import { AddressRefusedError } from './errors.js';

/** `dns.lookup`'s shape with `all: true`, the only form the policy lookup calls. */
export type ResolveAll = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: Error | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolve: ResolveAll = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * The undici connector that enforces the address policy where the address is finally known: when
 * connecting. An IP-literal host is checked before anything is opened (net.connect skips the lookup
 * for literals); a name goes through a lookup that resolves every address, keeps the allowed ones
 * and fails with AddressRefusedError when none is left, so the socket only ever connects to an
 * address that passed, whatever the name resolves to next time (DNS rebinding). Refusals are
 * reported through the connect callback: undici fails the request with that error, and no
 * connection is attempted.
 */
export function policyConnector(
  policy: AddressPolicy,
  connectTimeoutMs: number,
  resolve: ResolveAll = systemResolve,
): buildConnector.connector {
  const connect = buildConnector({ timeout: connectTimeoutMs, lookup: policyLookup(policy, resolve) });
  return (options, callback) => {
    const hostname = options.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(hostname) !== 0) {
      const verdict = policy.check(hostname);
      if (!verdict.allowed) {
        callback(new AddressRefusedError(hostname, verdict), null);
        return;
      }
    }
    connect(options, callback);
  };
}

/**
 * A `lookup` for net.connect that checks every resolved address. Node asks for one address
 * (`all` unset) or, with autoSelectFamily (Node 20's default), for all of them; both are answered
 * from the allowed addresses only, in the resolver's order. A host name on the allow-list is
 * resolved and connected to as is.
 */
export function policyLookup(policy: AddressPolicy, resolve: ResolveAll = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '');
        return;
      }
      const allowed = policy.allowsHostName(hostname) ? addresses : addresses.filter((a) => policy.check(a.address).allowed);
      const first = allowed[0];
      if (first === undefined) {
        const refused = addresses[0];
        const verdict = refused === undefined ? undefined : policy.check(refused.address);
        // No address at all is a resolver failure (ENOTFOUND); dns.lookup reports it so itself.
        callback(
          verdict && !verdict.allowed
            ? new AddressRefusedError(hostname, verdict)
            : Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }),
          '',
        );
        return;
      }
      if (options.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}
