/**
 * Federated names. An item keeps its upstream name (or URI) when no earlier service owns
 * it; otherwise it is exposed under its qualified form, and every item also answers to
 * its qualified form. Service names match SERVICE_NAME_PATTERN, which has no underscore
 * and no slash, so both qualified forms are unambiguous and reversible:
 *
 * - tools and prompts: `<service>__<name>`
 * - resources and resource templates: `meshgate://<service>/<uri>` (the URI kept verbatim)
 */

import { createHash } from 'node:crypto';

export const SERVICE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** What model providers accept as a tool name; every tool name the gateway exposes matches it. */
export const SAFE_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const ALIAS_MAX = 64;
/** Hex digits of the alias digest; more only when an alias would collide. */
export const ALIAS_DIGEST_CHARS = 10;
export const NAMESPACE_SEPARATOR = '__';
export const URI_NAMESPACE = 'meshgate://';

export function isValidServiceName(name: string): boolean {
  return SERVICE_NAME_PATTERN.test(name);
}

/** An upstream key in the qualified form, split back into its parts. */
export interface Qualified {
  service: string;
  upstreamName: string;
}

/** How one kind of item is keyed and renamed. */
export interface NamingScheme<T> {
  /** The upstream key: a name or a URI (template). */
  key(item: T): string;
  /** The item as exposed under another key; everything else untouched. */
  rename(item: T, exposed: string): T;
  qualify(service: string, upstreamName: string): string;
  unqualify(exposed: string): Qualified | undefined;
}

/** `shopping-service` + `getProductById` -> `shopping-service__getProductById`. */
export function qualify(service: string, upstreamName: string): string {
  return `${service}${NAMESPACE_SEPARATOR}${upstreamName}`;
}

/** The reverse of `qualify`, or undefined when the name is not qualified by a valid service name. */
export function unqualify(name: string): Qualified | undefined {
  const at = name.indexOf(NAMESPACE_SEPARATOR);
  if (at <= 0) return undefined;
  const service = name.slice(0, at);
  const upstreamName = name.slice(at + NAMESPACE_SEPARATOR.length);
  if (!isValidServiceName(service) || upstreamName === '') return undefined;
  return { service, upstreamName };
}

/** `docs` + `file:///a.md` -> `meshgate://docs/file:///a.md`. */
export function qualifyUri(service: string, uri: string): string {
  return `${URI_NAMESPACE}${service}/${uri}`;
}

/** The reverse of `qualifyUri`. */
export function unqualifyUri(exposed: string): Qualified | undefined {
  if (!exposed.startsWith(URI_NAMESPACE)) return undefined;
  const rest = exposed.slice(URI_NAMESPACE.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const service = rest.slice(0, slash);
  const upstreamName = rest.slice(slash + 1);
  if (!isValidServiceName(service) || upstreamName === '') return undefined;
  return { service, upstreamName };
}

/** Tools and prompts: keyed by `name`. */
export function byName<T extends { name: string }>(): NamingScheme<T> {
  return { key: (item) => item.name, rename: (item, exposed) => ({ ...item, name: exposed }), qualify, unqualify };
}

/** Resources: keyed by `uri`. */
export function byUri<T extends { uri: string }>(): NamingScheme<T> {
  return { key: (item) => item.uri, rename: (item, exposed) => ({ ...item, uri: exposed }), qualify: qualifyUri, unqualify: unqualifyUri };
}

/** Resource templates: keyed by `uriTemplate`. */
export function byUriTemplate<T extends { uriTemplate: string }>(): NamingScheme<T> {
  return { key: (item) => item.uriTemplate, rename: (item, exposed) => ({ ...item, uriTemplate: exposed }), qualify: qualifyUri, unqualify: unqualifyUri };
}

export function isSafeToolName(name: string): boolean {
  return SAFE_TOOL_NAME.test(name);
}

/**
 * The alias of a tool name that is not safe (too long, or with characters providers
 * refuse), exposed in its place: the name with every unsafe character made `_`, cut so
 * that `_` and a digest fit in 64 characters, then `_` and the first `digestChars` hex
 * digits of SHA-256 over the service, a NUL and the upstream name. It depends on nothing
 * but those two, so it is the same on every restart and replica; the catalog maps it back
 * to the service and the exact upstream name. `digestChars` grows (the catalog retries)
 * only when two aliases, or an alias and a real name, would be the same.
 */
export function toolAlias(service: string, upstreamName: string, shown: string = upstreamName, digestChars = ALIAS_DIGEST_CHARS): string {
  const digest = createHash('sha256').update(service).update('\0').update(upstreamName).digest('hex').slice(0, digestChars);
  const prefix = shown.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, ALIAS_MAX - 1 - digest.length);
  return `${prefix}_${digest}`;
}
