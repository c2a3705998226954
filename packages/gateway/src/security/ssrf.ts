/**
 * SSRF guard for service URLs given over the admin API (`POST /register`, `PUT /services`).
 * A registration makes the gateway open connections wherever the URL points, so an admin
 * token (or a stolen one) must not turn it into a probe of the cloud metadata service or
 * of hosts only the gateway can reach. Configured services are the operator's own choice
 * and are not checked.
 *
 * Numeric tricks (`0x7f.1`, `2130706433`, `0177.0.0.1`) are decoded by the WHATWG URL
 * parser, the same one fetch uses, so what is checked is what would be dialled; ipaddr.js
 * classifies the result, unwrapping IPv4 inside IPv6 (mapped, SIIT, compatible, NAT64 with
 * both prefixes, 6to4, Teredo, ISATAP). The check runs twice: when a URL is registered
 * (`checkServiceUrl`, a clear 400), and on every connection, as its host-name lookup
 * (`guardedLookup`), which pins the connection to the addresses checked.
 */
import dns, { type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { GatewayError } from '../errors.js';

export type AddressClass =
  | { kind: 'public' }
  /** Loopback, private networks, CGNAT, unique-local, reserved: allowed by the private-network setting. */
  | { kind: 'private'; what: string }
  /** Never called: link-local, cloud metadata, unspecified, broadcast, multicast. */
  | { kind: 'blocked'; what: string };

export type UrlVerdict = { ok: true } | { ok: false; reason: string };

/** Resolves a host name to every address it has. */
export type Resolve = (hostname: string) => Promise<string[]>;

export interface UrlPolicy {
  allowPrivateNetworks: boolean;
  resolve?: Resolve;
}

const LINK_LOCAL = 'a link-local address (169.254.0.0/16, fe80::/10), where cloud metadata services live';
const METADATA = 'a cloud metadata service';

/** Metadata endpoints outside link-local: AWS IPv6 (unique-local), Alibaba (CGNAT), Azure wireserver (public). */
const METADATA_ADDRESSES = new Set(['fd00:ec2::254', '100.100.100.200', '168.63.129.16', '169.254.169.254', '169.254.170.2']);
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);
const BLOCKED_RANGES: Record<string, string> = {
  linkLocal: LINK_LOCAL,
  unspecified: 'an unspecified address (0.0.0.0/8, ::)',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
};

const v4 = (high: number | undefined, low: number | undefined) => {
  const [h, l] = [high ?? 0, low ?? 0];
  return new ipaddr.IPv4([h >> 8, h & 0xff, l >> 8, l & 0xff]);
};
/** RFC 8215's local-use NAT64 prefix (ipaddr.js counts it as `rfc6052`, but its IPv4 may sit at the /48 place too). */
const LOCAL_NAT64: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('64:ff9b:1::'), 48];

/**
 * The IPv4 addresses an IPv6 address carries, each a host it may reach, and whether the
 * IPv6 address is only a translation of them (then they alone decide) or a tunnel through
 * another host (then the outer address counts too). ipaddr.js names the ranges; where the
 * IPv4 sits in each is the RFC's.
 */
function embeddedIpv4(address: ipaddr.IPv6): { inner: ipaddr.IPv4[]; translation: boolean } | undefined {
  const p = address.parts;
  if (address.match(LOCAL_NAT64)) {
    // RFC 8215 leaves the prefix length to the operator: both the /48 place (RFC 6052 2.2)
    // and the /96 one count. The place left all zeros is the unused one, unless both are.
    const [p3, p4, p5] = [p[3] ?? 0, p[4] ?? 0, p[5] ?? 0];
    const places = [new ipaddr.IPv4([p3 >> 8, p3 & 0xff, p4 & 0xff, p5 >> 8]), v4(p[6], p[7])];
    const used = places.filter((place) => place.toString() !== '0.0.0.0');
    return { inner: used.length === 0 ? places : used, translation: true };
  }
  switch (address.range()) {
    case 'rfc6145': // SIIT, IPv4-translated ::ffff:0:a.b.c.d (RFC 6145)
    case 'rfc6052': // NAT64 well-known prefix 64:ff9b::/96
      return { inner: [v4(p[6], p[7])], translation: true };
    case '6to4': // 2002:AABB:CCDD::/48 (RFC 3056)
      return { inner: [v4(p[1], p[2])], translation: true };
    case 'teredo': // 2001:0::/32: the server's IPv4, then the client's, inverted (RFC 4380)
      return { inner: [v4(p[2], p[3]), v4(~(p[6] ?? 0) & 0xffff, ~(p[7] ?? 0) & 0xffff)], translation: false };
  }
  if (p.slice(0, 6).every((part) => part === 0) && address.range() !== 'unspecified' && address.range() !== 'loopback') {
    return { inner: [v4(p[6], p[7])], translation: true }; // IPv4-compatible ::a.b.c.d (deprecated)
  }
  if (p[5] === 0x5efe && ((p[4] ?? 0) & 0xfcff) === 0) return { inner: [v4(p[6], p[7])], translation: false }; // ISATAP (RFC 5214)
  return undefined;
}

