import type { ScopeMap } from './scopes.js';
import type { GatewayIdentity, Role } from './tokens.js';

/** Where the gateway's protected resource metadata (RFC 9728) is served. */
export const METADATA_PATH = '/.well-known/oauth-protected-resource';

/** What the gateway says about itself as an OAuth protected resource. */
export interface ResourceOptions {
  /** The canonical URL of the MCP endpoint; when absent it is taken from the request. */
  resourceUrl?: string;
  /** The authorization server whose JWTs the gateway accepts, if any. */
  issuer?: string;
  scopes: ScopeMap;
}

/** What a route needs: one role, or any role at all (reading the service list). */
export type RoleNeed = Role | 'any';

export type AuthorizeResult = { ok: true } | { ok: false; message: string; scope?: string };

/**
 * The resource identifier (RFC 8707) of an MCP endpoint (`/mcp`, or a virtual server's
 * `/servers/{name}/mcp`): the configured URL, else the origin the request reached, which
 * only a Host check in front makes trustworthy. A virtual server's endpoint sits beside
 * the configured `/mcp`: same origin and base path.
 */
export function resourceUrlFor(requestUrl: string, options: ResourceOptions, endpoint = '/mcp'): string {
  if (options.resourceUrl === undefined) return `${new URL(requestUrl).origin}${endpoint}`;
  if (endpoint === '/mcp') return options.resourceUrl;
  return `${options.resourceUrl.replace(/\/mcp\/?$/, '').replace(/\/$/, '')}${endpoint}`;
}

/** RFC 9728 §3.1: the well-known segment goes between the origin and the resource's path. */
export function metadataUrlFor(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}${METADATA_PATH}${path}`;
}

/** The protected resource metadata document (RFC 9728 §2). */
export function protectedResourceMetadata(resource: string, options: ResourceOptions): Record<string, unknown> {
  return {
    resource,
    ...(options.issuer === undefined ? {} : { authorization_servers: [options.issuer] }),
    scopes_supported: options.scopes.supported,
    bearer_methods_supported: ['header'],
    resource_name: 'Meshgate MCP gateway',
  };
}

/** Checks that a caller has what a route needs; the failure names the scope to ask for. */
export function authorize(identity: GatewayIdentity, need: RoleNeed, scopes: ScopeMap): AuthorizeResult {
  if (need === 'any' ? identity.roles.size > 0 : identity.roles.has(need)) return { ok: true };
  const role: Role = need === 'any' ? 'client' : need;
  const scope = scopes.scopeFor(role);
  return {
    ok: false,
    message: `Forbidden: this needs a token with the ${role} role${scope === undefined ? '' : ` (scope ${scope})`}`,
    ...(scope === undefined ? {} : { scope }),
  };
}

/** A `WWW-Authenticate: Bearer` value from parameters (values are URLs, scopes, fixed words). */
export function bearerChallenge(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return `Bearer ${parts.map(([key, value]) => `${key}="${value}"`).join(', ')}`;
}

/**
 * Which role an admin API call needs: reading the services (GET, and the seed's
 * `POST /services`) needs any role; registering, changing and removing need admin.
 */
export function adminApiNeed(method: string, path: string): RoleNeed {
  // The audit log names every caller and what they called: admins only, reading included.
  if (path === '/audit' || path.startsWith('/audit/')) return 'admin';
  if (method === 'GET' || method === 'HEAD') return 'any';
  if (method === 'POST' && path.replace(/\/$/, '') === '/services') return 'any';
  return 'admin';
}
