import type { Role } from './tokens.js';

/** The zero-configuration mapping of OAuth scopes to gateway roles. */
export const DEFAULT_SCOPE_MAP = 'mcp:tools=client,mcp:admin=admin';

// RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. Scopes end up
// inside quoted WWW-Authenticate parameters, so nothing else may get through.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const ROLES: ReadonlySet<string> = new Set<Role>(['admin', 'client']);

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Which OAuth scope grants which gateway role. Several scopes may grant one role; the
 * first one listed for a role is the one a 403 challenge asks for.
 */
export class ScopeMap {
  readonly #roles: ReadonlyMap<string, Role>;

  constructor(entries: Iterable<readonly [string, Role]>) {
    this.#roles = new Map(entries);
  }

  /** Parses `scope=role,scope=role` (the MESHGATE_JWT_SCOPES format). */
  static parse(text: string): ParseResult<ScopeMap> {
    const entries: [string, Role][] = [];
    for (const pair of text
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')) {
      const [scope = '', role = '', ...rest] = pair.split('=').map((part) => part.trim());
      if (rest.length > 0 || !SCOPE_TOKEN.test(scope) || !ROLES.has(role)) {
        return { ok: false, message: `"${pair.slice(0, 80)}" is not scope=role with role admin or client` };
      }
      entries.push([scope, role as Role]);
    }
    if (entries.length === 0) return { ok: false, message: 'lists no scope=role pair' };
    return { ok: true, value: new ScopeMap(entries) };
  }

  /** The roles a token with these scopes has; unknown scopes grant nothing. */
  rolesOf(scopes: Iterable<string>): Set<Role> {
    const roles = new Set<Role>();
    for (const scope of scopes) {
      const role = this.#roles.get(scope);
      if (role !== undefined) roles.add(role);
    }
    return roles;
  }

  /** The scope to ask for when a token lacks `role`. */
  scopeFor(role: Role): string | undefined {
    for (const [scope, granted] of this.#roles) if (granted === role) return scope;
    return undefined;
  }

  /** Every scope the gateway understands, for the protected resource metadata. */
  get supported(): string[] {
    return [...this.#roles.keys()];
  }
}

/** The scopes of a JWT: `scope` (RFC 8693/9068, space-separated) or `scp` (list or string). */
export function scopesOfClaims(claims: Record<string, unknown>): string[] {
  const scopes: string[] = [];
  for (const value of [claims['scope'], claims['scp']]) {
    if (typeof value === 'string') scopes.push(...value.split(' ').filter((scope) => scope !== ''));
    else if (Array.isArray(value)) scopes.push(...value.filter((scope): scope is string => typeof scope === 'string'));
  }
  return scopes;
}