const SEVERITY: Record<AddressClass['kind'], number> = { public: 0, private: 1, blocked: 2 };
const worst = (verdicts: AddressClass[]): AddressClass => verdicts.reduce((a, b) => (SEVERITY[b.kind] > SEVERITY[a.kind] ? b : a));

/** Classifies one IP address literal (IPv6 with or without brackets). */
export function classifyAddress(literal: string): AddressClass {
  const bare = literal.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return { kind: 'blocked', what: 'an address that is not a valid IP address' };
  const address = ipaddr.process(bare); // IPv4-mapped IPv6 becomes IPv4 here
  if (METADATA_ADDRESSES.has(address.toString())) return { kind: 'blocked', what: METADATA };
  const range = address.range();
  const outer: AddressClass =
    BLOCKED_RANGES[range] !== undefined
      ? { kind: 'blocked', what: BLOCKED_RANGES[range] }
      : range === 'unicast'
        ? { kind: 'public' }
        : { kind: 'private', what: range === 'loopback' ? 'a loopback address' : 'a private-network or reserved address' };
  if (address.kind() === 'ipv6') {
    const embedded = embeddedIpv4(address as ipaddr.IPv6);
    if (embedded !== undefined) {
      const inner = embedded.inner.map((ipv4) => classifyAddress(ipv4.toString()));
      return worst(embedded.translation ? inner : [outer, ...inner]);
    }
  }
  return outer;
}

// Read from the module at each call, not bound at import: a resolver installed at start-up (a preload) is the one used.
const defaultResolve: Resolve = async (hostname) => (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** Every address must pass, or one answer of a round-robin could still reach a blocked host. */
function checkAddresses(subject: string, addresses: string[], policy: Pick<UrlPolicy, 'allowPrivateNetworks'>): UrlVerdict {
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (verdict.kind === 'blocked') return { ok: false, reason: `${subject} ${verdict.what}; the gateway never calls those` };
    if (verdict.kind === 'private' && !policy.allowPrivateNetworks) {
      return { ok: false, reason: `${subject} ${verdict.what}, and MESHGATE_ALLOW_PRIVATE_NETWORKS is false` };
    }
  }
  return { ok: true };
}

/** The error a connection to a refused address fails with (its code names it for error classification). */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  readonly code = 'ERR_ADDRESS_REFUSED';
}

/**
 * The host-name lookup of every connection to a registered service (net.connect's
 * `lookup`, given to undici's `connect`): it resolves once, checks every address with the
 * same guard as the registration, and hands the connection exactly the addresses it
 * checked. What is dialled is what was checked, so a name whose DNS answer changes after
 * the registration (rebinding), or a name the registration check could not see through,
 * cannot lead the gateway to a refused address. IP literals are never looked up: the
 * registration check saw them as they are.
 */
export function guardedLookup(policy: Pick<UrlPolicy, 'allowPrivateNetworks'>): LookupFunction {
  return function lookupAndCheck(hostname, options, callback) {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error !== null) return callback(error, '', 0);
      const verdict = checkAddresses(
        `host ${JSON.stringify(hostname)} resolves to`,
        addresses.map((entry) => entry.address),
        policy,
      );
      if (!verdict.ok) return callback(new AddressRefusedError(verdict.reason), '', 0);
      const [first] = addresses;
      if (options.all === true) callback(null, addresses);
      else if (first === undefined) callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * Checks where a service URL would connect. Every address the name resolves to must pass,
 * or one answer of a round-robin could still reach a blocked host. A name that does not
 * exist passes: the connection attempt then fails with its own clear error (502).
 * Reasons name what the address is, never the address a name resolved to.
 */
export async function checkServiceUrl(raw: string, policy: UrlPolicy): Promise<UrlVerdict> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: '"url" is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: '"url" must use http or https' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: '"url" must not contain user:password' };
  const hostname = url.hostname.toLowerCase().replace(/\.$/, '');
  if (METADATA_NAMES.has(hostname)) return { ok: false, reason: `"url" points to ${METADATA}; the gateway never calls those` };

  const literal = ipaddr.isValid(hostname.replace(/^\[|\]$/g, ''));
  let addresses: string[];
  // Every name is resolved, `localhost` and `*.localhost` too: whatever the resolver
  // answers for them is what a connection would dial.
  if (literal) addresses = [hostname];
  else {
    try {
      addresses = await (policy.resolve ?? defaultResolve)(hostname);
    } catch (error) {
      // A name that does not exist cannot be connected to either. Any other failure (a DNS
      // server timing out) proves nothing: the connection's own lookup might succeed.
      if ((error as NodeJS.ErrnoException).code === 'ENOTFOUND') return { ok: true };
      return { ok: false, reason: `"url" host ${JSON.stringify(hostname)} could not be resolved to check it; try again` };
    }
  }
  return checkAddresses(literal ? '"url" points to' : `"url" host ${JSON.stringify(hostname)} resolves to`, addresses, policy);
}

/** `checkServiceUrl` as a step of a route: throws `invalid_url` with the reason. */
export function serviceUrlGuard(policy: UrlPolicy): (url: string) => Promise<void> {
  return async function guardServiceUrl(url) {
    const verdict = await checkServiceUrl(url, policy);
    if (!verdict.ok) throw new GatewayError('invalid_url', verdict.reason);
  };
}
