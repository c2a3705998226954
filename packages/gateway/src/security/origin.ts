/**
 * Origin and Host checks against DNS rebinding (MCP transport spec: "Servers MUST validate
 * the Origin header"). A page on evil.example whose name was re-pointed at the gateway's
 * address sends `Origin: http://evil.example` and `Host: evil.example:3001`; a request
 * from curl, an SDK client or another service sends no Origin at all.
 */

export interface OriginPolicy {
  /** `loopback`: pages served from localhost, 127.0.0.1 or [::1] on any port; `*`: any; else exact origins. */
  readonly origins: 'loopback' | '*' | readonly string[];
  /** `*`: any Host; else host names, each optionally with `:port` (without a port, any port matches). */
  readonly hosts: '*' | readonly string[];
}

export type GuardResult = { ok: true } | { ok: false; message: string };

/** Host names that always mean this machine (bracketed as they appear in a Host header or a URL). */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

const OK: GuardResult = { ok: true };
const quote = (value: string): string => JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);

/** Checks an Origin header. No Origin is allowed: only browsers send one, and they always do cross-site. */
export function checkOrigin(origin: string | undefined, allowed: OriginPolicy['origins']): GuardResult {
  if (origin === undefined || allowed === '*') return OK;
  const refused: GuardResult = { ok: false, message: `Forbidden: Origin ${quote(origin)} is not allowed; see MESHGATE_ALLOWED_ORIGINS` };
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return refused; // includes the opaque origin "null" of sandboxed frames and file:// pages
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refused;
  if (allowed === 'loopback') return LOOPBACK_HOSTS.includes(url.hostname) ? OK : refused;
  return allowed.includes(url.origin) ? OK : refused;
}

/** Splits `name[:port]` (IPv6 names bracketed) into a lowercase name and an optional port. */
export function splitHost(value: string): { name: string; port: string | undefined } {
  const lower = value.trim().toLowerCase();
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(lower);
  if (match === null) return { name: lower, port: undefined };
  const name = (match[1] ?? '').replace(/\.$/, '');
  return { name, port: match[2] === undefined || match[2] === '' ? undefined : match[2] };
}

/** The allowed hosts split once per list: checkHost runs on every request. */
const splitLists = new WeakMap<readonly string[], Array<ReturnType<typeof splitHost>>>();
function splitAllowed(allowed: readonly string[]): Array<ReturnType<typeof splitHost>> {
  let split = splitLists.get(allowed);
  if (split === undefined) {
    split = allowed.map(splitHost);
    splitLists.set(allowed, split);
  }
  return split;
}

/**
 * True when a request carries more than one Host header (node keeps the first and drops
 * the rest). RFC 9112 §3.2: a server must answer 400; two hosts mean two readings of
 * which site is asked, which is what request smuggling and cache poisoning play on.
 */
export function hasRepeatedHost(rawHeaders: readonly string[]): boolean {
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name !== undefined && name.length === 4 && name.toLowerCase() === 'host') seen += 1;
  }
  return seen > 1;
}

/** Checks a Host header against the allowed host names. */
export function checkHost(host: string | undefined, allowed: OriginPolicy['hosts']): GuardResult {
  if (allowed === '*') return OK;
  if (host === undefined || host.trim() === '') return { ok: false, message: 'Forbidden: the request has no Host header' };
  const { name, port } = splitHost(host);
  const matches = splitAllowed(allowed).some((wanted) => wanted.name === name && (wanted.port === undefined || wanted.port === port));
  return matches ? OK : { ok: false, message: `Forbidden: Host ${quote(host)} is not allowed; see MESHGATE_ALLOWED_HOSTS` };
}
