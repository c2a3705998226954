/**
 * SSRF guard for service URLs given over the admin API (`POST /register`, `PUT /services`).
 * A registration makes the gateway open connections wherever the URL points, so an admin
 * token (or a stolen one) must not turn it into a probe of the cloud metadata service or
 * of hosts only the gateway can reach. Configured services are the operator's own choice
 * and are not checked.
 *
 * Numeric tricks (`0x7f.1`, `2130706433`, `0177.0.0.1`) are decoded by the WHATWG URL
 * parser, the same one fetch uses, so what is checked is what would be dialled; ipaddr.js
 * classifies the result, unwrapping IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4).
 */
import { lookup } from 'node:dns/promises';
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

/** The IPv4 address carried inside an IPv6 one (compatible `::a.b.c.d`, NAT64, 6to4), if any. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const parts = address.parts;
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const range = address.range();
  if (range === 'rfc6052') return v4(parts[6] ?? 0, parts[7] ?? 0);
  if (range === '6to4') return v4(parts[1] ?? 0, parts[2] ?? 0);
  if (parts.slice(0, 6).every((part) => part === 0) && range !== 'unspecified' && range !== 'loopback') return v4(parts[6] ?? 0, parts[7] ?? 0);
  return undefined;
}

/** Classifies one IP address literal (IPv6 with or without brackets). */
export function classifyAddress(literal: string): AddressClass {
  const bare = literal.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return { kind: 'blocked', what: 'an address that is not a valid IP address' };
  const address = ipaddr.process(bare); // IPv4-mapped IPv6 becomes IPv4 here
  if (METADATA_ADDRESSES.has(address.toString())) return { kind: 'blocked', what: METADATA };
  if (address.kind() === 'ipv6') {
    const inner = embeddedIpv4(address as ipaddr.IPv6);
    if (inner !== undefined) return classifyAddress(inner.toString());
  }
  const range = address.range();
  const blocked = BLOCKED_RANGES[range];
  if (blocked !== undefined) return { kind: 'blocked', what: blocked };
  if (range === 'unicast') return { kind: 'public' };
  return { kind: 'private', what: range === 'loopback' ? 'a loopback address' : 'a private-network or reserved address' };
}

const defaultResolve: Resolve = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

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
  if (literal) addresses = [hostname];
  else if (hostname === 'localhost' || hostname.endsWith('.localhost')) addresses = ['127.0.0.1'];
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
  const subject = literal ? '"url" points to' : `"url" host ${JSON.stringify(hostname)} resolves to`;
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (verdict.kind === 'blocked') return { ok: false, reason: `${subject} ${verdict.what}; the gateway never calls those` };
    if (verdict.kind === 'private' && !policy.allowPrivateNetworks) {
      return { ok: false, reason: `${subject} ${verdict.what}, and MESHGATE_ALLOW_PRIVATE_NETWORKS is false` };
    }
  }
  return { ok: true };
}

/** `checkServiceUrl` as a step of a route: throws `invalid_url` with the reason. */
export function serviceUrlGuard(policy: UrlPolicy): (url: string) => Promise<void> {
  return async function guardServiceUrl(url) {
    const verdict = await checkServiceUrl(url, policy);
    if (!verdict.ok) throw new GatewayError('invalid_url', verdict.reason);
  };
}
